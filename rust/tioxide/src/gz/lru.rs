//! A least-recently-used map bounded by the bytes its values hold.
//!
//! Locks are never waited for indefinitely: a lock held by another thread
//! is retried briefly (entries are only looked up or inserted under it),
//! and one still held after that (a forked child whose parent held it at
//! the fork) is given up on: the read works uncached instead of deadlocking.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::cache::lock_briefly;

struct Inner<K, V> {
    map: HashMap<K, (V, usize, u64), BuildHasherDefault<QuickHasher>>,
    used: usize,
    tick: u64,
    hits: u64,
    misses: u64,
}

/// A multiply-rotate hash (as rustc's own maps use): a hot patch looks up
/// dozens of chunks, and SipHash's resistance to chosen keys buys nothing
/// for keys that are file offsets and paths of this process.
#[derive(Default, Clone, Copy)]
struct QuickHasher(u64);

impl QuickHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(b) ^ (rest.len() as u64) << 59);
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        // The product's high bits are its well-mixed ones; the table picks
        // buckets by the low bits (chunk offsets may share all of theirs).
        self.0.rotate_left(26)
    }
}

/// Counters of a cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LruStats {
    /// Entries held.
    pub entries: usize,
    /// Bytes held.
    pub bytes: usize,
    /// Budget in bytes.
    pub budget: usize,
    /// Lookups that found their entry.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
}

/// The cache.
pub struct ByteLru<K, V> {
    inner: Mutex<Option<Inner<K, V>>>,
    budget: AtomicUsize,
}

impl<K: Eq + Hash + Clone, V: Clone> ByteLru<K, V> {
    /// An empty cache holding at most `budget` bytes.
    pub const fn new(budget: usize) -> ByteLru<K, V> {
        ByteLru {
            inner: Mutex::new(None),
            budget: AtomicUsize::new(budget),
        }
    }

    /// The value for `key`, if cached.
    pub fn get(&self, key: &K) -> Option<V> {
        let mut guard = lock_briefly(&self.inner)?;
        let inner = guard.as_mut()?;
        inner.tick += 1;
        let tick = inner.tick;
        match inner.map.get_mut(key) {
            Some(entry) => {
                entry.2 = tick;
                inner.hits += 1;
                Some(entry.0.clone())
            }
            None => {
                inner.misses += 1;
                None
            }
        }
    }

    /// The values for all of `keys`, in order, under one lock; `None`
    /// (nothing counted, nothing touched) unless every one is cached.
    pub fn get_all(&self, keys: &[K]) -> Option<Vec<V>> {
        let mut guard = lock_briefly(&self.inner)?;
        let inner = guard.as_mut()?;
        if !keys.iter().all(|k| inner.map.contains_key(k)) {
            return None;
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            inner.tick += 1;
            let entry = inner.map.get_mut(key)?;
            entry.2 = inner.tick;
            out.push(entry.0.clone());
        }
        inner.hits += keys.len() as u64;
        Some(out)
    }

    /// Store `value`, which holds `size` bytes, evicting the least recently
    /// used entries to stay within the budget. Values larger than the whole
    /// budget are not stored.
    pub fn insert(&self, key: K, value: V, size: usize) {
        let budget = self.budget.load(Ordering::Relaxed);
        if size > budget {
            return;
        }
        let Some(mut guard) = lock_briefly(&self.inner) else {
            return;
        };
        let inner = guard.get_or_insert_with(|| Inner {
            map: HashMap::default(),
            used: 0,
            tick: 0,
            hits: 0,
            misses: 0,
        });
        inner.tick += 1;
        if let Some(old) = inner.map.insert(key, (value, size, inner.tick)) {
            inner.used -= old.1;
        }
        inner.used += size;
        evict(inner, budget);
    }

    /// Take the entry for `key` out, if any (dropped by the caller, outside the lock).
    pub fn remove(&self, key: &K) -> Option<V> {
        let mut guard = lock_briefly(&self.inner)?;
        let inner = guard.as_mut()?;
        let e = inner.map.remove(key)?;
        inner.used -= e.1;
        Some(e.0)
    }

    /// Change the budget (evicting at once if it shrank).
    pub fn set_budget(&self, budget: usize) {
        self.budget.store(budget, Ordering::Relaxed);
        if let Ok(mut guard) = self.inner.lock() {
            if let Some(inner) = guard.as_mut() {
                evict(inner, budget);
            }
        }
    }

    /// The budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget.load(Ordering::Relaxed)
    }

    /// Counters.
    pub fn stats(&self) -> LruStats {
        let budget = self.budget.load(Ordering::Relaxed);
        match self.inner.lock() {
            Ok(guard) => guard.as_ref().map_or(
                LruStats {
                    budget,
                    ..LruStats::default()
                },
                |i| LruStats {
                    entries: i.map.len(),
                    bytes: i.used,
                    budget,
                    hits: i.hits,
                    misses: i.misses,
                },
            ),
            Err(_) => LruStats::default(),
        }
    }

    /// Drop every entry and reset the counters.
    pub fn clear(&self) {
        if let Ok(mut guard) = self.inner.lock() {
            *guard = None;
        }
    }
}

fn evict<K: Eq + Hash + Clone, V>(inner: &mut Inner<K, V>, budget: usize) {
    while inner.used > budget {
        let Some(oldest) = inner
            .map
            .iter()
            .min_by_key(|(_, e)| e.2)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        if let Some(e) = inner.map.remove(&oldest) {
            inner.used -= e.1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys alike in all their low bits (chunk offsets a power of two
    /// apart) still spread over the table's buckets.
    #[test]
    fn aligned_keys_get_distinct_low_bits() {
        let low = |k: (u64, u64)| {
            let mut h = QuickHasher::default();
            k.hash(&mut h);
            h.finish() & 0xfff
        };
        let seen: std::collections::HashSet<u64> =
            (0..1000u64).map(|i| low((42, i << 20))).collect();
        assert!(seen.len() > 700, "{} distinct of 1000", seen.len());
    }

    #[test]
    fn entries_are_found_evicted_and_counted() {
        let lru: ByteLru<(u64, u64), u32> = ByteLru::new(100);
        for i in 0..10u64 {
            lru.insert((1, i << 20), i as u32, 10);
        }
        assert_eq!(lru.get(&(1, 3 << 20)), Some(3));
        assert_eq!(lru.get_all(&[(1, 0), (1, 9 << 20)]), Some(vec![0, 9]));
        assert_eq!(lru.get_all(&[(1, 0), (2, 0)]), None);
        lru.insert((1, 10 << 20), 10, 10); // evicts the least recent: key 1
        assert_eq!(lru.get(&(1, 1 << 20)), None);
        assert_eq!(lru.get(&(1, 10 << 20)), Some(10));
        let stats = lru.stats();
        assert_eq!((stats.entries, stats.bytes), (10, 100));
    }
}
