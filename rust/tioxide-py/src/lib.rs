//! Python bindings for the tioxide core: conversion, errors and GIL release only.

mod blocks;
mod draw;
mod errors;
mod gz;
mod header;
mod io;
mod ndarray;
mod reorder;
mod stream;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<header::PyNiftiHeader>()?;
    m.add_class::<blocks::ScratchArray>()?;
    m.add_class::<blocks::PyPendingNifti>()?;
    m.add_function(wrap_pyfunction!(header::read_header, m)?)?;
    m.add_function(wrap_pyfunction!(header::read_shape, m)?)?;
    m.add_function(wrap_pyfunction!(io::read, m)?)?;
    m.add_function(wrap_pyfunction!(io::read_slices, m)?)?;
    m.add_function(wrap_pyfunction!(io::read_many, m)?)?;
    m.add_function(wrap_pyfunction!(io::prefetch, m)?)?;
    m.add_function(wrap_pyfunction!(io::release, m)?)?;
    m.add_function(wrap_pyfunction!(io::write, m)?)?;
    m.add_function(wrap_pyfunction!(io::clear_cache, m)?)?;
    m.add_function(wrap_pyfunction!(reorder::copy_c_order, m)?)?;
    m.add_function(wrap_pyfunction!(gz::build_index, m)?)?;
    m.add_function(wrap_pyfunction!(draw::multinomial_one_draw, m)?)?;
    m.add_function(wrap_pyfunction!(stream::read_stream, m)?)?;
    m.add_function(wrap_pyfunction!(stream::read_header_stream, m)?)?;
    m.add_function(wrap_pyfunction!(gz::sidecar_path, m)?)?;
    m.add_function(wrap_pyfunction!(gz::configure, m)?)?;
    m.add_function(wrap_pyfunction!(gz::cache_stats, m)?)?;
    m.add_function(wrap_pyfunction!(gz::clear_gz_cache, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // benches/compare.py refuses to time anything but an optimised build.
    m.add(
        "__build_profile__",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    Ok(())
}
