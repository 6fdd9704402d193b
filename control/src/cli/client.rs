//! The `anchorctl` side of the socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::{Reply, Request};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach anchord at {path}: {reason} (is anchord running? see cli.socket in its config)")]
    Connect { path: String, reason: String },
    #[error("anchord at {path} closed the connection without answering")]
    NoAnswer { path: String },
    #[error("talking to anchord at {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("anchord sent an answer that is not JSON: {0}")]
    Garbled(String),
}

/// Sends one request and returns the daemon's reply.
pub fn call(socket: &Path, command: &str) -> Result<Reply, ClientError> {
    let path = socket.display().to_string();
    let io = |e: std::io::Error| ClientError::Io { path: path.clone(), reason: e.to_string() };
    let stream = UnixStream::connect(socket).map_err(|e| ClientError::Connect {
        path: path.clone(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such socket".into(),
            std::io::ErrorKind::ConnectionRefused => "nobody is listening (stale socket)".into(),
            _ => e.to_string(),
        },
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(io)?;
    let mut line = serde_json::to_string(&Request { command: command.to_string() })
        .map_err(|e| ClientError::Garbled(e.to_string()))?;
    line.push('\n');
    (&stream).write_all(line.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer).map_err(io)?;
    if answer.is_empty() {
        return Err(ClientError::NoAnswer { path });
    }
    serde_json::from_str(answer.trim()).map_err(|e| ClientError::Garbled(e.to_string()))
}
