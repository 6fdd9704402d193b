//! The metrics thread: a small HTTP/1.1 server (std::net only) answering
//! `GET /metrics` with [`super::render`] of the control thread's `show
//! stats`. One connection at a time, one request per connection, a bounded
//! request head and a read timeout: a slow or hostile client holds up only
//! this thread, never a worker or the control loop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cli::server::{call, CliCall};
use crate::cli::Request;

/// Largest request head (request line and headers) read.
pub const MAX_REQUEST: usize = 8 * 1024;
/// How long a client may take to send its request, and we to write ours.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause of the accept loop when nobody is connecting.
const ACCEPT_IDLE: Duration = Duration::from_millis(20);
/// The Prometheus text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics.listen {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// What a request head asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /metrics` (any query string).
    Metrics,
    /// Another path: 404.
    NotFound,
    /// Another method: 405.
    MethodNotAllowed,
    /// Not an HTTP/1.x request line: 400.
    BadRequest,
}

/// Reads the request line of `head` (the bytes up to the blank line).
pub fn route(head: &[u8]) -> Route {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else { return Route::BadRequest };
    let mut words = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) = (words.next(), words.next(), words.next(), words.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Route::BadRequest;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    match target.split('?').next() {
        Some("/metrics") => Route::Metrics,
        _ => Route::NotFound,
    }
}

/// The running metrics thread; stops when dropped.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` and starts the thread; requests for figures go to the
    /// control thread through `control`.
    pub fn start(addr: SocketAddr, control: Sender<CliCall>) -> Result<MetricsServer, MetricsError> {
        let bind_err = |source| MetricsError::Bind { addr, source };
        let listener = TcpListener::bind(addr).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("anchor-metrics".into())
            .spawn(move || serve(&listener, &control, &thread_stop))
            .map_err(bind_err)?;
        Ok(MetricsServer { addr: local, stop, thread: Some(thread) })
    }

    /// The address it listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: &TcpListener, control: &Sender<CliCall>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Err(e) = handle(stream, control) {
                    tracing::debug!(%peer, "metrics connection ended: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_IDLE),
            Err(e) => {
                tracing::warn!("metrics accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Reads the request head: up to the blank line, at most [`MAX_REQUEST`]
/// bytes, within [`IO_TIMEOUT`] in all. None when it is too long.
fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return Ok(Some(head));
        }
        if head.len() >= MAX_REQUEST {
            return Ok(None);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        let room = (MAX_REQUEST - head.len()).min(buf.len());
        match stream.read(&mut buf[..room])? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn handle(mut stream: TcpStream, control: &Sender<CliCall>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let response = match read_head(&mut stream)? {
        None => response("431 Request Header Fields Too Large", "text/plain", "request head too long\n", &[]),
        Some(head) => match route(&head) {
            Route::Metrics => {
                let reply = call(control, Request { command: "show stats".into() });
                match reply.data {
                    Some(stats) if reply.ok => response("200 OK", CONTENT_TYPE, &super::render(&stats), &[]),
                    _ => {
                        let why = reply.error.unwrap_or_else(|| "no figures".into());
                        response("503 Service Unavailable", "text/plain", &format!("{why}\n"), &[])
                    }
                }
            }
            Route::NotFound => response("404 Not Found", "text/plain", "only /metrics is served here\n", &[]),
            Route::MethodNotAllowed => {
                response("405 Method Not Allowed", "text/plain", "only GET\n", &[("Allow", "GET")])
            }
            Route::BadRequest => response("400 Bad Request", "text/plain", "bad request\n", &[]),
        },
    };
    stream.write_all(&response)?;
    stream.flush()
}

fn response(status: &str, content_type: &str, body: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use serde_json::json;

    use super::*;
    use crate::cli::Reply;

    #[test]
    fn get_metrics_is_routed_with_or_without_a_query() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
    }

    #[test]
    fn other_paths_are_not_found_and_other_methods_not_allowed() {
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Route::MethodNotAllowed);
        assert_eq!(route(b"HEAD /metrics HTTP/1.1\r\n\r\n"), Route::MethodNotAllowed);
    }

    #[test]
    fn garbage_is_a_bad_request() {
        for head in [
            &b""[..],
            b"\xff\xfe\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET /metrics SPDY/3\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(route(head), Route::BadRequest, "{head:?}");
        }
    }

    /// A metrics server on a free loopback port, its requests answered by
    /// a thread standing in for the control thread.
    fn server() -> MetricsServer {
        let (tx, rx) = mpsc::channel::<CliCall>();
        std::thread::spawn(move || {
            for c in rx {
                let stats = json!({"uptime_s": 7, "fib": {"entries": 1, "capacity": 8}});
                let reply = if c.request.command == "show stats" { Reply::data(stats) } else { Reply::error("no") };
                let _ = c.reply.send(reply);
            }
        });
        MetricsServer::start("127.0.0.1:0".parse().unwrap(), tx).unwrap()
    }

    fn exchange(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(request).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn a_scrape_gets_the_exposition_format_with_its_content_type() {
        let m = server();
        let r = exchange(m.local_addr(), b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")), "{r}");
        assert!(r.contains("\r\n\r\n# HELP anchor_uptime_seconds "), "{r}");
        assert!(r.contains("\nanchor_fib_capacity 8\n"), "{r}");
        let body = r.split_once("\r\n\r\n").unwrap().1;
        assert!(r.contains(&format!("Content-Length: {}\r\n", body.len())), "{r}");
    }

    #[test]
    fn bad_requests_get_their_status_and_the_server_keeps_serving() {
        let m = server();
        let addr = m.local_addr();
        assert!(exchange(addr, b"GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
        let r = exchange(addr, b"DELETE /metrics HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 405 ") && r.contains("Allow: GET\r\n"), "{r}");
        assert!(exchange(addr, b"\x00\x01garbage\n\n").starts_with("HTTP/1.1 400 "));
        let long = vec![b'a'; MAX_REQUEST];
        assert!(exchange(addr, &long).starts_with("HTTP/1.1 431 "));
        // A client that connects and says nothing is dropped after the timeout.
        let idle = TcpStream::connect(addr).unwrap();
        let r = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
        drop(idle);
    }
}
