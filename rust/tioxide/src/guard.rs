//! Copies out of memory-mapped files that survive the file being cut short
//! by another process: a read of a page past the new end raises SIGBUS,
//! which would kill the interpreter. While a guarded copy runs, a SIGBUS on
//! an address of its mapping is answered by mapping a zero page there (the
//! copy completes, with zeros) and noting the fault; the caller then
//! reports a truncated file and drops the map. Any other SIGBUS goes to the
//! handler that was installed before, or kills the process as usual.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

thread_local! {
    // Const-initialised and without destructors: safe to touch in a handler.
    static ACTIVE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    static FAULTED: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
static PAGE: AtomicUsize = AtomicUsize::new(4096);

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let (lo, hi) = ACTIVE.with(Cell::get);
    if addr >= lo && addr < hi {
        let page = addr & !(PAGE.load(Ordering::Relaxed) - 1);
        // SAFETY: the page lies inside the guarded mapping, which belongs
        // to this process and is only read; replacing it with a private
        // zero page changes what the copy reads, nothing else.
        let mapped = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                PAGE.load(Ordering::Relaxed),
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if mapped != libc::MAP_FAILED {
            FAULTED.with(|f| f.set(true));
            return;
        }
    }
    match PREVIOUS.get() {
        Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
            // SAFETY: calling the handler that was installed before ours,
            // with the signature its flags declare.
            unsafe {
                if prev.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(prev.sa_sigaction);
                    f(sig, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
                    f(sig);
                }
            }
        }
        _ => {
            // Not ours and nobody else's: the default action, on return the
            // faulting access repeats and the process dies as it would have.
            // SAFETY: resetting a signal disposition is async-signal-safe.
            unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
        }
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf and sigaction with valid arguments; `action` is
        // fully initialised (zeroed, then the handler and flags set).
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &action, &mut previous) == 0 {
                let _ = PREVIOUS.set(previous);
            }
        }
    });
}

/// Run `copy`, which reads only from `mapped` (a memory-mapped file); true
/// in the second value if part of the mapping was gone (the file shrank),
/// in which case what was copied from there is zeros and the mapping must
/// not be used again.
pub fn guarded<R>(mapped: &[u8], copy: impl FnOnce() -> R) -> (R, bool) {
    install();
    let range = (
        mapped.as_ptr() as usize,
        mapped.as_ptr() as usize + mapped.len(),
    );
    ACTIVE.with(|a| a.set(range));
    FAULTED.with(|f| f.set(false));
    let result = copy();
    ACTIVE.with(|a| a.set((0, 0)));
    (result, FAULTED.with(Cell::get))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_cut_file_reads_as_zeros_and_is_reported() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![7u8; 64 << 10]).unwrap();
        // SAFETY: test-only map of a private temporary file.
        let map = unsafe { memmap2::Mmap::map(&file).unwrap() };
        // black_box: the optimiser may not reuse the first sum for the
        // second (the bytes behind a shared slice "cannot" change).
        let sum_of = |m: &[u8]| {
            let m = std::hint::black_box(m);
            m.iter().map(|&b| u64::from(b)).sum::<u64>()
        };
        let (sum, faulted) = guarded(&map, || sum_of(&map));
        assert_eq!((sum, faulted), (7 * (64 << 10), false));
        file.set_len(4096).unwrap();
        let (sum, faulted) = guarded(&map, || sum_of(&map));
        assert!(faulted);
        assert_eq!(sum, 7 * 4096);
    }
}
