//! Random access into a gzip stream through its seek index: byte ranges
//! inflate only the chunks that hold them, chunks already inflated come
//! from a bounded cache, and a whole stream with a complete index inflates
//! on every core.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::buffer::VoxelBuffer;

use super::build::{extend, first_data_offset, DecodedChunk};
use super::chunk::{continue_chunk, decode_chunk_in, prefix_len, ChunkInput, PartialChunk};
use super::index::{SeekIndex, DEFAULT_SPAN, WINDOW};
use super::libdeflate::Decompressor;
use super::lru::{ByteLru, LruStats};
use super::parallel;
use super::sidecar;
use super::source::ReadAt;
use crate::error::{Error, Result};

/// Default budget of the index cache.
pub const DEFAULT_INDEX_BUDGET: usize = 256 << 20;
/// Default budget of the inflated-chunk cache.
pub const DEFAULT_CHUNK_BUDGET: usize = 256 << 20;
/// Chunks inflated together (in parallel) by a range read.
const BATCH: usize = 8;
/// Longest stretch a full read inflates as one task (bounds the compressed
/// bytes each core holds at once).
const MAX_STRETCH: u64 = 16 << 20;

static SPAN: AtomicU64 = AtomicU64::new(DEFAULT_SPAN);
static INDEXES: ByteLru<String, Arc<SeekIndex>> = ByteLru::new(DEFAULT_INDEX_BUDGET);
static CHUNKS: ByteLru<(u64, u64), Arc<Chunk>> = ByteLru::new(DEFAULT_CHUNK_BUDGET);
/// Voxels of whole streams inflated for a region read (by source identity):
/// a patch sampler takes many regions of one volume, and the next ones are
/// cut from these instead of being inflated again. Same budget as the chunks.
static STREAMS: ByteLru<String, Arc<VoxelBuffer>> = ByteLru::new(DEFAULT_CHUNK_BUDGET);
/// Headers (the first bytes of streams) inflated without the index, by
/// source identity: a remote image's header is then fetched once.
static PREFIXES: ByteLru<String, Arc<Vec<u8>>> = ByteLru::new(4 << 20);

thread_local! {
    static WARNINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Warnings raised on this thread since the last call (a sidecar ignored ...).
pub fn take_warnings() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

fn warn(message: String) {
    WARNINGS.with(|w| w.borrow_mut().push(message));
}

/// Output between checkpoints for indexes built from now on.
pub fn set_span(span: u64) {
    SPAN.store(span.max(super::index::MIN_SPAN), Ordering::Relaxed);
}

/// Current span.
pub fn span() -> u64 {
    SPAN.load(Ordering::Relaxed)
}

/// Budgets of the index and chunk caches, in bytes.
pub fn set_cache_budgets(index: Option<usize>, chunks: Option<usize>) {
    if let Some(b) = index {
        INDEXES.set_budget(b);
    }
    if let Some(b) = chunks {
        CHUNKS.set_budget(b);
        STREAMS.set_budget(b);
    }
}

/// Counters of the index, chunk and whole-stream caches.
pub fn cache_stats() -> (LruStats, LruStats, LruStats) {
    (INDEXES.stats(), CHUNKS.stats(), STREAMS.stats())
}

/// Drop every cached index, chunk and whole stream, and the buffers kept
/// for inflating chunks.
pub fn clear_caches() {
    INDEXES.clear();
    CHUNKS.clear();
    STREAMS.clear();
    PREFIXES.clear();
    SCRATCH.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// A chunk by its number in the index.
type HeldChunk = (usize, Arc<Chunk>);

/// A chunk a read touches, by its number in the index, with the first and
/// the end of the bytes needed of it.
type NeededChunk = (usize, (usize, usize));

/// Each chunk of `index` that `ranges` (sorted, not overlapping, inside
/// what the index covers) touch, with the first and the end of the bytes
/// needed of it. The ranges of a chunk follow each other, so the first
/// range in it gives the first byte needed and the last one the end.
fn chunks_needed(index: &SeekIndex, ranges: &[(u64, u64)]) -> Vec<NeededChunk> {
    let mut needed: Vec<NeededChunk> = Vec::new();
    let (Some(first), Some(second)) = (index.points.first(), index.points.get(1)) else {
        return needed;
    };
    // The chunk the cursor is in, its bounds, and the bytes needed of it
    // so far (`lo > need`: none yet): locals, as a patch has a thousand rows.
    let (mut i, mut c0, mut c1) = (0usize, first.out, second.out);
    let (mut lo, mut need) = (usize::MAX, 0usize);
    // Sorted and not overlapping, the ranges' ends rise too (empty ones
    // included), so the run of those that end inside the current chunk is
    // found by bisection: a patch's thousand rows cost a few dozen steps.
    let mut k = 0usize;
    while let Some(&(s, e)) = ranges.get(k) {
        k += 1;
        if s >= e {
            continue;
        }
        if s >= c0 && e <= c1 {
            let inside = ranges[k..].partition_point(|r| r.1 <= c1);
            // An empty range last in the run may ask for a few bytes more.
            let last_end = ranges[k - 1 + inside].1;
            lo = lo.min((s - c0) as usize);
            need = need.max(last_end.saturating_sub(c0) as usize);
            k += inside;
            continue;
        }
        while c1 <= s {
            if lo <= need {
                needed.push((i, (lo, need)));
            }
            (lo, need) = (usize::MAX, 0);
            i += 1;
            let Some(next) = index.points.get(i + 1) else {
                return needed;
            };
            (c0, c1) = (c1, next.out);
        }
        lo = lo.min((s - c0) as usize);
        need = need.max((e.min(c1) - c0) as usize);
        if e > c1 {
            // A range across checkpoints: every chunk up to its end.
            needed.push((i, (lo, need)));
            let last = index.chunk_at(e - 1);
            for j in i + 1..last {
                let (a, b) = index.chunk_range(j);
                needed.push((j, (0, (b - a) as usize)));
            }
            i = last;
            (c0, c1) = index.chunk_range(last);
            (lo, need) = (0, (e.min(c1) - c0) as usize);
        }
    }
    if lo <= need {
        needed.push((i, (lo, need)));
    }
    needed
}

/// Call `f(k, bytes)` with the bytes of each range `k` of `ranges` (sorted,
/// not overlapping), all of them held by `chunks`: those of `needed`, in
/// order, every chunk the ranges touch.
fn cut_ranges(
    index: &SeekIndex,
    needed: &[NeededChunk],
    chunks: &[Arc<Chunk>],
    ranges: &[(u64, u64)],
    f: &mut dyn FnMut(usize, &[u8]),
) -> Result<()> {
    let missing = || Error::InvalidData("a range outside the chunks found for it".into());
    let bounds = |j: usize| -> Result<(u64, u64)> {
        let &(i, _) = needed.get(j).ok_or_else(missing)?;
        match (index.points.get(i), index.points.get(i + 1)) {
            (Some(a), Some(b)) => Ok((a.out, b.out)),
            _ => Err(missing()),
        }
    };
    let mut joined = Vec::new();
    // The chunk the cursor is in and its bounds (none before the first
    // range that is not empty: with only empty ranges, no chunk is needed).
    let (mut j, mut at) = (0usize, None);
    let mut k = 0usize;
    while let Some(&(s, e)) = ranges.get(k) {
        k += 1;
        if s >= e {
            f(k - 1, &[]);
            continue;
        }
        let mut here = match at {
            Some(bounds) => bounds,
            None => bounds(j)?,
        };
        while here.1 <= s {
            j += 1;
            here = bounds(j)?;
        }
        at = Some(here);
        let (c0, c1) = here;
        if e <= c1 {
            // This range and the ones after it that end in the same chunk:
            // a patch's rows, 32 or more per chunk, in a tight loop.
            let chunk = chunks.get(j).ok_or_else(missing)?;
            f(k - 1, chunk.range(s - c0, e - c0)?);
            while let Some(&(s, e)) = ranges
                .get(k)
                .filter(|r| c0 <= r.0 && r.0 < r.1 && r.1 <= c1)
            {
                f(k, chunk.range(s - c0, e - c0)?);
                k += 1;
            }
            continue;
        }
        // A range across checkpoints: its pieces joined.
        joined.clear();
        let mut m = j;
        loop {
            let (c0, c1) = bounds(m)?;
            let chunk = chunks.get(m).ok_or_else(missing)?;
            joined.extend_from_slice(chunk.range(s.max(c0) - c0, e.min(c1) - c0)?);
            if e <= c1 {
                break;
            }
            m += 1;
        }
        f(k - 1, &joined);
    }
    Ok(())
}

/// Bytes of an inflated chunk (from the first byte a read needed, or the
/// last 32 KiB before where it stopped if that is sooner, up to `valid`),
/// in a buffer of their size. `source` names the stream it came from.
pub struct Chunk {
    part: PartialChunk,
    source: String,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // Its memory serves the next chunk kept (see `pool::chunk_copy`).
        crate::pool::recycle_chunk(std::mem::take(&mut self.part.buf));
    }
}

impl Chunk {
    /// Whether the chunk's bytes `lo..need` are held.
    fn holds(&self, lo: usize, need: usize) -> bool {
        self.part.first <= lo && self.part.valid >= need
    }

    /// The chunk's bytes `from..to`.
    fn range(&self, from: u64, to: u64) -> Result<&[u8]> {
        let (from, to) = (from as usize, to as usize);
        self.part.range(from, to).ok_or_else(|| {
            Error::InvalidData(format!(
                "chunk bytes {from}..{to} were not inflated (held: {}..{})",
                self.part.first, self.part.valid
            ))
        })
    }
}

/// Buffers chunks are inflated into, reused: fresh memory costs a page
/// fault per page, a third of the time a chunk takes to inflate. Only the
/// bytes a read needs are then copied out and cached. A pool rather than
/// one per thread: parallel reads run on threads started for the call.
static SCRATCH: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Most bytes of scratch buffers kept between reads (and at most an eighth
/// of the chunk cache's budget).
const SCRATCH_KEEP: usize = 32 << 20;

fn take_scratch() -> Vec<u8> {
    SCRATCH
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop()
        .unwrap_or_default()
}

fn give_back_scratch(buf: Vec<u8>) {
    // Outside the chunk budget: at most an eighth of it.
    let most = SCRATCH_KEEP.min(CHUNKS.budget() / 8);
    let mut pool = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
    let held: usize = pool.iter().map(Vec::capacity).sum();
    if held + buf.capacity() <= most {
        pool.push(buf);
    }
}

/// Hash of a source's identity, the first half of its chunks' cache keys
/// (the identity itself is checked on every hit).
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// A gzip stream read through its seek index.
pub struct IndexedGz<'a> {
    src: &'a dyn ReadAt,
    /// Identity of the source's current contents (the cache key); `None`
    /// for sources that cannot be identified (nothing is cached then).
    id: Option<String>,
    /// [`id_hash`] of `id`, computed once: a patch looks up dozens of chunks.
    id_hash: u64,
    sidecar: Option<PathBuf>,
    /// A saved index handed over as bytes (fetched from a remote sidecar).
    saved: Option<Vec<u8>>,
}

impl<'a> IndexedGz<'a> {
    /// Read `src`, caching under `id`, looking for a saved index at `sidecar`.
    pub fn new(src: &'a dyn ReadAt, id: Option<String>, sidecar: Option<PathBuf>) -> IndexedGz<'a> {
        IndexedGz {
            src,
            id_hash: id.as_deref().map_or(0, id_hash),
            id,
            sidecar,
            saved: None,
        }
    }

    /// Use this saved index (a sidecar's bytes) when none is cached.
    pub fn with_saved_index(mut self, bytes: Option<Vec<u8>>) -> IndexedGz<'a> {
        self.saved = bytes;
        self
    }

    /// The saved index, from the bytes handed over or the sidecar file;
    /// one that cannot be trusted is reported as a warning and skipped.
    fn saved_index(&self) -> Option<SeekIndex> {
        let (what, found) = match (&self.saved, &self.sidecar) {
            (Some(bytes), _) => (
                "given".to_string(),
                sidecar::parse(bytes, self.src).map(Some),
            ),
            (None, Some(path)) => (path.display().to_string(), sidecar::load(path, self.src)),
            (None, None) => return None,
        };
        match found {
            Ok(index) => index,
            Err(why) => {
                warn(format!("ignoring seek index {what}: {why}"));
                None
            }
        }
    }

    /// The index as far as it is known (from the cache, the sidecar, or just
    /// the start of the stream).
    pub fn index(&self) -> Result<Arc<SeekIndex>> {
        if let Some(found) = self.cached_index() {
            return Ok(found);
        }
        if let Some(index) = self.saved_index() {
            let index = Arc::new(index);
            self.remember(&index);
            return Ok(index);
        }
        Ok(Arc::new(SeekIndex::new(
            span(),
            first_data_offset(self.src)?,
        )))
    }

    /// The voxels of this source, if a region read inflated all of them
    /// recently (see [`IndexedGz::keep_voxels`]).
    pub fn kept_voxels(&self) -> Option<Arc<VoxelBuffer>> {
        STREAMS.get(self.id.as_ref()?)
    }

    /// Keep `voxels`, all of this source's, for the next region reads.
    pub fn keep_voxels(&self, voxels: &Arc<VoxelBuffer>) {
        if let Some(id) = &self.id {
            STREAMS.insert(id.clone(), voxels.clone(), voxels.bytes().len());
        }
    }

    /// True if `bytes` of voxels would be kept by [`IndexedGz::keep_voxels`]
    /// (they fit the cache's budget).
    pub fn could_keep(&self, bytes: usize) -> bool {
        self.id.is_some() && bytes <= STREAMS.stats().budget
    }

    /// Drop the voxels kept for this source. Their memory goes to the pool
    /// when nothing else holds them: a patch queue inflates the next subject
    /// into it instead of faulting in (and zeroing) a fresh volume.
    pub fn drop_voxels(&self) {
        let Some(kept) = self.id.as_ref().and_then(|id| STREAMS.remove(id)) else {
            return;
        };
        if let Ok(voxels) = Arc::try_unwrap(kept) {
            crate::pool::recycle(voxels.into_parts().0);
        }
    }

    /// The first `len` bytes of this source's output, if kept.
    pub fn kept_prefix(&self, len: usize) -> Option<Vec<u8>> {
        let bytes = PREFIXES.get(self.id.as_ref()?)?;
        bytes.get(..len).map(<[u8]>::to_vec)
    }

    /// Keep the first bytes of this source's output (its header).
    pub fn keep_prefix(&self, bytes: &[u8]) {
        if let Some(id) = &self.id {
            PREFIXES.insert(id.clone(), Arc::new(bytes.to_vec()), bytes.len());
        }
    }

    /// True if an index of this source was known (cached or in a sidecar);
    /// if not, the start of one is cached, so the next call says true.
    pub fn known(&self) -> Result<bool> {
        if self.cached_index().is_some() {
            return Ok(true);
        }
        let index = self.index()?;
        let found = index.points.len() > 1;
        self.remember(&index);
        Ok(found)
    }

    /// A complete index from the cache or the sidecar, without building one.
    pub fn complete_index(&self) -> Option<Arc<SeekIndex>> {
        let cached = self.cached_index();
        let index = match cached {
            Some(index) => index,
            None => {
                let index = Arc::new(self.saved_index()?);
                self.remember(&index);
                index
            }
        };
        index.complete.then_some(index)
    }

    fn cached_index(&self) -> Option<Arc<SeekIndex>> {
        INDEXES.get(self.id.as_ref()?)
    }

    fn remember(&self, index: &Arc<SeekIndex>) {
        if let Some(id) = &self.id {
            INDEXES.insert(id.clone(), index.clone(), index.memory());
        }
    }

    /// The index grown to cover output offset `target` (the whole stream for
    /// `u64::MAX`), with the chunks `keep` asks for that the growth inflated.
    fn index_to(
        &self,
        target: u64,
        keep: &dyn Fn(u64, u64) -> bool,
    ) -> Result<(Arc<SeekIndex>, Vec<HeldChunk>)> {
        let index = self.index()?;
        if index.complete || index.covered() >= target {
            return Ok((index, Vec::new()));
        }
        let mut grown = (*index).clone();
        let kept = extend(self.src, &mut grown, target, keep)?;
        let grown = Arc::new(grown);
        self.remember(&grown);
        let kept = kept
            .into_iter()
            .map(|DecodedChunk { number, buf, head }| {
                let valid = buf.len().saturating_sub(head);
                let part = PartialChunk {
                    buf,
                    head,
                    first: 0,
                    valid,
                    stop: None,
                };
                let source = self.id.clone().unwrap_or_default();
                let chunk = Arc::new(Chunk { part, source });
                self.cache_chunk(&grown, number, &chunk);
                (number, chunk)
            })
            .collect();
        Ok((grown, kept))
    }

    /// Index the whole stream.
    pub fn build(&self) -> Result<Arc<SeekIndex>> {
        Ok(self.index_to(u64::MAX, &|_, _| false)?.0)
    }

    fn cache_chunk(&self, index: &SeekIndex, i: usize, chunk: &Arc<Chunk>) {
        if self.id.is_some() {
            let key = (self.id_hash, index.points[i].out);
            CHUNKS.insert(key, chunk.clone(), chunk.part.buf.capacity());
        }
    }

    /// The cached chunk `i`, if any (whatever part of it was inflated).
    fn cached_chunk(&self, index: &SeekIndex, i: usize) -> Option<Arc<Chunk>> {
        let id = self.id.as_ref()?;
        CHUNKS
            .get(&(self.id_hash, index.points[i].out))
            .filter(|c| c.source == *id)
    }

    /// The cached chunks of `needed`, in order, if every one holds the
    /// bytes needed of it: a hot patch, looked up under one lock.
    fn all_cached(&self, index: &SeekIndex, needed: &[NeededChunk]) -> Option<Vec<Arc<Chunk>>> {
        let id = self.id.as_ref()?;
        let keys: Vec<(u64, u64)> = needed
            .iter()
            .map(|&(i, _)| Some((self.id_hash, index.points.get(i)?.out)))
            .collect::<Option<_>>()?;
        let chunks = CHUNKS.get_all(&keys)?;
        let fit = |(c, &(_, (lo, need))): (&Arc<Chunk>, &NeededChunk)| {
            c.source == *id && c.holds(lo, need)
        };
        chunks.iter().zip(needed).all(fit).then_some(chunks)
    }

    /// Chunk `i` holding at least its bytes `lo..need`: `prior`, a part of
    /// it inflated before, is continued when it can be.
    fn inflate_chunk(
        &self,
        index: &SeekIndex,
        i: usize,
        (lo, need): (usize, usize),
        prior: Option<&Chunk>,
    ) -> Result<Arc<Chunk>> {
        let (a, b) = (&index.points[i], &index.points[i + 1]);
        let continued = prior
            .filter(|c| c.part.first <= lo && c.part.continuable(a))
            .and_then(|c| {
                let mut part = c.part.copied_into(take_scratch());
                // A part cached under an index other than this one (reloaded
                // from a sidecar) may not fit it: inflated afresh then.
                continue_chunk(self.src, a, b, &mut part, need).ok()?;
                Some(part)
            });
        let part = match continued {
            Some(part) => part,
            None => decode_chunk_in(self.src, a, b, Some(need), take_scratch())?,
        };
        // What later reads can continue from: the last window before the
        // stop (nothing continues a part without one).
        let keep_from = match part.stop {
            Some(_) => lo.min(part.valid.saturating_sub(WINDOW)),
            None => lo,
        };
        let chunk = Arc::new(Chunk {
            part: part.compact(keep_from),
            source: self.id.clone().unwrap_or_default(),
        });
        give_back_scratch(part.buf);
        self.cache_chunk(index, i, &chunk);
        Ok(chunk)
    }

    /// Call `f(k, bytes)` with the decompressed bytes of each range `k` of
    /// `ranges` (half-open, sorted, not overlapping), inflating only the
    /// chunks they touch.
    pub fn read_ranges(
        &self,
        ranges: &[(u64, u64)],
        f: &mut dyn FnMut(usize, &[u8]),
    ) -> Result<()> {
        let Some(hi) = ranges.iter().map(|r| r.1).max() else {
            return Ok(());
        };
        let touches = |s: u64, e: u64| {
            let k = ranges.partition_point(|r| r.1 <= s);
            k < ranges.len() && ranges[k].0 < e
        };
        let (index, kept) = self.index_to(hi, &touches)?;
        if index.covered() < hi {
            return Err(Error::TruncatedFile {
                what: "voxel data (decompressed)",
                expected: hi,
                got: index.covered(),
            });
        }
        let mut held: BTreeMap<usize, Arc<Chunk>> = kept.into_iter().collect();
        let needed = chunks_needed(&index, ranges);
        if held.is_empty() {
            if let Some(chunks) = self.all_cached(&index, &needed) {
                return cut_ranges(&index, &needed, &chunks, ranges, f);
            }
        }
        let mut next = 0usize;
        let mut joined = Vec::new();
        // The chunk the last range started in, with its bytes and start:
        // consecutive rows mostly fall in the same chunk.
        let mut current: Option<(usize, Arc<Chunk>, u64)> = None;
        let mut cursor = 0usize;
        for (k, &(s, e)) in ranges.iter().enumerate() {
            if s >= e {
                f(k, &[]);
                continue;
            }
            // Ranges are sorted, so the chunk index only moves forward.
            while index.points[cursor + 1].out <= s {
                cursor += 1;
            }
            let first = cursor;
            if let Some((i, chunk, c0)) = &current {
                if *i == first && e <= index.points[first + 1].out {
                    f(k, chunk.range(s - c0, e - c0)?);
                    continue;
                }
            }
            let last = index.chunk_at(e - 1);
            while needed.get(next).is_some_and(|&(i, _)| i < first) {
                next += 1;
            }
            if (first..=last).any(|i| !held.contains_key(&i)) {
                self.load_batch(&index, &needed[next..], last, &mut held)?;
            }
            held.retain(|&i, _| i >= first);
            let chunk = |i: usize| {
                held.get(&i)
                    .ok_or_else(|| Error::InvalidData(format!("chunk {i} was not inflated")))
            };
            let c0 = index.points[first].out;
            current = Some((first, chunk(first)?.clone(), c0));
            if first == last {
                f(k, chunk(first)?.range(s - c0, e - c0)?);
            } else {
                joined.clear();
                for i in first..=last {
                    let (c0, c1) = index.chunk_range(i);
                    joined.extend_from_slice(chunk(i)?.range(s.max(c0) - c0, e.min(c1) - c0)?);
                }
                f(k, &joined);
            }
        }
        Ok(())
    }

    /// Make the next chunks of `needed` (at least those up to `through`)
    /// available in `held`: from the cache, or inflated together on all cores.
    fn load_batch(
        &self,
        index: &SeekIndex,
        needed: &[(usize, (usize, usize))],
        through: usize,
        held: &mut BTreeMap<usize, Arc<Chunk>>,
    ) -> Result<()> {
        let mut missing = Vec::new();
        for &(i, (lo, need)) in needed {
            if i > through && missing.len() >= BATCH {
                break;
            }
            if held.get(&i).is_some_and(|c| c.holds(lo, need)) {
                continue;
            }
            match self.cached_chunk(index, i) {
                Some(c) if c.holds(lo, need) => {
                    held.insert(i, c);
                }
                prior => missing.push((i, (lo, need), prior)),
            }
        }
        let decoded = std::sync::Mutex::new(Vec::with_capacity(missing.len()));
        parallel::for_each(
            missing,
            || Ok(()),
            |_, (i, need, prior)| {
                let chunk = self.inflate_chunk(index, i, need, prior.as_deref())?;
                decoded
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((i, chunk));
                Ok(())
            },
        )?;
        held.extend(decoded.into_inner().unwrap_or_else(|p| p.into_inner()));
        Ok(())
    }

    /// Inflate the whole stream into `dest` on all cores, if the index is
    /// complete and says the stream is exactly `dest.len()` bytes long;
    /// `Ok(false)` (nothing read) otherwise.
    pub fn read_all(&self, dest: &mut [u8]) -> Result<bool> {
        let index = self.index()?;
        if !index.complete || index.total_out() != Some(dest.len() as u64) {
            return Ok(false);
        }
        // Fewer, longer stretches than the index has chunks: each costs a
        // splice block, but eight per core (four per phase) keep both cores
        // busy to the end of each phase (t1_int16.nii.gz on 2 cores: 24.5
        // ms with four per core, 23.3 with eight, no better with sixteen).
        let total = dest.len() as u64;
        let threads = parallel::threads() as u64;
        let target = (total / (threads * 8)).clamp(index.span, MAX_STRETCH);
        let mut points = vec![&index.points[0]];
        for p in &index.points[1..] {
            let last = points[points.len() - 1];
            if p.out - last.out >= target || p.out == total {
                points.push(p);
            }
        }
        let stretches = points.len() - 1;
        // Each stretch is inflated in place behind the splice block's output,
        // which overwrites the end of the stretch before it: even stretches
        // go first, then odd ones, saving and restoring the bytes they overwrite.
        for phase in [0, 1] {
            let ids: Vec<usize> = (phase..stretches).step_by(2).collect();
            let mut saved = Vec::new();
            if phase == 1 {
                for &i in &ids {
                    let (c0, p) = (points[i].out as usize, prefix_len(points[i]));
                    saved.push(dest[c0.saturating_sub(p)..c0].to_vec());
                }
            }
            let mut slices = Vec::with_capacity(ids.len());
            let mut rest: &mut [u8] = dest;
            let mut base = 0usize;
            for &i in &ids {
                let (c0, c1) = (points[i].out as usize, points[i + 1].out as usize);
                let lo = c0
                    .checked_sub(prefix_len(points[i]))
                    .filter(|&lo| lo >= base)
                    .ok_or_else(|| Error::gzip(points[i].bit / 8, "seek index chunks too close"))?;
                let tail = std::mem::take(&mut rest);
                let (_, tail) = tail.split_at_mut(lo - base);
                let (mine, tail) = tail.split_at_mut(c1 - lo);
                slices.push((i, mine));
                rest = tail;
                base = c1;
            }
            parallel::for_each(slices, Decompressor::new, |d, (i, out)| {
                let (a, b) = (points[i], points[i + 1]);
                ChunkInput::prepare(self.src, a, b, d)?.decode(d, a, b, out)
            })?;
            if phase == 1 {
                for (&i, bytes) in ids.iter().zip(saved) {
                    let c0 = points[i].out as usize;
                    dest[c0 - bytes.len()..c0].copy_from_slice(&bytes);
                }
            }
        }
        Ok(true)
    }
}
