//! The durable session store: every committed change of a PMIPv6 session
//! ([`crate::pmip6::Lma`]), of a Mobile IPv4 binding ([`crate::mip4::Ha`])
//! or of a DSMIPv6 registration ([`crate::dsmip6::Ha6`]) is written to an embedded ACID database (redb),
//! so that a restart — a crash included — finds the bindings again
//! (issue 7, item 1).
//!
//! The file holds four tables: `lma_sessions`, `ha_bindings` and
//! `dsmip6_registrations` (the id → one record, [`records`], encoded as
//! JSON) and `meta` (the schema version
//! and the RFC 5847 Restart Counter). Nothing here knows the protocols: the
//! role state machines turn their entries into records and back
//! (`pmip6::persist`, `mip4::persist`, `dsmip6::persist`), the signalling glue decides when to
//! write (`signalling::persist`).
//!
//! Writes are batched ([`Batch`]: every session changed since the last
//! commit, in its latest state) and committed by a writer thread
//! ([`Writer`]), so the control loop never waits for the disk: it hands a
//! batch over, goes on, and learns of the commit later (which is when it
//! sends the replies it held for the batch).
//!
//! The rule for a bad file: a missing file (and its directory) is created
//! empty; a file that redb cannot open, a schema version this code does not
//! read or a record that does not decode is an error naming the file, and
//! `anchord` does not start — the operator moves the file aside (or deletes
//! it) to start with an empty store. A commit that fails leaves the
//! previous commit in place (redb is copy-on-write with a two-phase
//! commit), so a crash in the middle of one loses only that batch.

pub mod records;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use redb::{Database, Durability, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use records::{SavedBinding, SavedRegistration6, SavedSession};

const LMA: TableDefinition<u32, &[u8]> = TableDefinition::new("lma_sessions");
const HA: TableDefinition<u32, &[u8]> = TableDefinition::new("ha_bindings");
/// DSMIPv6 home registrations; a file written before this table existed
/// gets it, empty, at open (the records of the other tables are unchanged,
/// so the schema version stays).
const DSMIP6: TableDefinition<u32, &[u8]> = TableDefinition::new("dsmip6_registrations");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The layout of the records this code writes; a file with another one is
/// refused rather than misread.
pub const SCHEMA_VERSION: u64 = 1;
const KEY_SCHEMA: &str = "schema_version";
const KEY_RESTART_COUNTER: &str = "restart_counter";
/// 1 while a run that answers before its changes are durable
/// (`sync_replies = false`) has not stopped cleanly: if it is still 1 at
/// the next start, that run may have lost acknowledged state.
const KEY_LOSSY_RUN: &str = "lossy_run";

/// Why the store cannot be used. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: cannot create the session store's directory: {error}", path.display())]
    Directory { path: PathBuf, error: std::io::Error },
    #[error("{}: not a usable session store ({error}); move it aside or delete it to start with an empty one", path.display())]
    Open { path: PathBuf, error: Box<redb::Error> },
    #[error("{}: session store schema version {found}, this anchord reads {SCHEMA_VERSION}; move it aside or delete it to start with an empty one", path.display())]
    Schema { path: PathBuf, found: u64 },
    #[error("{}: record {key} of table {table} does not decode ({error}); move the file aside or delete it to start with an empty store", path.display())]
    Record { path: PathBuf, table: &'static str, key: u32, error: String },
    #[error("{}: cannot read the session store: {error}", path.display())]
    Read { path: PathBuf, error: Box<redb::Error> },
    #[error("{}: cannot write the session store: {error}", path.display())]
    Write { path: PathBuf, error: Box<redb::Error> },
}

/// The open database.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
}

/// What the store held at start.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Loaded {
    /// The Restart Counter of the previous start (0 for a new store).
    pub restart_counter: u32,
    pub lma: Vec<SavedSession>,
    pub ha: Vec<SavedBinding>,
    pub dsmip6: Vec<SavedRegistration6>,
}

/// What a start says about the Restart Counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub restart_counter: u32,
    /// The restart lost session state (the counter went up).
    pub lost_state: bool,
}

/// The store as a start finds it: what it held, the Restart Counter of
/// this start (already durable) and the writer thread to go on with.
pub struct Opened {
    pub loaded: Loaded,
    pub restart_counter: u32,
    pub writer: Writer,
}

/// Changes to write in one transaction: each changed id with its record,
/// or `None` when it is gone. Records are encoded by the writer thread, off
/// the control loop.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub lma: Vec<(u32, Option<SavedSession>)>,
    pub ha: Vec<(u32, Option<SavedBinding>)>,
    pub dsmip6: Vec<(u32, Option<SavedRegistration6>)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.lma.is_empty() && self.ha.is_empty() && self.dsmip6.is_empty()
    }

    pub fn len(&self) -> usize {
        self.lma.len() + self.ha.len() + self.dsmip6.len()
    }

    /// Appends `later`'s changes: written after ours, they win.
    fn extend(&mut self, later: Batch) {
        self.lma.extend(later.lma);
        self.ha.extend(later.ha);
        self.dsmip6.extend(later.dsmip6);
    }

    /// Keeps only the last change of each id (what a commit of them all
    /// would leave), in the order of those last changes.
    fn squash(&mut self) {
        fn last_only<T>(rows: &mut Vec<(u32, T)>) {
            let mut seen = std::collections::HashSet::with_capacity(rows.len());
            let mut kept: Vec<(u32, T)> = Vec::with_capacity(rows.len());
            for row in std::mem::take(rows).into_iter().rev() {
                if seen.insert(row.0) {
                    kept.push(row);
                }
            }
            kept.reverse();
            *rows = kept;
        }
        last_only(&mut self.lma);
        last_only(&mut self.ha);
        last_only(&mut self.dsmip6);
    }
}

/// A record as stored.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    // Records are plain data (numbers, strings, addresses): serde_json
    // cannot fail on them.
    serde_json::to_vec(record).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(path: &Path, table: &'static str, key: u32, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Record {
        path: path.to_owned(),
        table,
        key,
        error: e.to_string(),
    })
}

impl Store {
    /// Opens the store at `path`, creating it (and its directory) when it
    /// does not exist.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| StoreError::Directory { path: dir.to_owned(), error })?;
        }
        let open_err = |e: redb::Error| StoreError::Open { path: path.to_owned(), error: Box::new(e) };
        let db = Database::create(path).map_err(|e| open_err(e.into()))?;
        let store = Store { db, path: path.to_owned() };
        // A new file gets its tables and version; an old one must match.
        let txn = store.db.begin_write().map_err(|e| open_err(e.into()))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| open_err(e.into()))?;
            let found = meta.get(KEY_SCHEMA).map_err(|e| open_err(e.into()))?.map(|v| v.value());
            match found {
                None => {
                    meta.insert(KEY_SCHEMA, SCHEMA_VERSION).map_err(|e| open_err(e.into()))?;
                }
                Some(SCHEMA_VERSION) => {}
                Some(found) => return Err(StoreError::Schema { path: path.to_owned(), found }),
            }
            txn.open_table(LMA).map_err(|e| open_err(e.into()))?;
            txn.open_table(HA).map_err(|e| open_err(e.into()))?;
            txn.open_table(DSMIP6).map_err(|e| open_err(e.into()))?;
        }
        txn.commit().map_err(|e| open_err(e.into()))?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Read { path: self.path.clone(), error: Box::new(e.into()) }
    }

    fn write_err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Write { path: self.path.clone(), error: Box::new(e.into()) }
    }

    /// Everything in the store.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.read_err(e))?;
        let meta = txn.open_table(META).map_err(|e| self.read_err(e))?;
        let restart = meta.get(KEY_RESTART_COUNTER).map_err(|e| self.read_err(e))?.map_or(0, |v| v.value());
        let mut loaded = Loaded { restart_counter: u32::try_from(restart).unwrap_or(u32::MAX), ..Loaded::default() };
        let lma = txn.open_table(LMA).map_err(|e| self.read_err(e))?;
        for row in lma.iter().map_err(|e| self.read_err(e))? {
            let (k, v) = row.map_err(|e| self.read_err(e))?;
            loaded.lma.push(decode(&self.path, "lma_sessions", k.value(), v.value())?);
        }
        let ha = txn.open_table(HA).map_err(|e| self.read_err(e))?;
        for row in ha.iter().map_err(|e| self.read_err(e))? {
            let (k, v) = row.map_err(|e| self.read_err(e))?;
            loaded.ha.push(decode(&self.path, "ha_bindings", k.value(), v.value())?);
        }
        let dsmip6 = txn.open_table(DSMIP6).map_err(|e| self.read_err(e))?;
        for row in dsmip6.iter().map_err(|e| self.read_err(e))? {
            let (k, v) = row.map_err(|e| self.read_err(e))?;
            loaded.dsmip6.push(decode(&self.path, "dsmip6_registrations", k.value(), v.value())?);
        }
        Ok(loaded)
    }

    /// A start: the RFC 5847 Restart Counter for this run, durable before
    /// it is returned, and whether this restart lost session state.
    /// PROTOCOLS.md §7: the counter is persistent and goes up by one on
    /// every restart that loses session state, not when state survives. It
    /// is lost when the store is new (first start, or the file was deleted
    /// or moved away), or when the previous run answered before its changes
    /// were durable (`sync_replies = false`) and did not stop cleanly
    /// ([`Store::stopped_cleanly`]). Wraps to 1 after 2^32 - 1.
    pub fn start(&self, sync_replies: bool) -> Result<Start, StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.write_err(e))?;
        let start = {
            let mut meta = txn.open_table(META).map_err(|e| self.write_err(e))?;
            let old = meta.get(KEY_RESTART_COUNTER).map_err(|e| self.write_err(e))?.map(|v| v.value());
            let lossy = meta.get(KEY_LOSSY_RUN).map_err(|e| self.write_err(e))?.is_some_and(|v| v.value() == 1);
            let lost_state = old.is_none() || lossy;
            let old = old.unwrap_or(0);
            let restart_counter = match u32::try_from(old) {
                Ok(n) if !lost_state => n,
                Ok(u32::MAX) | Err(_) => 1,
                Ok(n) => n + 1,
            };
            meta.insert(KEY_RESTART_COUNTER, u64::from(restart_counter)).map_err(|e| self.write_err(e))?;
            meta.insert(KEY_LOSSY_RUN, u64::from(!sync_replies)).map_err(|e| self.write_err(e))?;
            Start { restart_counter, lost_state }
        };
        txn.commit().map_err(|e| self.write_err(e))?;
        Ok(start)
    }

    /// Notes that this run stopped with every change committed.
    pub fn stopped_cleanly(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.write_err(e))?;
        txn.open_table(META).map_err(|e| self.write_err(e))?.insert(KEY_LOSSY_RUN, 0).map_err(|e| self.write_err(e))?;
        txn.commit().map_err(|e| self.write_err(e))
    }

    /// Writes `batch` in one transaction, durable when this returns.
    pub fn commit(&self, batch: &Batch) -> Result<(), StoreError> {
        let lma: Vec<(u32, Option<Vec<u8>>)> = batch.lma.iter().map(|(id, r)| (*id, r.as_ref().map(encode))).collect();
        let ha: Vec<(u32, Option<Vec<u8>>)> = batch.ha.iter().map(|(id, r)| (*id, r.as_ref().map(encode))).collect();
        let dsmip6: Vec<(u32, Option<Vec<u8>>)> =
            batch.dsmip6.iter().map(|(id, r)| (*id, r.as_ref().map(encode))).collect();
        self.commit_encoded(&lma, &ha, &dsmip6)
    }

    /// Writes encoded records (`None`: delete) in one transaction.
    fn commit_encoded(
        &self,
        lma: &[(u32, Option<Vec<u8>>)],
        ha: &[(u32, Option<Vec<u8>>)],
        dsmip6: &[(u32, Option<Vec<u8>>)],
    ) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(|e| self.write_err(e))?;
        txn.set_durability(Durability::Immediate);
        for (def, rows) in [(LMA, lma), (HA, ha), (DSMIP6, dsmip6)] {
            let mut table = txn.open_table(def).map_err(|e| self.write_err(e))?;
            for (id, record) in rows {
                match record {
                    Some(bytes) => table.insert(*id, bytes.as_slice()).map(drop),
                    None => table.remove(*id).map(drop),
                }
                .map_err(|e| self.write_err(e))?;
            }
        }
        txn.commit().map_err(|e| self.write_err(e))
    }

    /// Ids of the records in each table (for checks and tests).
    pub fn ids(&self) -> Result<(Vec<u32>, Vec<u32>), StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.read_err(e))?;
        let mut out = (Vec::new(), Vec::new());
        for (def, ids) in [(LMA, &mut out.0), (HA, &mut out.1)] {
            let table = txn.open_table(def).map_err(|e| self.read_err(e))?;
            for row in table.iter().map_err(|e| self.read_err(e))? {
                ids.push(row.map_err(|e| self.read_err(e))?.0.value());
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Ids of the DSMIPv6 registrations (for checks and tests).
    pub fn dsmip6_ids(&self) -> Result<Vec<u32>, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.read_err(e))?;
        let table = txn.open_table(DSMIP6).map_err(|e| self.read_err(e))?;
        let mut ids = Vec::new();
        for row in table.iter().map_err(|e| self.read_err(e))? {
            ids.push(row.map_err(|e| self.read_err(e))?.0.value());
        }
        Ok(ids)
    }
}

/// What the writer thread reports.
#[derive(Debug)]
pub enum Done {
    /// Every batch up to this sequence number is durable.
    Committed(u64),
    /// Batches up to this sequence number could not be written.
    Failed(u64, StoreError),
}

/// The writer thread: takes batches in order, commits whatever has queued
/// up in one transaction, and reports back. Dropping it finishes the queue
/// and joins the thread.
pub struct Writer {
    tx: Option<Sender<(u64, Batch)>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<Store>>,
    next_seq: u64,
}

impl Writer {
    pub fn spawn(store: Store) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<(u64, Batch)>();
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::Builder::new().name("store".into()).spawn(move || {
            // A batch that failed is tried again with the next one.
            let mut retry: Option<Batch> = None;
            while let Ok((mut seq, first)) = rx.recv() {
                let mut batch = retry.take().unwrap_or_default();
                batch.extend(first);
                // Whatever else is queued goes into the same transaction.
                let mut merged = false;
                while let Ok((s, more)) = rx.try_recv() {
                    seq = s;
                    batch.extend(more);
                    merged = true;
                }
                // Behind: a session changed in several batches is written once.
                if merged {
                    batch.squash();
                }
                let report = match store.commit(&batch) {
                    Ok(()) => Done::Committed(seq),
                    Err(e) => {
                        retry = Some(batch);
                        Done::Failed(seq, e)
                    }
                };
                if done_tx.send(report).is_err() {
                    break;
                }
            }
            store
        })?;
        Ok(Writer { tx: Some(tx), done, thread: Some(thread), next_seq: 1 })
    }

    /// Queues `batch`; its sequence number.
    pub fn submit(&mut self, batch: Batch) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(tx) = &self.tx {
            // The thread only ends when we drop the sender.
            let _ = tx.send((seq, batch));
        }
        seq
    }

    /// A report, if one is ready.
    pub fn poll(&self) -> Option<Done> {
        self.done.try_recv().ok()
    }

    /// Waits up to `timeout` for a report.
    pub fn wait(&self, timeout: Duration) -> Option<Done> {
        self.done.recv_timeout(timeout).ok()
    }

    /// Commits what is queued, stops the thread and gives the store back.
    pub fn finish(mut self) -> Option<Store> {
        self.tx.take();
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests;
