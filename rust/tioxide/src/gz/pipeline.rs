//! Blocks compressed by worker threads and written in order by the caller:
//! the machinery behind [`super::compress`]'s parallel gzip.

use crate::error::{Error, Result};

/// Stops a pipeline when dropped.
pub(super) struct StopOnDrop<'a>(pub(super) &'a Pipeline);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fail(None);
    }
}

/// Stops a pipeline when dropped by a panic.
struct StopIfPanicking<'a>(&'a Pipeline);

impl Drop for StopIfPanicking<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail(None);
        }
    }
}

/// One compressed block: its deflate bytes, and the CRC32 and length of its input.
pub(super) struct Compressed {
    pub(super) bytes: Vec<u8>,
    pub(super) crc: u32,
    pub(super) len: usize,
}

/// Blocks handed out in order to worker threads and taken back in order by
/// the writer, with at most `ahead` of them done and not yet written (so a
/// file read block by block is held a few blocks at a time).
pub(super) struct Pipeline {
    state: std::sync::Mutex<PipelineState>,
    changed: std::sync::Condvar,
    blocks: usize,
    ahead: usize,
}

struct PipelineState {
    next: usize,
    written: usize,
    done: std::collections::BTreeMap<usize, Compressed>,
    stopped: bool,
    failed: Option<Error>,
}

impl Pipeline {
    pub(super) fn new(blocks: usize, ahead: usize) -> Pipeline {
        Pipeline {
            state: std::sync::Mutex::new(PipelineState {
                next: 0,
                written: 0,
                done: std::collections::BTreeMap::new(),
                stopped: false,
                failed: None,
            }),
            changed: std::sync::Condvar::new(),
            blocks,
            ahead: ahead.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PipelineState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker: compress blocks until none is left or something failed.
    pub(super) fn work<S>(
        &self,
        init: impl FnOnce() -> Result<S>,
        compress: impl Fn(&mut S, usize) -> Result<Compressed>,
    ) {
        // A panicking worker stops the others and the writer (the scope
        // then passes the panic on), instead of leaving them waiting.
        let _stop = StopIfPanicking(self);
        let mut state = match init() {
            Ok(s) => s,
            Err(e) => return self.fail(Some(e)),
        };
        loop {
            let i = {
                let mut st = self.lock();
                while !st.stopped && st.next < self.blocks && st.next >= st.written + self.ahead {
                    st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if st.stopped || st.next >= self.blocks {
                    return;
                }
                st.next += 1;
                st.next - 1
            };
            match compress(&mut state, i) {
                Ok(block) => {
                    self.lock().done.insert(i, block);
                    self.changed.notify_all();
                }
                Err(e) => return self.fail(Some(e)),
            }
        }
    }

    /// The writer: block `i` once compressed (blocks are taken in order).
    pub(super) fn take(&self, i: usize) -> Result<Compressed> {
        let mut st = self.lock();
        loop {
            if let Some(block) = st.done.remove(&i) {
                st.written = i + 1;
                drop(st);
                self.changed.notify_all();
                return Ok(block);
            }
            if st.stopped {
                let stopped = || Error::Io(std::io::Error::other("compression stopped"));
                return Err(st.failed.take().unwrap_or_else(stopped));
            }
            st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Stop every thread; the first error given is the one the writer gets.
    fn fail(&self, e: Option<Error>) {
        let mut st = self.lock();
        st.stopped = true;
        if st.failed.is_none() {
            st.failed = e;
        }
        drop(st);
        self.changed.notify_all();
    }
}
