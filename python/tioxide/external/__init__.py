"""Optional dependencies, imported when a feature needs them (TorchIO 2's
``torchio.external``)."""
