//! The TCP side under abuse (issue 11, item 7): a slow request head (slowloris), a stalled
//! request body and more connections than the cap. Every wait is bounded by a timeout the
//! sandbox enforces; the outer `tokio::time::timeout`s only turn a hang into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use common::{config, start_with};
use goldplan_sandbox::{ConnectionLimits, Fault, FaultKind, SandboxConfig, SandboxHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Turns a hang into a test failure; never a threshold the sandbox has to beat.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn limited(limits: ConnectionLimits) -> SandboxConfig {
    SandboxConfig { limits, ..config() }
}

async fn connect(sb: &SandboxHandle) -> TcpStream {
    TcpStream::connect(sb.local_addr()).await.unwrap()
}

/// Reads until the peer closes (or resets) the connection; at most 64 KiB are kept.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if seen.len() < 64 * 1024 {
                        seen.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
    };
    tokio::time::timeout(HANG_GUARD, read)
        .await
        .expect("the sandbox must close the connection by itself");
    seen
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off() {
    let (sb, _c) = start_with(limited(ConnectionLimits {
        header_read_timeout: Duration::from_millis(200),
        ..ConnectionLimits::default()
    }))
    .await;
    // Slowloris: a request line and one header, then silence (the blank line never comes).
    let mut slow = connect(&sb).await;
    slow.write_all(b"GET /sandbox/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "an incomplete head is never answered as a request"
    );
    // An idle connection (nothing sent at all) is closed the same way.
    let mut idle = connect(&sb).await;
    assert!(read_to_close(&mut idle).await.is_empty());
    // The sandbox keeps serving.
    let health = reqwest::get(format!("{}/sandbox/health", sb.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_stalled_request_body_fails_the_request() {
    let (sb, _c) = start_with(limited(ConnectionLimits {
        idle_timeout: Duration::from_millis(200),
        ..ConnectionLimits::default()
    }))
    .await;
    // The head promises 1 000 bytes; 10 arrive, then nothing. The gateway answers the failed
    // read (400) instead of waiting for the rest for ever.
    let mut stalled = connect(&sb).await;
    stalled
        .write_all(
            b"POST /v3/goldplan/merchants/changegoldplanstatus HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"sub_mchi",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stalled).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // The admin API as well.
    let mut stalled = connect(&sb).await;
    stalled
        .write_all(
            b"POST /sandbox/faults HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"kind\"",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stalled).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 4"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert!(sb.faults().is_empty());
}

#[tokio::test]
async fn connections_beyond_the_cap_are_answered_503_and_closed() {
    let (sb, _c) = start_with(limited(ConnectionLimits {
        max_connections: 2,
        ..ConnectionLimits::default()
    }))
    .await;
    let first = connect(&sb).await;
    let second = connect(&sb).await;
    // Both slots are taken by idle connections: a third is refused at once, with a 503 or
    // a close, and never queued.
    let mut third = connect(&sb).await;
    let answer = read_to_close(&mut third).await;
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 503"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // Freeing the slots lets new connections in again.
    drop(first);
    drop(second);
    let url = format!("{}/sandbox/health", sb.base_url());
    let mut served = false;
    for _ in 0..500 {
        // A fresh client each time: nothing pooled, each try is a new connection.
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        if let Ok(r) = client.get(&url).send().await
            && r.status() == 200
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(served, "a freed slot is reused");
}

/// Opens a connection, sends `head` and then one byte every 50 ms (so that `idle_timeout`
/// never fires) until the sandbox closes the connection; returns what it answered. Fails
/// unless the connection is closed within `within`.
async fn trickle(sb: &SandboxHandle, head: &'static [u8], within: Duration) -> Vec<u8> {
    let (mut read, mut write) = connect(sb).await.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(head).await?;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            write.write_all(b" ").await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(within, read_all).await;
    writer.abort();
    closed.expect("the sandbox must cut off a request that trickles past its deadline");
    seen
}

/// Issue: a body trickling one byte at a time restarted the idle timeout for ever, so a few
/// such clients held every connection slot (all others got 503).
#[tokio::test]
async fn a_trickling_request_is_cut_off_at_the_whole_request_deadline() {
    let (sb, _c) = start_with(limited(ConnectionLimits {
        max_connections: 2,
        request_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    }))
    .await;
    // Every slot is taken by a trickler, one on the gateway and one on the admin API.
    let gateway = trickle(
        &sb,
        b"POST /v3/goldplan/merchants/changegoldplanstatus HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        HANG_GUARD,
    );
    let admin = trickle(
        &sb,
        b"POST /sandbox/faults HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        HANG_GUARD,
    );
    let (gateway, admin) = tokio::join!(gateway, admin);
    for answer in [gateway, admin] {
        assert!(
            answer.starts_with(b"HTTP/1.1 408"),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert!(sb.faults().is_empty());
    // The slots are free again: an ordinary request is served.
    let url = format!("{}/sandbox/health", sb.base_url());
    let mut served = false;
    for _ in 0..500 {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        if let Ok(r) = client.get(&url).send().await
            && r.status() == 200
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(served, "a freed slot is reused");
}

/// Issue: a request head trickled in one byte at a time was only bounded by
/// `header_read_timeout`, however much shorter the whole-request deadline. With the head's
/// own timeout a minute long, the connection must still go (closed, or answered 408) at the
/// 1-second deadline; the bound of a few deadlines only tells that apart from the minute.
#[tokio::test]
async fn a_trickling_request_head_is_cut_off_at_the_whole_request_deadline() {
    let request_timeout = Duration::from_secs(1);
    let (sb, _c) = start_with(limited(ConnectionLimits {
        header_read_timeout: Duration::from_secs(60),
        request_timeout,
        ..ConnectionLimits::default()
    }))
    .await;
    let head = trickle(
        &sb,
        b"GET /sandbox/health HTTP/1.1\r\nX-Slow: ",
        3 * request_timeout,
    )
    .await;
    assert!(
        head.is_empty() || head.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&head)
    );
}

/// The deadline counts from a request's first byte, not from when its connection opened or
/// its head was complete: a client idle on a fresh connection, then sending its body in two
/// parts, is served as long as the request itself arrived within the deadline.
#[tokio::test]
async fn the_deadline_counts_from_the_first_byte_of_the_request() {
    let (sb, _c) = start_with(limited(ConnectionLimits {
        request_timeout: Duration::from_secs(3),
        ..ConnectionLimits::default()
    }))
    .await;
    let mut stream = connect(&sb).await;
    // 2 s idle, then the request within 2 s: 4 s after the connection opened, 2 s after its
    // first byte.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stream
        .write_all(
            b"POST /sandbox/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
              Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"seconds\"",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stream.write_all(b": 1}").await.unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(sb.clock_view().offset_secs, 1);
}

/// A body the sandbox answered without reading (here a `system_error` fault) would be drained
/// after the answer and count as the start of the next request on the connection; such a
/// connection is closed instead of kept alive.
#[tokio::test]
async fn a_connection_whose_body_went_unread_is_not_kept_alive() {
    let (sb, _c) = start_with(limited(ConnectionLimits {
        request_timeout: Duration::from_secs(5),
        ..ConnectionLimits::default()
    }))
    .await;
    sb.inject_fault(Fault::new(FaultKind::SystemError)).unwrap();
    let mut stream = connect(&sb).await;
    stream
        .write_all(
            b"POST /v3/goldplan/merchants/changegoldplanstatus HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        )
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer:?}");
    assert!(answer.contains("\r\nConnection: close\r\n"), "{answer:?}");
}

#[tokio::test]
async fn invalid_limits_are_refused_at_start() {
    for limits in [
        ConnectionLimits {
            max_connections: 0,
            ..ConnectionLimits::default()
        },
        ConnectionLimits {
            header_read_timeout: Duration::ZERO,
            ..ConnectionLimits::default()
        },
        ConnectionLimits {
            idle_timeout: Duration::ZERO,
            ..ConnectionLimits::default()
        },
        ConnectionLimits {
            request_timeout: Duration::ZERO,
            ..ConnectionLimits::default()
        },
    ] {
        let err = goldplan_sandbox::Sandbox::start(limited(limits))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("connection limits"), "{err}");
    }
}
