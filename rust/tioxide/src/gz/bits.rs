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
        while self.pending >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.pending -= 8;
        }
    }

    /// Bits written so far.
    pub fn bit_len(&self) -> u64 {
        self.bytes.len() as u64 * 8 + u64::from(self.pending)
    }

    /// The bytes, the last one zero-padded.
    pub fn into_bytes(mut self) -> Vec<u8> {
        if self.pending > 0 {
            self.bytes.push(self.acc as u8);
        }
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
