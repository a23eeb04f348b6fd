//! Bindings for `tioxide::draw`: one torch-equal weighted draw.

use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::prelude::*;
use tioxide::draw::{multinomial_one, Mt19937};

use crate::errors::to_py;

/// Draw like `torch.multinomial(p, 1, generator=generator)` for a float32
/// `p` of `length` elements, non-zero only at `indices` (increasing) with
/// `weights`, and advance `generator` as that would. `None` (nothing drawn)
/// if the generator's state is not laid out as expected.
///
/// The GIL is held from reading the generator's state to writing it back,
/// but torch's own draws run without the GIL, under the generator's lock,
/// which Python cannot take: a draw by another thread in between would be
/// overwritten. The Python caller therefore comes here only when no other
/// Python thread is alive.
#[pyfunction]
pub fn multinomial_one_draw(
    generator: &Bound<'_, PyAny>,
    length: u64,
    indices: PyReadonlyArray1<'_, u64>,
    weights: PyReadonlyArray1<'_, f32>,
) -> PyResult<Option<u64>> {
    let state = generator.call_method0("get_state")?;
    let mut bytes: PyReadwriteArray1<'_, u8> = state.call_method0("numpy")?.extract()?;
    let Some(mut rng) = Mt19937::from_torch_state(bytes.as_slice()?) else {
        return Ok(None);
    };
    let index = multinomial_one(&mut rng, length, indices.as_slice()?, weights.as_slice()?)
        .map_err(to_py)?;
    rng.write_torch_state(bytes.as_slice_mut()?);
    drop(bytes);
    generator.call_method1("set_state", (state,))?;
    Ok(Some(index))
}
