//! Writing deflate bit streams (least significant bit first), for the few
//! hand-made blocks that let libdeflate start inside someone else's stream.

/// An LSB-first bit writer.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    bits: u64,
}

impl BitWriter {
    /// An empty writer with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> BitWriter {
        BitWriter {
            bytes: Vec::with_capacity(bytes),
            bits: 0,
        }
    }

    /// Append the low `n` (at most 32) bits of `value`, least significant first.
    pub fn push(&mut self, value: u32, n: u32) {
        for i in 0..n {
            if self.bits % 8 == 0 {
                self.bytes.push(0);
            }
            if value >> i & 1 == 1 {
                let last = self.bytes.len() - 1;
                self.bytes[last] |= 1 << (self.bits % 8);
            }
            self.bits += 1;
        }
    }

    /// Append a Huffman code of `n` bits (codes are sent most significant bit first).
    pub fn push_code(&mut self, code: u32, n: u32) {
        self.push(code.reverse_bits() >> (32 - n), n);
    }

    /// Bits written so far.
    pub fn bit_len(&self) -> u64 {
        self.bits
    }

    /// The bytes, the last one zero-padded.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
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
