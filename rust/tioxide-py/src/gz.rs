//! The seek index of `.nii.gz` files: build, save, inspect, configure.

use std::collections::HashMap;
use std::path::PathBuf;

use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;
use tioxide::gz;

use crate::errors::to_py;

/// `(points, span, complete, covered, memory)` of an index.
type Info = (usize, u64, bool, u64, usize);

fn info(i: &tioxide::IndexInfo) -> Info {
    (i.points, i.span, i.complete, i.covered, i.memory)
}

/// Issue the core's pending warnings (sidecars ignored ...) as Python warnings.
pub fn flush_warnings(py: Python<'_>) -> PyResult<()> {
    for message in gz::take_warnings() {
        let category = py.get_type::<PyUserWarning>();
        let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &category, &text, 2)?;
    }
    Ok(())
}

/// Index a whole gzip file; with `save`, write the sidecar (at `sidecar`
/// or next to the file). Returns the index's info and the sidecar path.
#[pyfunction]
#[pyo3(signature = (path, save=false, sidecar=None))]
pub fn build_index(
    py: Python<'_>,
    path: PathBuf,
    save: bool,
    sidecar: Option<PathBuf>,
) -> PyResult<(Info, Option<PathBuf>)> {
    let result = py.detach(|| {
        let target = save.then_some(sidecar.as_deref());
        tioxide::index_gz_file(&path, target)
    });
    flush_warnings(py)?;
    let (i, saved) = result.map_err(to_py)?;
    Ok((info(&i), saved))
}

/// Where the sidecar index of `path` lives.
#[pyfunction]
pub fn sidecar_path(path: PathBuf) -> PathBuf {
    gz::sidecar_path(&path)
}

/// Set the span of new indexes, the cache budgets, the inflate threads and
/// the `.nii` maps' budget (None keeps a value).
#[pyfunction]
#[pyo3(signature = (span=None, index_cache_bytes=None, chunk_cache_bytes=None, threads=None, map_bytes=None))]
pub fn configure(
    span: Option<u64>,
    index_cache_bytes: Option<usize>,
    chunk_cache_bytes: Option<usize>,
    threads: Option<usize>,
    map_bytes: Option<u64>,
) {
    if let Some(s) = span {
        gz::set_span(s);
    }
    if let Some(bytes) = map_bytes {
        tioxide::mapped::set_budget(bytes);
    }
    if let Some(n) = threads {
        gz::set_threads(n);
    }
    gz::set_cache_budgets(index_cache_bytes, chunk_cache_bytes);
}

/// Counters of the index and chunk caches, the current span and thread count.
#[pyfunction]
pub fn cache_stats() -> HashMap<&'static str, HashMap<&'static str, u64>> {
    let (indexes, chunks, streams) = gz::cache_stats();
    let table = |s: gz::LruStats| {
        HashMap::from([
            ("entries", s.entries as u64),
            ("bytes", s.bytes as u64),
            ("budget", s.budget as u64),
            ("hits", s.hits),
            ("misses", s.misses),
        ])
    };
    HashMap::from([
        ("indexes", table(indexes)),
        ("chunks", table(chunks)),
        ("streams", table(streams)),
        ("span", HashMap::from([("bytes", gz::span())])),
        ("threads", HashMap::from([("count", gz::threads() as u64)])),
        (
            "spare",
            HashMap::from([("bytes", tioxide::pool::held() as u64)]),
        ),
        (
            "maps",
            HashMap::from([
                ("bytes", tioxide::mapped::held()),
                ("budget", tioxide::mapped::budget()),
            ]),
        ),
    ])
}

/// Drop every cached index and inflated chunk, and the spare buffer.
#[pyfunction]
pub fn clear_gz_cache() {
    gz::clear_caches();
    tioxide::pool::clear();
}
