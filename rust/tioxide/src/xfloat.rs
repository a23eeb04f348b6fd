//! A minimal software x87 extended-precision float (64-bit significand,
//! round to nearest even).
//!
//! nibabel computes the qform quaternion and rotation matrix in numpy's
//! `longdouble`, which on x86-64 Linux is the x87 80-bit format; doing the
//! same operations in the same order with this type gives affines that equal
//! nibabel's bit for bit, wherever tioxide runs. Only finite, normal values
//! are needed (header quaternions and voxel sizes); results too small for
//! the format flush to zero.

use std::cmp::Ordering;

/// `mant * 2^(exp - 63)`, `mant` normalised (top bit set) unless zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X80 {
    neg: bool,
    exp: i32,
    mant: u64,
}

const ZERO: X80 = X80 {
    neg: false,
    exp: 0,
    mant: 0,
};

impl X80 {
    /// Exact conversion from f64 (NaN and infinities map to zero; headers
    /// holding them are rejected before this point).
    pub fn from_f64(x: f64) -> X80 {
        if x == 0.0 || !x.is_finite() {
            return ZERO;
        }
        let bits = x.to_bits();
        let neg = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), biased - 1075)
        };
        // value = m * 2^e; normalise m to 64 bits.
        let shift = m.leading_zeros() as i32;
        X80 {
            neg,
            exp: e + 63 - shift,
            mant: m << shift,
        }
    }

    /// Round to the nearest f64 (ties to even).
    pub fn to_f64(self) -> f64 {
        if self.mant == 0 {
            return if self.neg { -0.0 } else { 0.0 };
        }
        let low = self.mant & 0x7ff;
        let mut m = self.mant >> 11;
        let mut e = self.exp - 52;
        let half = 0x400;
        if low > half || (low == half && m & 1 == 1) {
            m += 1;
            if m == 1u64 << 53 {
                m >>= 1;
                e += 1;
            }
        }
        let v = (m as f64) * pow2(e);
        if self.neg {
            -v
        } else {
            v
        }
    }

    fn is_zero(self) -> bool {
        self.mant == 0
    }

    /// Round a 128-bit significand (value `wide * 2^(exp - 127)`) with an
    /// extra sticky flag to 64 bits.
    fn round(neg: bool, exp: i32, wide: u128, sticky: bool) -> X80 {
        if wide == 0 {
            return ZERO;
        }
        let shift = wide.leading_zeros() as i32;
        let wide = wide << shift;
        let exp = exp - shift;
        let mut mant = (wide >> 64) as u64;
        let rest = wide as u64;
        let half = 1u64 << 63;
        let mut exp = exp;
        if rest > half || (rest == half && (sticky || mant & 1 == 1)) {
            let (m, carry) = mant.overflowing_add(1);
            mant = if carry { 1 << 63 } else { m };
            if carry {
                exp += 1;
            }
        }
        if exp < -16000 {
            return ZERO;
        }
        X80 { neg, exp, mant }
    }

    /// Correctly rounded `self * other`.
    pub fn times(self, other: X80) -> X80 {
        if self.is_zero() || other.is_zero() {
            return X80 {
                neg: self.neg != other.neg,
                ..ZERO
            };
        }
        let p = u128::from(self.mant) * u128::from(other.mant);
        // p * 2^(e1 + e2 - 126) = (p as 128-bit) * 2^((e1 + e2 + 1) - 127)
        X80::round(self.neg != other.neg, self.exp + other.exp + 1, p, false)
    }

    /// Correctly rounded `self / other` (`other` non-zero).
    pub fn over(self, other: X80) -> X80 {
        if self.is_zero() || other.is_zero() {
            return ZERO;
        }
        let num = u128::from(self.mant) << 64;
        let den = u128::from(other.mant);
        let (q, r) = (num / den, num % den);
        // q * 2^(e1 - e2 - 64) with q of 64 or 65 bits; add a guard bit.
        let guard = 2 * r >= den;
        let sticky = (2 * r) != if guard { den } else { 0 };
        let wide = (q << 1) | u128::from(guard);
        X80::round(
            self.neg != other.neg,
            self.exp - other.exp,
            wide << 62,
            sticky,
        )
    }

    /// Correctly rounded `self + other`.
    pub fn plus(self, other: X80) -> X80 {
        if self.is_zero() {
            return other;
        }
        if other.is_zero() {
            return self;
        }
        let (a, b) = if (self.exp, self.mant) >= (other.exp, other.mant) {
            (self, other)
        } else {
            (other, self)
        };
        let d = (a.exp - b.exp) as u32;
        let wa = u128::from(a.mant) << 63;
        let wb_full = u128::from(b.mant) << 63;
        let (wb, sticky) = if d >= 127 {
            (0, true)
        } else {
            (wb_full >> d, (wb_full & ((1u128 << d) - 1)) != 0)
        };
        // Both are `w * 2^(a.exp - 126)`.
        if a.neg == b.neg {
            X80::round(a.neg, a.exp + 1, wa + wb, sticky)
        } else {
            // Subtracting a sticky remainder: borrow one unit so the
            // rounding sees a value just below the truncated difference.
            let diff = wa - wb - u128::from(sticky);
            X80::round(a.neg, a.exp + 1, diff, sticky)
        }
    }

    /// Correctly rounded `self - other`.
    pub fn minus(self, other: X80) -> X80 {
        self.plus(X80 {
            neg: !other.neg,
            ..other
        })
    }

    /// Correctly rounded square root (of a non-negative value).
    pub fn sqrt(self) -> X80 {
        if self.is_zero() || self.neg {
            return ZERO;
        }
        let e = self.exp - 63;
        let (n, exp) = if e.rem_euclid(2) == 0 {
            (u128::from(self.mant) << 64, e.div_euclid(2) + 31)
        } else {
            (u128::from(self.mant) << 63, (e - 63).div_euclid(2) + 63)
        };
        let mut r = isqrt(n);
        // Round to nearest: up when n > r^2 + r (a tie cannot happen).
        if n - r * r > r {
            r += 1;
        }
        if r >> 64 != 0 {
            return X80 {
                neg: false,
                exp: exp + 1,
                mant: 1 << 63,
            };
        }
        X80 {
            neg: false,
            exp,
            mant: r as u64,
        }
    }

    /// Absolute value.
    pub fn abs(self) -> X80 {
        X80 { neg: false, ..self }
    }

    /// True if negative and non-zero.
    pub fn is_negative(self) -> bool {
        self.neg && !self.is_zero()
    }
}

impl PartialOrd for X80 {
    fn partial_cmp(&self, other: &X80) -> Option<Ordering> {
        let d = self.minus(*other);
        Some(if d.is_zero() {
            Ordering::Equal
        } else if d.neg {
            Ordering::Less
        } else {
            Ordering::Greater
        })
    }
}

fn pow2(e: i32) -> f64 {
    // Split so each factor is a normal f64.
    let half = e / 2;
    f64::from_bits(((1023 + half) as u64) << 52) * f64::from_bits(((1023 + e - half) as u64) << 52)
}

fn isqrt(n: u128) -> u128 {
    // floor(sqrt(n)) < 2^64 for any u128, so squares of the estimate fit;
    // the float estimate of a value just below 2^128 rounds up to 2^64.
    let mut x = ((n as f64).sqrt() as u128).min(u128::from(u64::MAX));
    // Newton corrections from a close float estimate.
    loop {
        if x * x > n {
            x -= 1;
        } else if (x + 1).checked_mul(x + 1).is_some_and(|s| s <= n) {
            x += 1;
        } else {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(v: f64) -> X80 {
        X80::from_f64(v)
    }

    #[test]
    fn exact_operations_agree_with_f64() {
        let vals = [1.0, -2.5, 3.75, 1e-3, 12345.678, -0.1, 7.0];
        for &a in &vals {
            assert_eq!(x(a).to_f64(), a);
            for &b in &vals {
                // Products and sums of these round identically when the
                // exact result fits f64; otherwise extended then f64
                // rounding equals direct f64 rounding except on rare ties.
                assert_eq!(x(a).times(x(b)).to_f64(), a * b, "{a} * {b}");
                assert_eq!(x(a).plus(x(b)).to_f64(), a + b, "{a} + {b}");
                assert_eq!(x(a).minus(x(b)).to_f64(), a - b, "{a} - {b}");
                assert_eq!(x(a).over(x(b)).to_f64(), a / b, "{a} / {b}");
            }
            assert_eq!(x(a.abs()).sqrt().to_f64(), a.abs().sqrt(), "sqrt {a}");
        }
    }

    #[test]
    fn sqrt_of_the_largest_mantissa() {
        // (2^64 - 1) * 2^k: the float estimate of the integer square root
        // rounds up to 2^64, whose square overflows u128 (found by fuzzing).
        for exp in [-3, -2, 0, 1, 62, 63] {
            let v = X80 {
                neg: false,
                exp,
                mant: u64::MAX,
            };
            let want = v.to_f64().sqrt();
            assert_eq!(v.sqrt().to_f64(), want, "exp {exp}");
        }
        assert_eq!(isqrt(u128::MAX), u128::from(u64::MAX));
        assert_eq!(isqrt((1 << 64) - 1), (1 << 32) - 1);
    }

    #[test]
    fn extended_precision_is_kept() {
        // 1 + 2^-60 is representable in 64 bits but not in f64.
        let tiny = x(2f64.powi(-60));
        let s = x(1.0).plus(tiny);
        assert_eq!(s.minus(x(1.0)).to_f64(), 2f64.powi(-60));
        assert!(x(1.0) < s);
    }
}
