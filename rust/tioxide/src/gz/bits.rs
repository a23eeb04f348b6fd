//! Writing deflate bit streams (least significant bit first), for the few
//! hand-made blocks that let libdeflate start inside someone else's stream.

/// An LSB-first bit writer.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl BitWriter {
    /// An empty writer with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> BitWriter {
        BitWriter {
            bytes: Vec::with_capacity(bytes),
            acc: 0,
            pending: 0,
        }
    }

    /// Append the low `n` (at most 32) bits of `value`, least significant first.
    pub fn push(&mut self, value: u32, n: u32) {
        let mask = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
        self.acc |= u64::from(value & mask) << self.pending;
        self.pending += n;
        // Whole 32-bit words at once: the splice block pushes 32 Ki literals.
        if self.pending >= 32 {
            self.bytes
                .extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.pending -= 32;
        }
    }

    /// Bits written so far.
    pub fn bit_len(&self) -> u64 {
        self.bytes.len() as u64 * 8 + u64::from(self.pending)
    }

    /// The bytes, the last one zero-padded.
    pub fn into_bytes(mut self) -> Vec<u8> {
        let tail = self.pending.div_ceil(8) as usize;
        self.bytes
            .extend_from_slice(&self.acc.to_le_bytes()[..tail]);
        self.bytes
    }
}

/// Fixed-Huffman literal codes, bit-reversed for an LSB-first writer, with lengths.
static REVERSED_LITERALS: [(u32, u32); 256] = {
    let mut table = [(0u32, 0u32); 256];
    let mut b = 0;
    while b < 256 {
        let (code, n) = if b < 144 {
            (0x30 + b as u32, 8)
        } else {
            (0x190 + (b as u32 - 144), 9)
        };
        table[b] = (code.reverse_bits() >> (32 - n), n);
        b += 1;
    }
    table
};

/// Append the literal `byte` of a fixed-Huffman block.
pub fn push_literal(w: &mut BitWriter, byte: u8) {
    let (bits, n) = REVERSED_LITERALS[usize::from(byte)];
    w.push(bits, n);
}

/// The fixed-Huffman code of a literal byte: (code, length).
pub fn fixed_literal(byte: u8) -> (u32, u32) {
    if byte < 144 {
        (0x30 + u32::from(byte), 8)
    } else {
        (0x190 + u32::from(byte - 144), 9)
    }
}

/// Append the header of a fixed-Huffman block.
pub fn fixed_block_header(w: &mut BitWriter, last: bool) {
    w.push(u32::from(last), 1);
    w.push(1, 2);
}

/// Append the end-of-block code of a fixed-Huffman block (7 zero bits).
pub fn fixed_end_of_block(w: &mut BitWriter) {
    w.push(0, 7);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_bits_lsb_first_like_one_bit_at_a_time() {
        let mut w = BitWriter::default();
        let mut naive: Vec<bool> = Vec::new();
        let mut x = 0x9e37_79b9u32;
        for i in 0..1000u32 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = 1 + (x >> 7) % 32;
            w.push(x, n);
            naive.extend((0..n).map(|k| (x >> k) & 1 == 1));
            assert_eq!(w.bit_len(), naive.len() as u64, "after push {i}");
        }
        let want: Vec<u8> = naive
            .chunks(8)
            .map(|c| c.iter().rev().fold(0u8, |b, &bit| (b << 1) | u8::from(bit)))
            .collect();
        assert_eq!(w.into_bytes(), want);
    }
}
