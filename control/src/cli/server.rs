//! The CLI thread: accepts connections on the unix socket, reads one JSON
//! request per line, hands it to the control thread and writes its reply.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Reply, Request};

/// A request on its way to the control thread, with the channel to answer on.
#[derive(Debug)]
pub struct CliCall {
    pub request: Request,
    pub reply: SyncSender<Reply>,
}

/// How long the CLI waits for the control thread before giving up.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cli socket {path}: {source}")]
    Bind { path: PathBuf, source: std::io::Error },
    #[error("cli socket {path}: another anchord is listening there")]
    InUse { path: PathBuf },
}

/// The running CLI thread; stops and removes the socket when dropped.
pub struct CliServer {
    path: PathBuf,
    /// Another way in for requests (the metrics endpoint's).
    control: Sender<CliCall>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CliServer {
    /// Binds `path` (creating its directory) and starts the CLI thread. The
    /// control thread receives calls on the returned receiver.
    pub fn start(path: &Path) -> Result<(CliServer, Receiver<CliCall>), ServerError> {
        let bind_err = |source| ServerError::Bind { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(bind_err)?;
        }
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(ServerError::InUse { path: path.to_path_buf() });
            }
            std::fs::remove_file(path).map_err(bind_err)?;
        }
        let listener = UnixListener::bind(path).map_err(bind_err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let (tx, rx) = mpsc::channel();
        let control = tx.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("anchor-cli".into())
            .spawn(move || serve(listener, tx, thread_stop))
            .map_err(bind_err)?;
        Ok((CliServer { path: path.to_path_buf(), control, stop, thread: Some(thread) }, rx))
    }
}

impl CliServer {
    /// A sender of requests to the control thread, answered like the CLI's
    /// (the metrics endpoint asks for `show stats` through it).
    pub fn control(&self) -> Sender<CliCall> {
        self.control.clone()
    }
}

impl Drop for CliServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(listener: UnixListener, control: Sender<CliCall>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(e) = handle(stream, &control, &stop) {
                    tracing::debug!("cli connection ended: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                tracing::warn!("cli accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn handle(stream: UnixStream, control: &Sender<CliCall>, stop: &AtomicBool) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        // A request longer than MAX_LINE is cut and then fails to parse.
        if (&mut reader).take(MAX_LINE as u64).read_line(&mut line)? == 0 {
            return Ok(());
        }
        let reply = match serde_json::from_str::<Request>(line.trim()) {
            Ok(request) => call(control, request),
            Err(e) => Reply::error(format!("bad request: {e}")),
        };
        let mut out = serde_json::to_string(&reply).unwrap_or_else(|_| r#"{"ok":false,"error":"encode"}"#.into());
        out.push('\n');
        writer.write_all(out.as_bytes())?;
    }
    Ok(())
}

/// Hands `request` to the control thread and waits (at most
/// [`CONTROL_TIMEOUT`]) for its reply.
pub fn call(control: &Sender<CliCall>, request: Request) -> Reply {
    let (tx, rx) = mpsc::sync_channel(1);
    if control.send(CliCall { request, reply: tx }).is_err() {
        return Reply::error("the control thread has stopped");
    }
    rx.recv_timeout(CONTROL_TIMEOUT).unwrap_or_else(|_| Reply::error("the control thread did not answer in time"))
}
