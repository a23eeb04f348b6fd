//! Deflating the windows of the checkpoints an index build drops: on a
//! helper thread when a second core is free, so that the one-core inflate
//! that builds the index does not also pay for them (a tenth of a whole
//! build at the default span). Checkpoints hold their raw window until
//! their deflated one comes back.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::Scope;

use super::index::SeekIndex;
use super::libdeflate::Compressor;
use crate::error::Result;

/// Level for deflating stored windows: fast, and windows are small.
const WINDOW_LEVEL: i32 = 1;

/// A window to deflate: the checkpoint's number and its raw bytes.
type Job = (usize, Arc<[u8]>);
/// A deflated window, `None` if deflating would not shrink it.
type Packed = (usize, Option<Vec<u8>>);

/// Where the windows of new checkpoints are deflated.
pub(super) enum Packer {
    /// On this thread, as each checkpoint is dropped.
    Here(Compressor),
    /// On a helper thread, with the count of windows sent and
    /// not yet received back.
    Helper(Sender<Job>, Receiver<Packed>, usize),
}

impl Packer {
    /// Deflate on this thread.
    pub(super) fn here() -> Result<Packer> {
        Ok(Packer::Here(Compressor::new(WINDOW_LEVEL)?))
    }

    /// Deflate on a helper thread started in `scope` (which joins it once
    /// the packer is dropped), or on this thread if none can be started.
    pub(super) fn helped<'s>(scope: &'s Scope<'s, '_>) -> Result<Packer> {
        let (jobs_in, jobs_out) = channel();
        let (done_in, done_out) = channel();
        let helper =
            std::thread::Builder::new().spawn_scoped(scope, move || serve(jobs_out, done_in));
        match helper {
            Ok(_) => Ok(Packer::Helper(jobs_in, done_out, 0)),
            Err(_) => Packer::here(),
        }
    }

    /// Deflate the raw window of checkpoint `at` of `index`.
    pub(super) fn submit(&mut self, index: &mut SeekIndex, at: usize) {
        let Some(point) = index.points.get_mut(at) else {
            return;
        };
        match self {
            Packer::Here(compressor) => {
                if let Some(packed) = compressor.deflate(&point.stored_window()) {
                    point.pack_window(packed);
                }
            }
            Packer::Helper(jobs, _, pending) => {
                // A helper gone (it cannot fail, but if it did) leaves the
                // window raw: larger, still right.
                if jobs.send((at, point.stored_window())).is_ok() {
                    *pending += 1;
                }
            }
        }
    }

    /// Put every window deflated so far in its checkpoint, waiting for
    /// those still being deflated: the index's memory is then final.
    pub(super) fn settle(&mut self, index: &mut SeekIndex) {
        let Packer::Helper(_, done, pending) = self else {
            return;
        };
        while *pending > 0 {
            let Ok((at, packed)) = done.recv() else {
                *pending = 0;
                return;
            };
            *pending -= 1;
            if let (Some(point), Some(packed)) = (index.points.get_mut(at), packed) {
                point.pack_window(packed);
            }
        }
    }
}

/// The helper's loop: deflate each window sent until the sender is dropped.
fn serve(jobs: Receiver<Job>, done: Sender<Packed>) {
    let mut compressor = Compressor::new(WINDOW_LEVEL).ok();
    for (at, window) in jobs {
        let packed = compressor.as_mut().and_then(|c| c.deflate(&window));
        if done.send((at, packed)).is_err() {
            return;
        }
    }
}
