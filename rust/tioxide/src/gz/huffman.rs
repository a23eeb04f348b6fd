//! Canonical Huffman decode tables for DEFLATE (RFC 1951), laid out for the
//! decode loop: one lookup of the next `bits` of input gives what to emit and
//! how many bits to consume; codes longer than that go through a subtable.
//!
//! The literal/length table also packs two literals into one entry when
//! both codes fit in its index bits: noisy image data is mostly literals,
//! and a lookup is a dependent load, so halving the lookups per byte is
//! what makes the decode faster than one symbol at a time.

/// Index bits of the literal/length table's main part.
pub const LITLEN_BITS: u32 = 12;
/// Index bits of the distance table's main part.
pub const DIST_BITS: u32 = 8;
/// Longest code DEFLATE allows.
const MAX_CODE: usize = 15;

// Entry layout (u32):
//   bits 0..5    bits to consume (code plus extra bits; for a subtable
//                pointer, the subtable's index bits instead); bits 5..8 are
//                zero, so a 64-bit shift by the whole entry consumes it
//   bits 8..12   where the extra bits start (for two literals, the first
//                one's length)
//   bits 12..16  flags
//   bits 16..32  payload: literal(s), base value, subtable offset, or for
//                a fused match the distance symbol (bits 16..21) and the
//                length minus 3 (bits 21..24)
/// A literal byte (two with [`DOUBLE`]).
pub const LITERAL: u32 = 1 << 15;
/// Not a literal, length or distance: a subtable pointer (payload is its
/// offset, never 0), the end of block ([`END`]) or an invalid code.
pub const EXCEPTIONAL: u32 = 1 << 14;
/// A literal, or a length with no extra bits fused with its distance code:
/// the decode loop's branch-free step handles these.
pub const FAST: u32 = 1 << 13;
/// With [`EXCEPTIONAL`]: the end-of-block symbol.
pub const END: u32 = 1 << 12;
/// With [`LITERAL`]: two literals, first in bits 16..24, second in 24..32.
pub const DOUBLE: u32 = 1 << 12;
/// An entry for a code the stream does not define.
pub const INVALID: u32 = EXCEPTIONAL;

/// Base of each distance symbol (RFC 1951 3.2.5); 30 and 31 are invalid.
const DIST_BASE: [u16; 32] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577, 0, 0,
];

/// True for a pointer to a subtable.
#[inline(always)]
pub fn is_subtable(e: u32) -> bool {
    e & EXCEPTIONAL != 0 && e >> 16 != 0
}

/// True for the end-of-block code.
#[inline(always)]
pub fn is_end(e: u32) -> bool {
    e & (EXCEPTIONAL | END) == EXCEPTIONAL | END
}

/// The subtable entry for the bits after a pointer's main-table bits.
#[inline(always)]
pub fn sub_entry(table: &[u32], e: u32, bits: u64, main_bits: u32) -> u32 {
    let i = (e >> 16) as usize + ((bits >> main_bits) & ((1u64 << (e & 0x1f)) - 1)) as usize;
    table.get(i).copied().unwrap_or(INVALID)
}

/// Bits an entry consumes.
#[inline(always)]
pub fn consumed(e: u32) -> u32 {
    e & 0x1f
}

/// The length of a fused match entry.
#[inline(always)]
pub fn fused_len(e: u32) -> usize {
    ((e >> 21) & 7) as usize + 3
}

/// The distance of a fused match entry, its extra bits read from `bits`
/// (the input as it was before the entry was consumed).
#[inline(always)]
pub fn fused_distance(e: u32, bits: u64) -> usize {
    usize::from(DIST_BASE[(e >> 16) as usize & 31]) + extra(e, bits)
}

/// An entry's extra bits, read from `bits`.
#[inline(always)]
fn extra(e: u32, bits: u64) -> usize {
    let total = e & 0x1f;
    let code = (e >> 8) & 0xf;
    ((bits & ((1u64 << total) - 1)) >> code) as usize
}

/// The value an entry carries plus its extra bits, read from `bits` (the
/// input as it was before the entry was consumed).
#[inline(always)]
pub fn value(e: u32, bits: u64) -> usize {
    (e >> 16) as usize + extra(e, bits)
}

/// Entry payloads of the literal/length alphabet (lengths 3..=258 and their
/// extra bits, RFC 1951 3.2.5); 286 and 287 are invalid.
pub fn litlen_symbols() -> [u32; 288] {
    const BASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const EXTRA: [u8; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    let mut out = [INVALID; 288];
    for (s, e) in out.iter_mut().enumerate().take(256) {
        *e = LITERAL | FAST | (s as u32) << 16;
    }
    out[256] = EXCEPTIONAL | END;
    for i in 0..29 {
        out[257 + i] = u32::from(BASE[i]) << 16 | u32::from(EXTRA[i]);
    }
    out
}

/// Entry payloads of the distance alphabet; 30 and 31 are invalid.
pub fn dist_symbols() -> [u32; 32] {
    let mut out = [INVALID; 32];
    for (i, e) in out.iter_mut().enumerate().take(30) {
        let extra = if i < 4 { 0 } else { (i as u32 - 2) / 2 };
        *e = u32::from(DIST_BASE[i]) << 16 | extra;
    }
    out
}

/// Why a set of code lengths is refused.
pub type Refusal = &'static str;

/// Fill `table` for the code with lengths `lens` (0 = unused symbol), whose
/// symbols' entries are `symbols` (with extra-bit counts in bits 0..5), and
/// list its codes in `codes`, shortest first.
///
/// Refuses over-subscribed codes, and incomplete codes other than a single
/// code of length one (or none at all), as zlib does.
pub fn build(
    table: &mut Vec<u32>,
    codes: &mut Vec<Code>,
    lens: &[u8],
    symbols: &[u32],
    main_bits: u32,
) -> Result<(), Refusal> {
    // Four interleaved histograms: runs of equal lengths are the rule, and
    // one counter would wait on its own previous increment every time.
    let mut counts = [[0u16; MAX_CODE + 1]; 4];
    let mut quads = lens.chunks_exact(4);
    for q in &mut quads {
        for (c, &l) in counts.iter_mut().zip(q) {
            c[usize::from(l) & MAX_CODE] += 1;
        }
    }
    for &l in quads.remainder() {
        counts[0][usize::from(l) & MAX_CODE] += 1;
    }
    let mut count = [0u16; MAX_CODE + 1];
    for (l, n) in count.iter_mut().enumerate() {
        *n = counts.iter().map(|c| c[l]).sum();
    }
    if lens.iter().any(|&l| usize::from(l) > MAX_CODE) {
        return Err("code length over 15");
    }
    count[0] = 0;
    let mut left = 1i32;
    for &c in &count[1..] {
        left = (left << 1) - i32::from(c);
        if left < 0 {
            return Err("over-subscribed Huffman code");
        }
    }
    let max_len = (1..=MAX_CODE).rev().find(|&l| count[l] > 0).unwrap_or(0);
    if left > 0 && max_len > 1 {
        return Err("incomplete Huffman code");
    }
    // Codes in canonical order (by length, then symbol) by counting sort,
    // with their bits reversed into the order they arrive in.
    let mut at = [0usize; MAX_CODE + 2];
    for l in 1..=MAX_CODE {
        at[l + 1] = at[l] + usize::from(count[l]);
    }
    let mut next = [0u32; MAX_CODE + 1];
    let mut code = 0u32;
    for l in 1..=MAX_CODE {
        code = (code + u32::from(count[l - 1])) << 1;
        next[l] = code;
    }
    codes.clear();
    codes.resize(at[MAX_CODE + 1], Code::default());
    for (s, &l) in lens.iter().enumerate() {
        let l = usize::from(l);
        if l == 0 {
            continue;
        }
        let rev = next[l].reverse_bits() >> (32 - l);
        next[l] += 1;
        let e = with_lengths(symbols.get(s).copied().unwrap_or(INVALID), l as u32);
        codes[at[l]] = Code {
            rev: rev as u16,
            len: l as u8,
            sym: s as u16,
            entry: e,
        };
        at[l] += 1;
    }
    let main = 1usize << main_bits;
    if left == 0 && table.len() >= main {
        // A complete code writes every main entry: no need to clear them.
        table.truncate(main);
    } else {
        table.clear();
        table.resize(main, INVALID);
    }
    // Place the codes of each length in a table of that many index bits,
    // doubling it (a copy) before the next length: a code's entry is
    // written once, and copies replicate it over the bits it leaves free.
    let first = codes
        .first()
        .map_or(main_bits, |c| u32::from(c.len).min(main_bits));
    let mut size = 1usize << first;
    let mut i = 0;
    for l in first..=main_bits {
        if l > first {
            table.copy_within(..size, size);
            size *= 2;
        }
        while let Some(c) = codes.get(i).filter(|c| u32::from(c.len) == l) {
            table[usize::from(c.rev)] = c.entry;
            i += 1;
        }
    }
    let short = i;
    if short < codes.len() {
        // Codes sharing their first `main_bits` bits share one subtable.
        let sub_bits = max_len as u32 - main_bits;
        let mask = main as u16 - 1;
        codes[short..].sort_unstable_by_key(|c| c.rev & mask);
        let mut current = usize::MAX;
        let mut offset = 0usize;
        for c in &codes[short..] {
            let prefix = usize::from(c.rev & mask);
            if prefix != current {
                current = prefix;
                offset = table.len();
                table.resize(offset + (1 << sub_bits), INVALID);
                table[prefix] = EXCEPTIONAL | (offset as u32) << 16 | sub_bits;
            }
            let mut j = usize::from(c.rev >> main_bits);
            while j < 1 << sub_bits {
                table[offset + j] = c.entry;
                j += 1 << (u32::from(c.len) - main_bits);
            }
        }
    }
    Ok(())
}

/// One code of a table: its bits in stream order, length, symbol and entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct Code {
    pub rev: u16,
    pub len: u8,
    pub sym: u16,
    pub entry: u32,
}

/// An entry with its code length `l` added: consumed bits (the extra bits
/// already there plus `l`) and the code length field.
fn with_lengths(e: u32, l: u32) -> u32 {
    if e & EXCEPTIONAL != 0 && e & END == 0 {
        return INVALID;
    }
    (e & !0xfff) | ((e & 0x1f) + l) | l << 8
}

/// Pack pairs of literals whose codes fit together in the main table, and
/// fuse lengths without extra bits with the distance code after them when
/// both fit: one lookup then decodes what took two or three. `codes` and
/// `dist` are the codes [`build`] listed (shortest first); only pairs that
/// fit are visited, so the work follows the entries written.
pub fn pair_and_fuse(table: &mut [u32], codes: &[Code], dist: &[Code]) {
    const MAIN: usize = 1 << LITLEN_BITS;
    let Some(table) = table.first_chunk_mut::<MAIN>() else {
        return;
    };
    let fill = |table: &mut [u32; MAIN], base: usize, bits: u32, e: u32| {
        let mut i = base;
        while i < MAIN {
            table[i] = e;
            i += 1 << bits;
        }
    };
    for c1 in codes {
        let (l1, e1) = (u32::from(c1.len), c1.entry);
        if l1 >= LITLEN_BITS {
            break;
        }
        let room = LITLEN_BITS - l1;
        if e1 & LITERAL != 0 {
            for c2 in codes.iter().take_while(|c| u32::from(c.len) <= room) {
                let e2 = c2.entry;
                if e2 & LITERAL != 0 {
                    let l2 = u32::from(c2.len);
                    let double = LITERAL
                        | FAST
                        | DOUBLE
                        | (e1 >> 16) << 16
                        | (e2 >> 16) << 24
                        | l1 << 8
                        | (l1 + l2);
                    fill(
                        table,
                        usize::from(c1.rev) | usize::from(c2.rev) << l1,
                        l1 + l2,
                        double,
                    );
                }
            }
        } else if e1 & (EXCEPTIONAL | LITERAL) == 0 && e1 & 0x1f == l1 && (e1 >> 16) <= 10 {
            // A length of 3..=10 (no extra bits): the distance code follows.
            let len3 = (e1 >> 16) - 3;
            for d in dist.iter().take_while(|d| u32::from(d.len) <= room) {
                if d.entry & EXCEPTIONAL != 0 {
                    continue;
                }
                let l2 = u32::from(d.len);
                let fused = FAST
                    | (u32::from(d.sym) | len3 << 5) << 16
                    | (l1 + l2) << 8
                    | (l1 + (d.entry & 0x1f));
                fill(
                    table,
                    usize::from(c1.rev) | usize::from(d.rev) << l1,
                    l1 + l2,
                    fused,
                );
            }
        }
    }
}
