//! The TCP side: an HTTP/1.1 accept loop (hyper, title-case header names like WeChat Pay's
//! gateway) whose connections can be reset on demand (the `connection_reset` fault), the
//! per-connection info handlers see (peer address, reset switch), the connection cap and
//! timeouts of [`ConnectionLimits`] (including the whole-request deadline), and graceful
//! shutdown.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Extension, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::time::{Instant, Sleep};
use tower_http::timeout::RequestBodyTimeout;

use crate::config::ConnectionLimits;

/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What a connection beyond [`ConnectionLimits::max_connections`] is told before it is closed.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
Content-Type: text/plain\r\nContent-Length: 38\r\n\r\ngoldplan-sandbox: too many connections";

/// Serves `router` on `listener` until `shutdown` fires, then lets open connections finish
/// (at most [`SHUTDOWN_GRACE`]).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // WeChat Pay writes `Wechatpay-Timestamp`, not `wechatpay-timestamp`; some SDKs look
    // response headers up case-sensitively.
    http.title_case_headers(true);
    // Without a timer hyper enforces no header timeout at all: a client sending one header
    // byte a minute (slowloris) or an idle keep-alive connection would hold its socket for
    // ever. The timer starts whenever hyper waits for a request head, so it bounds both.
    http.timer(TokioTimer::new());
    // A head is part of the whole request, so it never gets longer than the whole request.
    http.header_read_timeout(limits.header_read_timeout.min(limits.request_timeout));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        // The cap is taken before anything is spawned, so that a flood of connections costs
        // one short-lived socket each and nothing else.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection cap reached; answering 503 and closing");
            // A best-effort answer that never waits: if the socket cannot take it at once,
            // the client just sees the connection close.
            let _ = stream.try_write(OVER_CAPACITY);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let reset = Arc::new(AtomicBool::new(false));
        let info = ConnInfo {
            peer,
            reset: reset.clone(),
        };
        let first_byte = Arc::new(FirstByte::default());
        let deadline = {
            let first_byte = first_byte.clone();
            let timeout = limits.request_timeout;
            axum::middleware::from_fn(move |req: Request, next: Next| {
                whole_request_deadline(first_byte.clone(), timeout, req, next)
            })
        };
        // A request body that stops sending data for `idle_timeout` fails, so a stalled upload
        // does not hold its connection (and a handler) for ever. That timer restarts with
        // every frame, so a body trickling one byte at a time also meets the deadline of the
        // whole request.
        let service = TowerToHyperService::new(RequestBodyTimeout::new(
            router
                .clone()
                .layer(deadline)
                .layer(Extension(ConnectInfo(info))),
            limits.idle_timeout,
        ));
        let io = TokioIo::new(ResettableStream {
            inner: stream,
            reset,
            first_byte,
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("graceful shutdown timed out; remaining connections dropped");
    }
}

/// What a request still arriving at its deadline is told before its connection is closed.
const TOO_SLOW: &str = "goldplan-sandbox: the request did not arrive in time";

/// When the first byte of the request now arriving on a connection was read. hyper only hands
/// a request over once its head is complete; this is what lets the deadline count from the
/// start of the head instead.
#[derive(Debug, Default)]
struct FirstByte(Mutex<Option<Instant>>);

impl FirstByte {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // An `Option<Instant>` cannot be left half-written by a panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes were read: they start a request unless one is already under way.
    fn saw_bytes(&self) {
        self.lock().get_or_insert_with(Instant::now);
    }

    /// The start of the request whose head hyper just handed over; the bytes read from now on
    /// belong to its body until that ends.
    fn take(&self) -> Option<Instant> {
        self.lock().take()
    }

    /// The body has ended: the next bytes start the next request.
    fn clear(&self) {
        *self.lock() = None;
    }
}

/// Gives the request (head and body) `timeout` from its first byte. The body is wrapped so
/// that it fails once the deadline passes while the client has not sent it all; the handler's
/// answer to that failure is replaced by `408 Request Timeout` and the connection is closed.
/// Handlers that take long to answer a request that arrived in time are not affected.
async fn whole_request_deadline(
    first_byte: Arc<FirstByte>,
    timeout: Duration,
    req: Request,
    next: Next,
) -> Response {
    let started = first_byte.take().unwrap_or_else(Instant::now);
    let expired = Arc::new(AtomicBool::new(false));
    let mut ended = None;
    let req = req.map(|body| {
        let end = Arc::new(AtomicBool::new(body.is_end_stream()));
        ended = Some(end.clone());
        Body::new(DeadlineBody {
            inner: body,
            // A timeout too large to add is no deadline at all (rather than a panic).
            deadline: started
                .checked_add(timeout)
                .map(|at| Box::pin(tokio::time::sleep_until(at))),
            expired: expired.clone(),
            ended: end,
            first_byte: first_byte.clone(),
        })
    });
    let mut response = next.run(req).await;
    if expired.load(Ordering::SeqCst) {
        tracing::debug!("a request did not arrive before its deadline; answering 408 and closing");
        response = Response::new(Body::from(TOO_SLOW));
        *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    } else if ended.is_none_or(|e| e.load(Ordering::SeqCst)) {
        return response;
    }
    // A body left unread (an early fault answer, a refused upload) would be drained by hyper
    // after the answer, and those bytes would pass for the start of the next request, cutting
    // its time short. The connection is not reused instead.
    first_byte.clear();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The error a request body fails with at its deadline.
#[derive(Debug)]
struct DeadlinePassed;

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive before the request deadline")
    }
}

impl std::error::Error for DeadlinePassed {}

/// A request body with a deadline for all of it (see [`whole_request_deadline`]).
struct DeadlineBody {
    inner: Body,
    deadline: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
    /// Set once the whole body was read.
    ended: Arc<AtomicBool>,
    first_byte: Arc<FirstByte>,
}

impl DeadlineBody {
    fn end(&self) {
        self.ended.store(true, Ordering::SeqCst);
        self.first_byte.clear();
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.expired.load(Ordering::SeqCst) {
            return Poll::Ready(Some(Err(DeadlinePassed.into())));
        }
        // What has arrived is always handed over, so a handler that reads late (a delay
        // fault, a rotation) does not fail a client that sent everything in time.
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.end();
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                if this.inner.is_end_stream() {
                    this.end();
                }
                Poll::Ready(Some(frame.map_err(Into::into)))
            }
            Poll::Pending => match this.deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
                Some(Poll::Ready(())) => {
                    this.expired.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err(DeadlinePassed.into())))
                }
                Some(Poll::Pending) | None => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream that, once its reset switch is on, fails every write after setting a zero
/// linger, so that dropping it sends a TCP RST instead of a clean close. It also notes when a
/// request starts to arrive (for the whole-request deadline).
pub(crate) struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
    first_byte: Arc<FirstByte>,
}

impl ResettableStream {
    fn check(&self) -> io::Result<()> {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by a sandbox fault",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.first_byte.saw_bytes();
        }
        read
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a handler knows about its connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) peer: SocketAddr,
    reset: Arc<AtomicBool>,
}

impl ConnInfo {
    /// Makes the connection end with a TCP reset instead of the response.
    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }
}
