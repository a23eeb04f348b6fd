//! Small per-process caches of parsed headers and memory maps, keyed by
//! path and validated by `stat` on every use.
//!
//! Patch-based training reads many small regions from the same files; a
//! cached header and map turn each read into one `stat` plus the copy of the
//! bytes the region needs (no open, no parse, no page-table setup for pages
//! mapped before).
//!
//! Entries are trusted only while device, inode, size and modification time
//! match. Locks are retried briefly, never waited on: a child process forked
//! while another thread held one (DataLoader workers) simply reads uncached,
//! so a cache can never deadlock or hand out stale data.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use crate::error::Result;

/// Attempts before a busy lock is given up on.
const TRIES: usize = 2000;

/// The lock, retried for a moment if another thread holds it; `None` if it
/// stays held (by a thread that does not exist in a forked child, say).
pub(crate) fn lock_briefly<T>(m: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    for _ in 0..TRIES {
        match m.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => std::thread::yield_now(),
        }
    }
    None
}

/// Identity of a file's current contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    /// Status change time: what a rewrite that puts the size and mtime
    /// back (`touch -r`, `cp -p`, `rsync -t` in place) cannot restore.
    ctime_ns: i128,
}

impl FileKey {
    /// `stat` the path.
    pub fn of(path: &Path) -> std::io::Result<FileKey> {
        Ok(FileKey::from_metadata(&std::fs::metadata(path)?))
    }

    /// `fstat` an open file: the identity of what is actually read.
    pub fn of_file(file: &std::fs::File) -> std::io::Result<FileKey> {
        Ok(FileKey::from_metadata(&file.metadata()?))
    }

    /// The identity `m` describes.
    pub(crate) fn from_metadata(m: &std::fs::Metadata) -> FileKey {
        FileKey {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        }
    }

    /// Size of the file in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A string naming `path` as this key describes it: the cache key of
    /// its seek index and chunks. Written digit by digit, not through
    /// `format!`, which cost a hot patch read a tenth of its time.
    pub(crate) fn identity(&self, path: &Path) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let lossy = path.to_string_lossy();
        let mut id = String::with_capacity(lossy.len() + 5 * 33);
        id.push_str(&lossy);
        // Two's complement bits of the times: any value, one spelling.
        let fields = [
            u128::from(self.dev),
            u128::from(self.ino),
            u128::from(self.size),
            self.mtime_ns as u128,
            self.ctime_ns as u128,
        ];
        for field in fields {
            id.push('\0');
            let digits = (128 - field.leading_zeros()).div_ceil(4).max(1);
            for d in (0..digits).rev() {
                id.push(char::from(HEX[((field >> (4 * d)) & 0xf) as usize]));
            }
        }
        id
    }
}

/// A least-recently-used map from path to a value valid for one [`FileKey`].
pub struct StatCache<K, V> {
    entries: Mutex<Vec<(PathBuf, K, V)>>,
    capacity: usize,
}

impl<K: PartialEq + Copy, V: Clone> StatCache<K, V> {
    /// An empty cache holding at most `capacity` entries.
    pub const fn new(capacity: usize) -> StatCache<K, V> {
        StatCache {
            entries: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// The cached value for `path` if its key still matches, else `make()`
    /// (stored for next time).
    pub fn get_or_insert(
        &self,
        path: &Path,
        key: K,
        make: impl FnOnce() -> Result<V>,
    ) -> Result<V> {
        if let Some(mut entries) = lock_briefly(&self.entries) {
            // From the most recently used end, identity before path: a
            // patch queue opens the same few of many files again and again,
            // and a `Path` comparison walks both paths' components.
            let same = |(p, k, _): &(PathBuf, K, V)| *k == key && p.as_os_str() == path.as_os_str();
            if let Some(i) = entries.iter().rposition(same) {
                let entry = entries.remove(i);
                let value = entry.2.clone();
                entries.push(entry);
                return Ok(value);
            }
        }
        let value = make()?;
        if let Some(mut entries) = lock_briefly(&self.entries) {
            entries.retain(|(p, _, _)| p != path);
            if entries.len() >= self.capacity {
                entries.remove(0);
            }
            entries.push((path.to_path_buf(), key, value.clone()));
        }
        Ok(value)
    }

    /// Call `f` with every cached value.
    pub fn for_each(&self, mut f: impl FnMut(&V)) {
        if let Some(entries) = lock_briefly(&self.entries) {
            entries.iter().for_each(|(_, _, v)| f(v));
        }
    }

    /// Drop every entry.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Memory maps of plain data files, for region reads.
pub static MAPS: StatCache<FileKey, Arc<crate::mapped::MappedFile>> = StatCache::new(32);

/// Drop all cached headers and maps (their memory is released once no read
/// uses them), and close the file a header read left open for its voxels.
pub fn clear() {
    MAPS.clear();
    crate::file::HEADERS.clear();
    crate::file::forget_opened();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_tell_every_field_apart_and_spell_each_key_one_way() {
        let key = FileKey {
            dev: 0x803,
            ino: 42,
            size: 0,
            mtime_ns: -1,
            ctime_ns: 1_700_000_000_123_456_789,
        };
        let path = Path::new("/data/a.nii.gz");
        let id = key.identity(path);
        assert_eq!(
            id,
            format!(
                "/data/a.nii.gz\0803\02a\00\0{}\0{:x}",
                "f".repeat(32),
                1_700_000_000_123_456_789u128
            )
        );
        assert_eq!(key.identity(path), id);
        // Digits move between fields: the separators keep them apart.
        let moved = FileKey {
            dev: 0x80,
            ino: 0x342,
            ..key
        };
        assert_ne!(moved.identity(path), id);
        for changed in [
            FileKey { size: 1, ..key },
            FileKey { mtime_ns: 0, ..key },
            FileKey { ctime_ns: 1, ..key },
        ] {
            assert_ne!(changed.identity(path), id);
        }
        assert_ne!(key.identity(Path::new("/data/b.nii.gz")), id);
    }
}
