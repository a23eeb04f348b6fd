"""Run TorchIO's own tests against tioxide (``torchio`` aliased to ``tioxide``).

TorchIO's tests are not on PyPI (its sdist has none) and are not part of this
repository; point this script at a checkout's ``tests`` folder::

    python scripts/torchio_suite.py /path/to/torchio/tests [pytest args...]

It runs the tests twice, against the installed torchio and with every
``torchio`` module replaced by its tioxide counterpart, and lists the tests
that pass on torchio and fail on tioxide (exit status 1 if there are any).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: A pytest plugin module that makes ``import torchio`` give tioxide.
ALIAS = """
import importlib, pkgutil, sys
import tioxide

sys.modules["torchio"] = tioxide
for info in pkgutil.walk_packages(tioxide.__path__, prefix="tioxide."):
    module = importlib.import_module(info.name)
    sys.modules["torchio." + info.name[len("tioxide."):]] = module


def pytest_report_header(config):
    import torchio
    return f"torchio is {torchio.__name__} ({torchio.__file__})"
"""


def passed(tests: Path, extra: list[str], plugin_dir: str | None) -> set[str]:
    """The ids of the tests that pass in one run."""
    env = dict(os.environ)
    # A file that imports private TorchIO helpers tioxide lacks must not stop the run.
    command = [
        *(sys.executable, "-m", "pytest", str(tests), "-q", "-rA", "-p", "no:cacheprovider"),
        "--continue-on-collection-errors",
    ]
    if plugin_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugin_dir, env.get("PYTHONPATH")]))
        command += ["-p", "tioxide_as_torchio"]
    run = subprocess.run(
        [*command, *extra], cwd=tests.parent, env=env, capture_output=True, text=True
    )
    lines = run.stdout.splitlines()
    print(next((line for line in reversed(lines) if " in " in line), run.stderr[-500:]))
    return {line.split()[1] for line in lines if line.startswith("PASSED ")}


def main() -> int:
    if len(sys.argv) < 2 or not Path(sys.argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    tests = Path(sys.argv[1]).resolve()
    extra = sys.argv[2:]
    print("torchio:")
    theirs = passed(tests, extra, None)
    with tempfile.TemporaryDirectory() as plugin_dir:
        Path(plugin_dir, "tioxide_as_torchio.py").write_text(ALIAS)
        print("tioxide as torchio:")
        ours = passed(tests, extra, plugin_dir)
    missing = sorted(theirs - ours)
    print(f"{len(theirs)} pass on torchio; {len(theirs) - len(missing)} of them on tioxide")
    for test in missing:
        print(f"  fails on tioxide: {test}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
