//! One weighted draw equal to PyTorch's CPU `torch.multinomial(p, 1)`, without
//! materialising one exponential variate per voxel.
//!
//! PyTorch draws an index `i` with probability proportional to `p[i]` as
//! `argmax(p / q)` where `q[j]` are Exp(1) variates, one per element of `p`,
//! from its Mersenne Twister (two 32-bit outputs per variate). A patch
//! sampler's map has a few labelled voxels among millions; PyTorch still
//! spends ~20 ns on a logarithm per voxel (~250 ms for a 256x256x176 map).
//! Here the generator is advanced over every voxel (a twist costs well under
//! a nanosecond per word) but the logarithm and the division are done only
//! where `p` is non-zero: the same index and the same generator state, an
//! order of magnitude sooner. Callers should check equality with the real
//! `torch.multinomial` once at run time (the Python layer does): this mirrors
//! PyTorch's algorithm, not a documented contract.

use crate::error::{Error, Result};

/// Words in the Mersenne Twister state.
pub const STATE_WORDS: usize = 624;
const SHIFT: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER: u32 = 0x8000_0000;
const LOWER: u32 = 0x7fff_ffff;
/// `u` in `[0, 1)` is built from the low 53 bits of a 64-bit draw.
const MANTISSA: u64 = (1 << 53) - 1;

/// An MT19937 generator at a point of its stream: the 624 words of the
/// current block and how many of them have been read (624: the next read
/// twists first, as after seeding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mt19937 {
    /// The state words (untempered).
    pub words: [u32; STATE_WORDS],
    /// Words of `words` already read, `0..=624`.
    pub used: usize,
}

impl Mt19937 {
    /// The next output, tempered.
    pub fn next_u32(&mut self) -> u32 {
        if self.used >= STATE_WORDS {
            twist(&mut self.words);
            self.used = 0;
        }
        let word = self.words[self.used];
        self.used += 1;
        temper(word)
    }

    /// Skip `count` outputs, twisting through whole blocks without tempering.
    #[cfg(test)]
    fn skip(&mut self, mut count: u64) {
        while count > 0 {
            if self.used >= STATE_WORDS {
                twist(&mut self.words);
                self.used = 0;
            }
            let here = ((STATE_WORDS - self.used) as u64).min(count);
            self.used += here as usize;
            count -= here;
        }
    }

    /// A 64-bit output as PyTorch forms it: the first word high.
    #[cfg(test)]
    fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        (high << 32) | u64::from(self.next_u32())
    }
}

/// Bytes of a PyTorch CPU generator's state (`Generator.get_state()`): the
/// seed (u64), `left` (i32), `seeded` (i32), `next` (u64), the 624 state
/// words (one u64 each), then caches of normal samples (left untouched).
pub const TORCH_STATE_BYTES: usize = 5056;
const TORCH_LEFT: usize = 8;
const TORCH_SEEDED: usize = 12;
const TORCH_NEXT: usize = 16;
const TORCH_WORDS: usize = 24;

impl Mt19937 {
    /// The generator a PyTorch CPU generator's state describes; `None` if
    /// the bytes do not have the layout this expects.
    pub fn from_torch_state(state: &[u8]) -> Option<Mt19937> {
        if state.len() != TORCH_STATE_BYTES {
            return None;
        }
        let word = |at: usize, n: usize| state.get(at..at + n);
        let i32_at = |at| {
            word(at, 4)
                .and_then(|b| b.try_into().ok())
                .map(i32::from_le_bytes)
        };
        let u64_at = |at| {
            word(at, 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let (left, seeded, next) = (
            i32_at(TORCH_LEFT)?,
            i32_at(TORCH_SEEDED)?,
            u64_at(TORCH_NEXT)?,
        );
        if seeded != 1 {
            return None;
        }
        // Freshly seeded: left 1, next 0, the block not twisted yet. Later
        // left + next = 625, with `next` words of the block read.
        let used = match (left, next) {
            (1, 0) => STATE_WORDS,
            (l, n) if l >= 1 && n <= STATE_WORDS as u64 && l as u64 + n == 625 => n as usize,
            _ => return None,
        };
        let mut words = [0u32; STATE_WORDS];
        for (k, w) in words.iter_mut().enumerate() {
            *w = u32::try_from(u64_at(TORCH_WORDS + 8 * k)?).ok()?;
        }
        Some(Mt19937 { words, used })
    }

    /// Write this generator's position into `state`, which came from
    /// [`Mt19937::from_torch_state`] (everything else in it stays).
    pub fn write_torch_state(&self, state: &mut [u8]) {
        if state.len() != TORCH_STATE_BYTES {
            return;
        }
        let used = self.used.clamp(1, STATE_WORDS);
        state[TORCH_LEFT..TORCH_LEFT + 4].copy_from_slice(&(625 - used as i32).to_le_bytes());
        state[TORCH_NEXT..TORCH_NEXT + 8].copy_from_slice(&(used as u64).to_le_bytes());
        for (k, &w) in self.words.iter().enumerate() {
            let at = TORCH_WORDS + 8 * k;
            state[at..at + 8].copy_from_slice(&u64::from(w).to_le_bytes());
        }
    }
}

fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

fn mix(upper: u32, lower: u32, far: u32) -> u32 {
    let y = (upper & UPPER) | (lower & LOWER);
    far ^ (y >> 1) ^ (if y & 1 == 0 { 0 } else { MATRIX_A })
}

fn twist(s: &mut [u32; STATE_WORDS]) {
    // Three stretches whose reads never alias their writes, so that each
    // loop vectorises: words [0, 227) read words ahead of them, [227, 623)
    // read the already-twisted start.
    let low = STATE_WORDS - SHIFT;
    for i in 0..low {
        s[i] = mix(s[i], s[i + 1], s[i + SHIFT]);
    }
    for i in low..STATE_WORDS - 1 {
        s[i] = mix(s[i], s[i + 1], s[i - low]);
    }
    s[STATE_WORDS - 1] = mix(s[STATE_WORDS - 1], s[0], s[SHIFT - 1]);
}

/// The Exp(1) variate PyTorch makes of a 64-bit draw, rounded to `f32`.
fn exponential(draw: u64) -> f32 {
    let u = (draw & MANTISSA) as f64 * (1.0 / (1u64 << 53) as f64);
    (-(-u).ln_1p()) as f32
}

/// Draw one index of `0..len` with probability proportional to its weight,
/// as `torch.multinomial(p, 1)` does on the CPU for a float32 `p` of `len`
/// elements, advancing `rng` as PyTorch advances its generator (two words
/// per element). `indices` (strictly increasing) and `weights` list the
/// elements of `p` that are not zero; every other element weighs zero.
///
/// # Errors
/// [`Error::InvalidData`] when `indices` and `weights` differ in length,
/// `indices` is not strictly increasing inside `0..len`, or a weight is
/// negative, infinite or NaN, or all are zero (PyTorch refuses these maps).
pub fn multinomial_one(
    rng: &mut Mt19937,
    len: u64,
    indices: &[u64],
    weights: &[f32],
) -> Result<u64> {
    check_map(len, indices, weights)?;
    let mut best = Best::default();
    // Every zero-weight element has the ratio +0 (or NaN, below): the first
    // one stands for them all.
    if let Some(first) = first_gap(indices, len) {
        best.offer(0.0, first);
    }
    let mut nonzero = indices
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .peekable();
    let words = 2 * len;
    let mut at = 0u64; // stream offset of rng.words[rng.used]
    let mut last = 0u32; // the word before `at`, tempered
    while at < words {
        if rng.used >= STATE_WORDS {
            twist(&mut rng.words);
            rng.used = 0;
        }
        let here = ((STATE_WORDS - rng.used) as u64).min(words - at);
        let block = &rng.words[rng.used..rng.used + here as usize];
        let end = at + here;
        let word = |offset: u64| {
            if offset < at {
                last
            } else {
                temper(block[(offset - at) as usize])
            }
        };
        while let Some((index, weight)) = nonzero.next_if(|&(i, _)| 2 * i + 1 < end) {
            let draw = (u64::from(word(2 * index)) << 32) | u64::from(word(2 * index + 1));
            best.consider(weight, draw, index);
        }
        // A zero weight over a variate of exactly 0 (u = 0, odds 2^-53 each)
        // gives NaN, which argmax prefers. u = 0 needs a low word of 0, and
        // only a state word of 0 tempers to 0: scan raw words, look closer
        // only at a hit.
        if block.contains(&0) {
            for (offset, _) in (at..end).zip(block).filter(|&(o, &w)| o % 2 == 1 && w == 0) {
                let index = offset / 2;
                let high = u64::from(word(offset - 1)) << 32;
                if high & MANTISSA == 0 && indices.binary_search(&index).is_err() {
                    best.offer(f32::NAN, index);
                }
            }
        }
        last = temper(block[here as usize - 1]);
        rng.used += here as usize;
        at = end;
    }
    Ok(best.index)
}

/// The smallest index of `0..len` not in `indices` (strictly increasing).
fn first_gap(indices: &[u64], len: u64) -> Option<u64> {
    let first = indices
        .iter()
        .zip(0u64..)
        .find(|&(&i, k)| i != k)
        .map_or(indices.len() as u64, |(_, k)| k);
    (first < len).then_some(first)
}

/// The running argmax with PyTorch's rules: NaN beats everything, then the
/// larger value, then the earlier index.
struct Best {
    value: f32,
    index: u64,
    seen: bool,
}

impl Default for Best {
    fn default() -> Best {
        Best {
            value: f32::NEG_INFINITY,
            index: 0,
            seen: false,
        }
    }
}

impl Best {
    /// Offer the element whose weight is `weight > 0` and whose 64-bit draw
    /// is `draw`, taking the logarithm only if it could win: `-ln(1 - u) >=
    /// u`, so its ratio is at most `weight / u`, and the two roundings to
    /// `f32` add less than 1e-6 to that. With ratios growing like the count
    /// of elements seen, a few dozen logarithms are taken per draw.
    fn consider(&mut self, weight: f32, draw: u64, index: u64) {
        let u = (draw & MANTISSA) as f64 * (1.0 / (1u64 << 53) as f64);
        let hopeless = self.seen
            && (self.value.is_nan()
                || (u > 0.0 && f64::from(weight) * (1.0 + 1e-6) < f64::from(self.value) * u));
        if !hopeless {
            self.offer(weight / exponential(draw), index);
        }
    }

    fn offer(&mut self, value: f32, index: u64) {
        let better = if !self.seen {
            true
        } else if self.value.is_nan() {
            value.is_nan() && index < self.index
        } else if value.is_nan() {
            true
        } else {
            value > self.value || (value == self.value && index < self.index)
        };
        if better {
            self.value = value;
            self.index = index;
            self.seen = true;
        }
    }
}

fn check_map(len: u64, indices: &[u64], weights: &[f32]) -> Result<()> {
    let bad = |why: String| Err(Error::InvalidData(why));
    if len > u64::MAX / 2 {
        return bad(format!(
            "{len} elements: more than a generator stream can cover"
        ));
    }
    if indices.len() != weights.len() {
        return bad(format!(
            "{} indices for {} weights",
            indices.len(),
            weights.len()
        ));
    }
    if !indices.windows(2).all(|w| w[0] < w[1]) || indices.last().is_some_and(|&i| i >= len) {
        return bad(format!("indices must increase strictly inside 0..{len}"));
    }
    if let Some(w) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
        return bad(format!("probability {w} is negative, infinite or NaN"));
    }
    if !weights.iter().any(|&w| w > 0.0) {
        return bad("every probability is zero".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference MT19937 seeding (Matsumoto and Nishimura's init_genrand),
    /// which PyTorch's `manual_seed` also uses; `used = 624` as after seeding.
    fn seeded(seed: u32) -> Mt19937 {
        let mut words = [0u32; STATE_WORDS];
        words[0] = seed;
        for i in 1..STATE_WORDS {
            let prev = words[i - 1];
            words[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 {
            words,
            used: STATE_WORDS,
        }
    }

    #[test]
    fn reference_outputs_of_seed_5489() {
        // The first and the 10,000th outputs of mt19937 seeded 5489, as the
        // C++ standard fixes them (std::mt19937 default).
        let mut rng = seeded(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
        rng.skip(9_998);
        assert_eq!(rng.next_u32(), 4_123_659_995);
    }

    /// Every exponential materialised, argmax taken: the definition.
    fn brute(rng: &mut Mt19937, p: &[f32]) -> u64 {
        let mut best = Best::default();
        for (i, &w) in p.iter().enumerate() {
            best.offer(w / exponential(rng.next_u64()), i as u64);
        }
        best.index
    }

    fn sparse(p: &[f32]) -> (Vec<u64>, Vec<f32>) {
        p.iter()
            .enumerate()
            .filter(|(_, &w)| w != 0.0)
            .map(|(i, &w)| (i as u64, w))
            .unzip()
    }

    #[test]
    fn equals_the_dense_definition_and_leaves_the_same_state() {
        let mut maps = seeded(7);
        for case in 0..300u32 {
            let len = 1 + (maps.next_u32() % 3000) as usize;
            let p: Vec<f32> = (0..len)
                .map(|i| match maps.next_u32() % 10 {
                    0 | 1 => (maps.next_u32() % 5) as f32 * 0.25,
                    // Ratios that underflow to 0 and tie with the zero weights,
                    // or overflow to infinity and tie among themselves.
                    2 if case % 4 == 0 => 1e-44,
                    2 if case % 4 == 1 => 3.0e38,
                    _ if i == len / 2 => 1.0,
                    _ => 0.0,
                })
                .collect();
            let mut a = seeded(case);
            a.skip(u64::from(case) * 37);
            let mut b = a.clone();
            let (indices, weights) = sparse(&p);
            let fast = multinomial_one(&mut a, len as u64, &indices, &weights).unwrap();
            assert_eq!(fast, brute(&mut b, &p), "case {case}");
            assert_eq!(a.next_u32(), b.next_u32(), "state after case {case}");
        }
    }

    #[test]
    fn a_zero_variate_on_a_zero_weight_wins_as_nan() {
        // Element 1's draw is u = 0: high word with 21 low bits clear, low word 0.
        // State words of 0 temper to 0, so plant them where elements 1 reads.
        let mut rng = seeded(3);
        rng.used = 0;
        rng.words[2] = 0;
        rng.words[3] = 0;
        let p = [0.0f32, 0.0, 0.0, 1.0];
        let mut b = rng.clone();
        let (indices, weights) = sparse(&p);
        let fast = multinomial_one(&mut rng, 4, &indices, &weights).unwrap();
        assert_eq!(fast, 1);
        assert_eq!(brute(&mut b, &p), 1);
        assert_eq!(rng, b);
    }

    #[test]
    fn a_zero_variate_across_a_twist_wins_as_nan() {
        // Element 0's high word is the block's last (state word 623, 0 tempers
        // to 0); its low word is the next block's first, which the twist
        // makes words[397] when words[0] and words[1] are 0.
        let mut rng = seeded(8);
        rng.used = STATE_WORDS - 1;
        for k in [0, 1, SHIFT, STATE_WORDS - 1] {
            rng.words[k] = 0;
        }
        let p = [0.0f32, 1.0, 2.0];
        let mut b = rng.clone();
        let (indices, weights) = sparse(&p);
        assert_eq!(multinomial_one(&mut rng, 3, &indices, &weights).unwrap(), 0);
        assert_eq!(brute(&mut b, &p), 0);
        assert_eq!(rng, b);
    }

    #[test]
    fn torch_state_bytes_round_trip_and_odd_ones_are_refused() {
        let mut state = vec![0u8; TORCH_STATE_BYTES];
        state[TORCH_SEEDED..TORCH_SEEDED + 4].copy_from_slice(&1i32.to_le_bytes());
        state[TORCH_LEFT..TORCH_LEFT + 4].copy_from_slice(&1i32.to_le_bytes());
        for k in 0..STATE_WORDS {
            let at = TORCH_WORDS + 8 * k;
            state[at..at + 8].copy_from_slice(&(k as u64 * 7919).to_le_bytes());
        }
        state[TORCH_STATE_BYTES - 1] = 0xab; // a cache byte, kept as it is
        let mut rng = Mt19937::from_torch_state(&state).unwrap();
        assert_eq!((rng.used, rng.words[3]), (STATE_WORDS, 3 * 7919));
        rng.next_u32();
        let mut written = state.clone();
        rng.write_torch_state(&mut written);
        assert_eq!(Mt19937::from_torch_state(&written), Some(rng));
        assert_eq!(written[TORCH_STATE_BYTES - 1], 0xab);
        let odd = |at: usize, bytes: &[u8]| {
            let mut s = state.clone();
            s[at..at + bytes.len()].copy_from_slice(bytes);
            Mt19937::from_torch_state(&s)
        };
        assert_eq!(odd(TORCH_SEEDED, &0i32.to_le_bytes()), None);
        assert_eq!(odd(TORCH_LEFT, &5i32.to_le_bytes()), None);
        assert_eq!(odd(TORCH_WORDS + 8, &(1u64 << 32).to_le_bytes()), None);
        assert_eq!(Mt19937::from_torch_state(&state[1..]), None);
    }

    #[test]
    fn bad_maps_are_refused() {
        let mut rng = seeded(1);
        for (indices, weights) in [
            (vec![0u64], vec![0.0f32]),
            (vec![0], vec![-1.0]),
            (vec![0], vec![f32::NAN]),
            (vec![0], vec![f32::INFINITY]),
            (vec![1, 1], vec![1.0, 1.0]),
            (vec![9], vec![1.0]),
            (vec![0, 1], vec![1.0]),
        ] {
            let e = multinomial_one(&mut rng, 4, &indices, &weights).unwrap_err();
            assert!(matches!(e, Error::InvalidData(_)), "{e}");
        }
        for len in [u64::MAX, u64::MAX / 2 + 1] {
            let (indices, weights) = (vec![0u64], vec![1.0f32]);
            let e = multinomial_one(&mut rng, len, &indices, &weights).unwrap_err();
            assert!(matches!(e, Error::InvalidData(_)), "{e}");
        }
    }
}
