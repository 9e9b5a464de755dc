//! Process lifetime for the hosts of the goldplan core: the language bindings and the C
//! library.
//!
//! The core never creates a runtime and never looks at process ids. A host does both, and a host
//! loaded into a server that forks after loading it (gunicorn `--preload`, Celery prefork,
//! PHP-FPM, Apache prefork, Node's cluster module) must not use, in the child, the runtime and
//! the pooled connections it created in the parent: the runtime's worker threads do not exist in
//! the child, and the parent's sockets are shared with it. This crate gives every host the same
//! answer:
//!
//! * [`runtime`] — one multi-thread tokio runtime per process, created on first use and created
//!   anew in a child after `fork()` (the parent's is leaked there: dropping it would wait for
//!   threads that do not exist);
//! * [`ForkSafeClient`] — a [`goldplan::Client`] that, used in a child, first becomes
//!   [`goldplan::Client::with_new_connections`].
//!
//! Both are lock-free (`arc-swap`), so a `fork()` taken while another thread is inside them
//! cannot leave a lock held forever in the child.
//!
//! [`register_certificate_stores`] plugs the certificate stores a host ships (Redis) into the
//! core, so that the `certificate_store` setting works the same from every language.

// Only the fork test uses `unsafe` (libc::fork), and allows it where it does.
#![deny(unsafe_code)]

use std::io;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::runtime::{Builder, Handle, Runtime};

/// Makes the certificate stores and shared rate limiters this host ships available to the
/// core's `certificate_store` and `rate_limit` settings: `redis://` and `rediss://`
/// ([`goldplan_redis::RedisCertificateStore`], [`goldplan_redis::RedisRateLimiter`]). Call it
/// before building clients from a configuration; calling it again does nothing.
pub fn register_certificate_stores() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for scheme in ["redis", "rediss"] {
            goldplan::client::register_store_scheme(
                scheme,
                goldplan_redis::RedisCertificateStore::factory,
            );
            goldplan::client::register_rate_limiter_scheme(
                scheme,
                goldplan_redis::RedisRateLimiter::factory,
            );
        }
    });
}

/// A runtime and the process that created it.
struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
}

static RUNTIME: ArcSwapOption<ProcessRuntime> = ArcSwapOption::const_empty();

/// The tokio runtime of this process: created on first use, and again in a child process after
/// `fork()`. Its worker threads are named `goldplan-runtime`.
pub fn runtime() -> io::Result<Handle> {
    let pid = std::process::id();
    let current = RUNTIME.load_full();
    if let Some(rt) = &current
        && rt.pid == pid
    {
        return Ok(rt.runtime.handle().clone());
    }
    let built = Builder::new_multi_thread()
        .enable_all()
        .thread_name("goldplan-runtime")
        .build()?;
    let fresh = Arc::new(ProcessRuntime {
        pid,
        runtime: built,
    });
    let previous = RUNTIME.compare_and_swap(&current, Some(fresh.clone()));
    let won = match (&*previous, &current) {
        (Some(p), Some(c)) => Arc::ptr_eq(p, c),
        (None, None) => true,
        _ => false,
    };
    if !won {
        // Another thread of this process installed its runtime first: use that one. Ours has
        // never run a task and its threads exist here, so dropping it is fine.
        return previous
            .as_ref()
            .filter(|rt| rt.pid == pid)
            .map(|rt| rt.runtime.handle().clone())
            .map_or_else(runtime, Ok);
    }
    if let Some(parent) = current {
        // The parent's runtime: its threads are gone in this process, so it must not be
        // dropped (that would wait for them). The memory stays; it is a one-time cost per fork.
        std::mem::forget(parent);
    }
    Ok(fresh.runtime.handle().clone())
}

/// Stops this process's runtime, if it made one: tasks still running are dropped, and blocking
/// work in progress gets up to `timeout` to finish. For hosts whose interpreter tears itself
/// down at exit (CPython): their callbacks must not still be running on runtime threads while
/// the interpreter finalises. A later [`runtime`] call makes a new runtime.
pub fn shutdown_runtime(timeout: Duration) {
    let Some(current) = RUNTIME.swap(None) else {
        return;
    };
    if current.pid != std::process::id() {
        // A parent's runtime inherited through fork(): its threads are not here (see `runtime`).
        std::mem::forget(current);
        return;
    }
    match Arc::try_unwrap(current) {
        Ok(owned) => owned.runtime.shutdown_timeout(timeout),
        // Another thread is inside `runtime` with a clone; dropping the last clone there could
        // be on a runtime thread, where a runtime must not be dropped. At exit, leaking is fine.
        Err(shared) => std::mem::forget(shared),
    }
}

/// The process id whose runtime [`runtime`] last served, if any (for tests of fork handling).
pub fn runtime_pid() -> Option<u32> {
    RUNTIME.load().as_ref().map(|rt| rt.pid)
}

/// A client and the process it belongs to.
struct Owned {
    pid: u32,
    client: goldplan::Client,
}

/// A [`goldplan::Client`] that is safe to keep across `fork()`: in a child process, the first
/// use makes a client with the same settings and trusted certificates but new connections and
/// refresh state ([`goldplan::Client::with_new_connections`]).
pub struct ForkSafeClient {
    owned: ArcSwap<Owned>,
}

impl std::fmt::Debug for ForkSafeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let owned = self.owned.load();
        f.debug_struct("ForkSafeClient")
            .field("pid", &owned.pid)
            .field("client", &owned.client)
            .finish()
    }
}

impl ForkSafeClient {
    /// Wraps a client created in this process.
    pub fn new(client: goldplan::Client) -> ForkSafeClient {
        ForkSafeClient {
            owned: ArcSwap::from_pointee(Owned {
                pid: std::process::id(),
                client,
            }),
        }
    }

    /// The client for this process.
    pub fn get(&self) -> goldplan::Result<goldplan::Client> {
        let pid = std::process::id();
        let current = self.owned.load_full();
        if current.pid == pid {
            return Ok(current.client.clone());
        }
        let fresh = Arc::new(Owned {
            pid,
            client: current.client.with_new_connections()?,
        });
        let previous = self.owned.compare_and_swap(&current, fresh.clone());
        if !Arc::ptr_eq(&previous, &current) {
            // Another thread of this process got there first.
            return Ok(previous.client.clone());
        }
        // The parent's client holds the parent's connections and tasks on the parent's runtime:
        // dropping it here could touch them, so it is leaked instead.
        std::mem::forget(current);
        Ok(fresh.client.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, unsafe_code)]
    use super::*;

    #[test]
    fn one_runtime_per_process() {
        let a = runtime().unwrap();
        let b = runtime().unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(runtime_pid(), Some(std::process::id()));
        assert_eq!(a.block_on(async { 7 }), 7);
    }

    #[test]
    fn a_forked_child_gets_its_own_working_runtime() {
        let parent = runtime().unwrap();
        assert_eq!(parent.block_on(async { 1 }), 1);
        // SAFETY: the child only calls async-signal-unsafe code that this test controls and
        // leaves with `_exit`, never returning into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ok = std::panic::catch_unwind(|| {
                let child = runtime().unwrap();
                let spawned =
                    child.block_on(async { tokio::spawn(async { 40 + 2 }).await.unwrap() });
                spawned == 42 && runtime_pid() == Some(std::process::id())
            })
            .unwrap_or(false);
            // SAFETY: leaves the child without running the parent's atexit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child created above.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child failed: {status}"
        );
        assert_eq!(
            parent.block_on(async { 2 }),
            2,
            "the parent's runtime still works"
        );
    }

    /// Waits for child `pid` at most `limit` (a child that hangs, e.g. on a lock copied
    /// locked, is killed and counted as failed instead of hanging the suite).
    fn exited_cleanly_within(pid: libc::pid_t, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let mut status = 0;
        loop {
            // SAFETY: polls the child created by the caller.
            match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
                0 if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                0 => {
                    // SAFETY: the child is ours and has not been reaped.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                        libc::waitpid(pid, &mut status, 0);
                    }
                    return false;
                }
                waited => {
                    return waited == pid
                        && libc::WIFEXITED(status)
                        && libc::WEXITSTATUS(status) == 0;
                }
            }
        }
    }

    /// A fork taken while other threads sign: the child's first signatures must work and be
    /// right (aws-lc's RSA blinding state may be copied mid-update; the child must not use it).
    #[test]
    fn a_child_forked_while_threads_sign_signs_with_its_own_key_objects() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/keys/merchant_test_key.pem"
        ))
        .unwrap();
        let key = Arc::new(goldplan::credentials::PrivateKey::from_pem(&pem).unwrap());
        let expected = key.sign_sha256(b"signed in the child").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let signers: Vec<_> = (0..8)
            .map(|i| {
                let (key, stop) = (Arc::clone(&key), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let message = format!("busy signer {i}");
                    while !stop.load(Ordering::Relaxed) {
                        key.sign_sha256(message.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        let mut failed = 0;
        for _ in 0..40 {
            // SAFETY: the child runs only the signing code below and leaves with `_exit`.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                let ok = std::panic::catch_unwind(|| {
                    (0..3).all(|_| {
                        key.sign_sha256(b"signed in the child").ok() == Some(expected.clone())
                    })
                })
                .unwrap_or(false);
                // SAFETY: leaves the child without running the parent's atexit handlers.
                unsafe { libc::_exit(if ok { 0 } else { 1 }) };
            }
            if !exited_cleanly_within(pid, std::time::Duration::from_secs(20)) {
                failed += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        for signer in signers {
            signer.join().unwrap();
        }
        assert_eq!(failed, 0, "children that could not sign after fork, of 40");
        assert_eq!(key.sign_sha256(b"signed in the child").unwrap(), expected);
    }
}
