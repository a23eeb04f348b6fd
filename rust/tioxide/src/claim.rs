//! Work shared between threads piece by piece: each thread claims the next
//! piece when it is done with its last one.
//!
//! Copying a whole `.nii` out of the page cache on two cores takes a third
//! of the time of one core on the machines measured (one core's copies are
//! bound by how many cache misses it keeps in flight, not by the memory).
//! Halves fixed in advance are fragile: when another process's thread (a
//! BLAS or OpenMP pool spinning after its work) holds the second core, the
//! first waits for a half that has barely started, and the read took five
//! times as long. Claimed pieces degrade to one thread's time instead: the
//! calling thread goes on claiming, and at the end waits for at most the
//! piece each helper has in hand.

use std::sync::Mutex;

use crate::error::{Error, Result};

/// Run `work` on every item of `pieces`, on the calling thread and up to
/// `threads - 1` helpers, each taking the next item when done with its
/// last. Stops handing out items at the first error and returns it. A
/// helper that cannot be started leaves its share to the others.
pub(crate) fn in_pieces<T: Send>(
    pieces: impl Iterator<Item = T> + Send,
    threads: usize,
    work: impl Fn(T) -> Result<()> + Sync,
) -> Result<()> {
    let queue = Mutex::new(Some(pieces));
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    // Each thread's loop: the queue is locked only to take the next item.
    let run = || loop {
        let next = match queue.lock() {
            Ok(mut q) => q.as_mut().and_then(Iterator::next),
            Err(_) => None,
        };
        let Some(item) = next else { return };
        if let Err(e) = work(item) {
            if let Ok(mut q) = queue.lock() {
                *q = None; // nothing more is handed out
            }
            if let Ok(mut f) = failed.lock() {
                f.get_or_insert(e);
            }
            return;
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.max(1))
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, run).ok())
            .collect();
        run();
        for helper in helpers {
            if helper.join().is_err() {
                // A piece it held may be unwritten: the whole result is void.
                let e = Error::Io(std::io::Error::other("a reading thread stopped"));
                if let Ok(mut f) = failed.lock() {
                    f.get_or_insert(e);
                }
            }
        }
    });
    match failed.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e),
        Err(_) => Err(Error::Io(std::io::Error::other("a reading thread stopped"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_piece_is_done_once_whatever_the_threads() {
        for threads in [0, 1, 2, 5] {
            let done: Vec<AtomicUsize> = (0..100).map(|_| AtomicUsize::new(0)).collect();
            in_pieces(0..100usize, threads, |i| {
                done[i].fetch_add(1, Ordering::Relaxed);
                Ok(())
            })
            .unwrap();
            assert!(
                done.iter().all(|d| d.load(Ordering::Relaxed) == 1),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn the_first_error_stops_the_handing_out_and_is_returned() {
        for threads in [1, 2] {
            let started = AtomicUsize::new(0);
            let r = in_pieces(0..1000usize, threads, |i| {
                started.fetch_add(1, Ordering::Relaxed);
                if i == 3 {
                    return Err(Error::TruncatedFile {
                        what: "piece",
                        expected: 4,
                        got: 3,
                    });
                }
                Ok(())
            });
            assert!(matches!(r, Err(Error::TruncatedFile { got: 3, .. })));
            let started = started.load(Ordering::Relaxed);
            if threads == 1 {
                assert_eq!(started, 4);
            } else {
                assert!(started < 1000);
            }
        }
    }
}
