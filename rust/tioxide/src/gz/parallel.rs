//! Running independent inflate tasks on all cores.
//!
//! Scoped threads started for each call, not a persistent pool: a pool
//! created before `fork` (a DataLoader parent) leaves the child with a pool
//! whose threads do not exist, and any parallel call there hangs. Starting
//! threads costs tens of microseconds; a task inflates about a megabyte.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::Result;

static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Threads used for parallel inflate (0: one per available core).
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// Threads parallel inflate will use.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => cores(),
        n => n,
    }
}

/// Cores this process may use, asked once: `available_parallelism` reads
/// the cgroup's files (a dozen system calls, 15 µs), which a hot patch read
/// would otherwise pay on every call.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Run `task(state, item)` for every item, on up to [`threads`] threads
/// (this one included), each with its own `state` from `init`; the first
/// error stops the remaining items and is returned.
pub fn for_each<T: Send, S>(
    items: Vec<T>,
    init: impl Fn() -> Result<S> + Sync,
    task: impl Fn(&mut S, T) -> Result<()> + Sync,
) -> Result<()> {
    let workers = threads().min(items.len());
    if workers <= 1 {
        let mut state = init()?;
        return items
            .into_iter()
            .try_for_each(|item| task(&mut state, item));
    }
    let queue = Mutex::new(items.into_iter());
    let failed: Mutex<Option<crate::error::Error>> = Mutex::new(None);
    let work = || {
        let mut state = match init() {
            Ok(s) => s,
            Err(e) => {
                failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                return;
            }
        };
        loop {
            if failed.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                return;
            }
            let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
            let Some(item) = next else { return };
            if let Err(e) = task(&mut state, item) {
                failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                return;
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
