//! Bindings for `tioxide::draw`: one torch-equal weighted draw.

use numpy::{PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tioxide::draw::{multinomial_one, Mt19937, STATE_WORDS};

use crate::errors::to_py;

/// Draw like `torch.multinomial(p, 1)` from the generator whose 624 state
/// words are `words` (updated in place) with `used` of them read; `p` has
/// `length` elements, non-zero only at `indices` (increasing) with `weights`.
/// Returns the drawn index and the new `used`.
#[pyfunction]
pub fn multinomial_one_draw(
    mut words: PyReadwriteArray1<'_, u32>,
    used: usize,
    length: u64,
    indices: PyReadonlyArray1<'_, u64>,
    weights: PyReadonlyArray1<'_, f32>,
) -> PyResult<(u64, usize)> {
    let words = words.as_slice_mut()?;
    let state: [u32; STATE_WORDS] = words
        .try_into()
        .map_err(|_| PyValueError::new_err(format!("need {STATE_WORDS} state words")))?;
    if used > STATE_WORDS {
        return Err(PyValueError::new_err(format!(
            "{used} state words read of {STATE_WORDS}"
        )));
    }
    let mut rng = Mt19937 { words: state, used };
    let (indices, weights) = (indices.as_slice()?, weights.as_slice()?);
    // Holding the GIL on purpose: the caller read the generator's state and
    // writes it back after this, and a Python thread drawing from the same
    // generator in between would have its numbers reused.
    let index = multinomial_one(&mut rng, length, indices, weights).map_err(to_py)?;
    words.copy_from_slice(&rng.words);
    Ok((index, rng.used))
}
