//! The session store's glue (issue 7, item 1): at start the saved sessions
//! are put back into the LMA, the home agent and the DSMIPv6 home agent
//! and published to the
//! forwarding table as an install would (before the workers poll); while
//! running, the sessions each control-loop pass changed are collected,
//! turned into one [`Batch`] at most every `store.batch_interval_ms` and
//! handed to the writer thread; with `store.sync_replies` the replies
//! (PBA, Registration Reply, Binding Acknowledgement, and whatever else
//! the roles send) produced
//! since the last batch are held until that batch is committed, so a peer
//! never holds a binding that a crash would lose.
//!
//! A batch that cannot be written is logged and counted; the writer tries
//! it again with the next one, and the replies held for it are sent all the
//! same (the anchor goes on serving; only a crash before the retry would
//! lose those changes).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::Config;
use dataplane::port::{Port, PuntRing};
use serde_json::{json, Value};

use super::{binding_of, HomeLinkOwner, Signalling};
use crate::dsmip6::{self, Ha6};
use crate::forwarding::Forwarding;
use crate::mip4;
use crate::pmip6;
use crate::punt::ControlPlane;
use crate::store::records::Clock;
use crate::store::{Batch, Done, Opened, Writer};

/// What to send once its batch is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Frame {
    /// A whole frame for a port.
    Port(usize, Vec<u8>),
    /// An IP packet for the tunnel the forwarding table has for its
    /// destination (a DSMIPv6 acknowledgement to a node on its home link
    /// behind a MAG), else dropped and counted as unrouted.
    Tunnel(Vec<u8>),
}

impl Frame {
    /// Sends it; a tunnelled packet whose tunnel has no next-hop MAC yet
    /// (a proxy binding just activated) is given back, to try again.
    fn send<P: Port, R: PuntRing<P::Buf>>(self, cp: &mut ControlPlane<'_, P, R>) -> Option<Vec<u8>> {
        match self {
            Frame::Port(port, frame) => cp.send_now(port, &frame),
            Frame::Tunnel(packet) => match cp.send_into_tunnel(&packet) {
                Some(true) => {}
                Some(false) => return Some(packet),
                None => tracing::debug!("a held acknowledgement found no tunnel to go into"),
            },
        }
        None
    }
}

/// The store as the control loop drives it.
pub(super) struct Persistence {
    writer: Writer,
    sync_replies: bool,
    interval: Duration,
    last_submit: Option<Instant>,
    /// Replies produced since the last batch was submitted.
    held: Vec<Frame>,
    /// Batches submitted and not yet committed, with their replies.
    in_flight: VecDeque<(u64, Vec<Frame>)>,
    /// Deletions to write with the first batch (sessions found expired or
    /// conflicting at restore).
    dropped: Batch,
    stats: StoreStats,
}

/// What `show stats` says under `store`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct StoreStats {
    batches: u64,
    records: u64,
    committed: u64,
    failures: u64,
    /// Time spent on the control thread collecting and encoding, in µs.
    collect_us: u64,
    largest_batch: u64,
    restored_lma: u64,
    restored_ha: u64,
    restored_dsmip6: u64,
    expired_at_restore: u64,
    conflicts_at_restore: u64,
}

/// What a restore did, for the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreReport {
    pub lma: usize,
    pub ha: usize,
    pub dsmip6: usize,
    pub expired: usize,
    pub conflicts: usize,
}

/// The changed sessions of `lma`, `ha` and `dsmip6`, each in its latest
/// state (or a deletion), as one batch (encoded later, by the writer
/// thread).
pub fn collect_batch(
    lma: Option<&mut pmip6::Lma>,
    ha: Option<&mut mip4::Ha>,
    dsmip6: Option<&mut Ha6>,
    clock: Clock,
) -> Batch {
    let mut batch = Batch::default();
    if let Some(lma) = lma {
        for id in lma.take_changed() {
            batch.lma.push((id, lma.saved(id, clock)));
        }
    }
    if let Some(ha) = ha {
        for id in ha.take_changed() {
            batch.ha.push((id, ha.saved(id, clock)));
        }
    }
    if let Some(d) = dsmip6 {
        for id in d.take_changed() {
            batch.dsmip6.push((id, d.saved(id, clock)));
        }
    }
    batch
}

impl Signalling {
    /// Puts what the store held back into the roles and the forwarding
    /// table, sets the LMA's Restart Counter, and from now on writes every
    /// change through `writer`. Called before the workers poll; the
    /// home-link claims of restored bindings are made by
    /// [`Signalling::claim_restored`] once the control plane runs.
    pub fn restore(
        &mut self,
        opened: Opened,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
        wall: SystemTime,
    ) -> RestoreReport {
        let Opened { loaded, restart_counter, writer } = opened;
        let clock = Clock::new(now, wall);
        let mut report = RestoreReport::default();
        let mut dropped = Batch::default();
        if let Some(lma) = self.lma.as_mut() {
            lma.set_restart_counter(restart_counter);
            lma.track_changes();
        }
        if let Some(glue) = self.ha.as_mut() {
            glue.ha.track_changes();
        }
        if let Some(glue) = self.dsmip6.as_mut() {
            glue.ha.track_changes();
        }
        for saved in loaded.lma {
            let (id, mn_id) = (saved.id, saved.mn_id.clone());
            let Some(lma) = self.lma.as_mut() else {
                dropped.lma.push((id, None));
                continue;
            };
            match lma.restore(saved, clock) {
                pmip6::Restored::Active(s) => {
                    report.lma += 1;
                    self.lma_installed(s.id, s.ipv4_hoa.map(|(a, _, _)| a), &s.hnps);
                    let (binding, spec) = binding_of(&s, fwd, config);
                    match fwd.install(None, binding, spec, now) {
                        Ok(fid) => {
                            self.installed.insert(s.id, fid);
                        }
                        Err(e) => {
                            tracing::warn!(session = s.id, mn_id = %s.mn_id, "cannot install a restored session: {e}")
                        }
                    }
                }
                pmip6::Restored::Deprecated(s) => {
                    report.lma += 1;
                    // Its addresses stay the LMA's until it is deleted.
                    self.lma_installed(s.id, s.ipv4_hoa.map(|(a, _, _)| a), &s.hnps);
                    self.lma_removed(s.id);
                }
                pmip6::Restored::Expired => {
                    report.expired += 1;
                    dropped.lma.push((id, None));
                }
                pmip6::Restored::Conflict(what) => {
                    tracing::warn!(session = id, %mn_id, "saved session not restored: its {what} is taken");
                    report.conflicts += 1;
                    dropped.lma.push((id, None));
                }
            }
        }
        for saved in loaded.ha {
            let (id, mn_id) = (saved.id, saved.mn_id.clone());
            let Some(glue) = self.ha.as_mut() else {
                dropped.ha.push((id, None));
                continue;
            };
            match glue.ha.restore(saved, clock) {
                mip4::Restored::Installed(b) => {
                    report.ha += 1;
                    self.install_restored_binding(&b, fwd, config, now);
                }
                mip4::Restored::AwaitingKeepalive(_) => report.ha += 1,
                mip4::Restored::Expired => {
                    report.expired += 1;
                    dropped.ha.push((id, None));
                }
                mip4::Restored::Conflict(what) => {
                    tracing::warn!(binding = id, %mn_id, "saved binding not restored: its {what} is taken");
                    report.conflicts += 1;
                    dropped.ha.push((id, None));
                }
            }
        }
        // After the LMA's: an activated shadow session holding a node's
        // IPv4 home address is the LMA's again before the node's own
        // registration comes back.
        for saved in loaded.dsmip6 {
            let (id, mn_id) = (saved.id, saved.mn_id.clone());
            // One address space: an IPv4 home address a Mobile IPv4 binding
            // holds is not this registration's.
            let v4_at_ha = saved
                .v4
                .as_ref()
                .is_some_and(|(_, a, ..)| self.ha.as_ref().is_some_and(|g| g.ha.bindings().any(|b| b.hoa == *a)));
            let restored = match self.dsmip6.as_mut() {
                None => {
                    dropped.dsmip6.push((id, None));
                    continue;
                }
                Some(_) if v4_at_ha => dsmip6::Restored::Conflict("IPv4 home address"),
                Some(glue) => glue.ha.restore(saved, clock),
            };
            match restored {
                dsmip6::Restored::Active(r) => {
                    report.dsmip6 += 1;
                    self.dsmip6_restored(&r, fwd, config, now);
                }
                dsmip6::Restored::Expired => {
                    report.expired += 1;
                    dropped.dsmip6.push((id, None));
                }
                dsmip6::Restored::Conflict(what) => {
                    tracing::warn!(registration = id, %mn_id, "saved DSMIPv6 registration not restored: its {what} is taken");
                    report.conflicts += 1;
                    dropped.dsmip6.push((id, None));
                }
            }
        }
        // What the restore itself inserted is already in the store.
        if let Some(lma) = self.lma.as_mut() {
            lma.take_changed();
        }
        if let Some(glue) = self.ha.as_mut() {
            glue.ha.take_changed();
        }
        if let Some(glue) = self.dsmip6.as_mut() {
            glue.ha.take_changed();
        }
        let stats = StoreStats {
            restored_lma: report.lma as u64,
            restored_ha: report.ha as u64,
            restored_dsmip6: report.dsmip6 as u64,
            expired_at_restore: report.expired as u64,
            conflicts_at_restore: report.conflicts as u64,
            ..StoreStats::default()
        };
        self.store = Some(Persistence {
            writer,
            sync_replies: config.store.sync_replies,
            interval: config.store.batch_interval,
            last_submit: None,
            held: Vec::new(),
            in_flight: VecDeque::new(),
            dropped,
            stats,
        });
        report
    }

    /// Home-link presence for the restored bindings (proxy ARP / ND), once
    /// the control plane runs.
    pub fn claim_restored<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        config: &Config,
        now: Instant,
    ) {
        if !config.ports.iter().any(|p| p.home_link) {
            return;
        }
        let lma: Vec<(u32, IpAddr)> = self
            .lma
            .as_ref()
            .map(|l| {
                l.sessions()
                    .filter(|s| self.installed.contains_key(&s.id))
                    .filter_map(|s| s.ipv4_hoa.map(|(a, _, _)| (s.id, IpAddr::V4(a))))
                    .collect()
            })
            .unwrap_or_default();
        for (id, addr) in lma {
            self.home_link_claim(HomeLinkOwner::Lma(id), addr, cp, config, now);
        }
        let ha: Vec<(u32, Vec<IpAddr>)> = self
            .ha
            .as_ref()
            .map(|g| {
                g.ha.bindings()
                    .filter(|b| !b.awaiting_keepalive)
                    .map(|b| {
                        let mut addrs = vec![IpAddr::V4(b.hoa)];
                        addrs.extend(b.home_address6.map(IpAddr::V6));
                        (b.id, addrs)
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (id, addrs) in ha {
            for a in addrs {
                self.home_link_claim(HomeLinkOwner::Ha(id), a, cp, config, now);
            }
        }
        // DSMIPv6: the home addresses the restored registrations forward.
        for (id, addr) in self.dsmip6_forwarded() {
            self.home_link_claim(HomeLinkOwner::Dsmip6(id), addr, cp, config, now);
        }
    }

    /// Sends `frame` on `port` now, or once the changes made so far are
    /// durable (`store.sync_replies`).
    pub(super) fn send_reply<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        port: usize,
        frame: Vec<u8>,
    ) {
        match self.store.as_mut().filter(|s| s.sync_replies) {
            Some(s) => s.held.push(Frame::Port(port, frame)),
            None => cp.send_now(port, &frame),
        }
    }

    /// Puts `packet` into the tunnel the forwarding table has for its
    /// destination, now or once the changes made so far are durable
    /// (`store.sync_replies`). `None` when no binding holds the
    /// destination, `Some(false)` when its tunnel cannot take it yet (as
    /// [`ControlPlane::send_into_tunnel`]); a held packet is `Some(true)`.
    pub(super) fn send_reply_into_tunnel<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        packet: Vec<u8>,
    ) -> Option<bool> {
        match self.store.as_mut().filter(|s| s.sync_replies) {
            Some(s) => {
                let (_, dst) = crate::punt::ip_endpoints(&packet)?;
                if !cp.binds(dst) {
                    return None;
                }
                s.held.push(Frame::Tunnel(packet));
                Some(true)
            }
            None => cp.send_into_tunnel(&packet),
        }
    }

    /// Once per control-loop pass: hands the changes collected since the
    /// last batch to the writer when the batch interval has passed, and
    /// sends the replies whose batch has been committed.
    pub fn persist<P: Port, R: PuntRing<P::Buf>>(&mut self, cp: &mut ControlPlane<'_, P, R>, now: Instant) {
        let Some(store) = self.store.as_mut() else { return };
        // Commits reported since the last pass.
        let mut again = Vec::new();
        while let Some(done) = store.writer.poll() {
            again.extend(store.done(done, cp));
        }
        self.dsmip6_retry_later(again, now);
        let Some(store) = self.store.as_mut() else { return };
        let due = store.last_submit.is_none_or(|t| now.saturating_duration_since(t) >= store.interval);
        if !due {
            return;
        }
        let started = Instant::now();
        let mut batch = std::mem::take(&mut store.dropped);
        let changed = collect_batch(
            self.lma.as_mut(),
            self.ha.as_mut().map(|g| &mut g.ha),
            self.dsmip6.as_mut().map(|g| &mut g.ha),
            Clock::new(now, SystemTime::now()),
        );
        batch.lma.extend(changed.lma);
        batch.ha.extend(changed.ha);
        batch.dsmip6.extend(changed.dsmip6);
        let Some(store) = self.store.as_mut() else { return };
        if batch.is_empty() {
            // Nothing new to make durable: replies wait only for what is
            // already on its way to the disk.
            let held = std::mem::take(&mut store.held);
            match store.in_flight.back_mut() {
                Some((_, frames)) => frames.extend(held),
                None => {
                    let again = held.into_iter().filter_map(|f| f.send(cp)).collect();
                    self.dsmip6_retry_later(again, now);
                }
            }
            return;
        }
        store.stats.batches += 1;
        store.stats.records += batch.len() as u64;
        store.stats.largest_batch = store.stats.largest_batch.max(batch.len() as u64);
        let seq = store.writer.submit(batch);
        store.in_flight.push_back((seq, std::mem::take(&mut store.held)));
        store.last_submit = Some(now);
        store.stats.collect_us += u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    }

    /// At shutdown: writes what changed since the last batch and waits for
    /// the writer (up to `timeout`).
    pub fn persist_final(&mut self, timeout: Duration) {
        let batch = collect_batch(
            self.lma.as_mut(),
            self.ha.as_mut().map(|g| &mut g.ha),
            self.dsmip6.as_mut().map(|g| &mut g.ha),
            Clock::new(Instant::now(), SystemTime::now()),
        );
        let Some(mut store) = self.store.take() else { return };
        let mut all = std::mem::take(&mut store.dropped);
        all.lma.extend(batch.lma);
        all.ha.extend(batch.ha);
        all.dsmip6.extend(batch.dsmip6);
        let last = if all.is_empty() { None } else { Some(store.writer.submit(all)) };
        let deadline = Instant::now() + timeout;
        let mut clean = true;
        while let Some(seq) = last {
            match store.writer.wait(deadline.saturating_duration_since(Instant::now())) {
                Some(Done::Committed(s)) if s >= seq => break,
                Some(Done::Failed(s, e)) if s >= seq => {
                    tracing::error!("the last session changes were not saved: {e}");
                    clean = false;
                    break;
                }
                Some(_) => {}
                None => {
                    tracing::error!("the session store did not commit the last changes in time");
                    clean = false;
                    break;
                }
            }
        }
        // Every change committed: the next start keeps the Restart Counter.
        if let Some(file) = store.writer.finish().filter(|_| clean) {
            if let Err(e) = file.stopped_cleanly() {
                tracing::error!("{e}");
            }
        }
    }

    /// `show stats` `store`: null without a store.
    pub fn store_stats_json(&self) -> Value {
        let Some(s) = &self.store else { return Value::Null };
        let st = &s.stats;
        json!({
            "sync_replies": s.sync_replies,
            "batch_interval_ms": s.interval.as_millis(),
            "batches": st.batches,
            "records_written": st.records,
            "batches_committed": st.committed,
            "commit_failures": st.failures,
            "largest_batch": st.largest_batch,
            "collect_us": st.collect_us,
            "replies_held": s.held.len() + s.in_flight.iter().map(|(_, f)| f.len()).sum::<usize>(),
            "restored_pmip6": st.restored_lma,
            "restored_ha": st.restored_ha,
            "restored_dsmip6": st.restored_dsmip6,
            "expired_at_restore": st.expired_at_restore,
            "conflicts_at_restore": st.conflicts_at_restore,
        })
    }

    /// A restored HA binding into the forwarding table and the LMA's
    /// pools, as `apply_mip4` does for an install (home-link claims later).
    fn install_restored_binding(&mut self, b: &mip4::Binding, fwd: &mut Forwarding, config: &Config, now: Instant) {
        self.ha_install_forwarding(b, fwd, config, now);
    }
}

impl Persistence {
    /// The replies of the batches `done` covers go out; what must be tried
    /// again ([`Frame::send`]) is returned.
    fn done<P: Port, R: PuntRing<P::Buf>>(&mut self, done: Done, cp: &mut ControlPlane<'_, P, R>) -> Vec<Vec<u8>> {
        let upto = match done {
            Done::Committed(seq) => {
                self.stats.committed += 1;
                seq
            }
            Done::Failed(seq, e) => {
                self.stats.failures += 1;
                tracing::error!("session changes not saved (tried again with the next batch): {e}");
                seq
            }
        };
        let mut again = Vec::new();
        while self.in_flight.front().is_some_and(|(seq, _)| *seq <= upto) {
            if let Some((_, frames)) = self.in_flight.pop_front() {
                again.extend(frames.into_iter().filter_map(|f| f.send(cp)));
            }
        }
        again
    }
}

#[cfg(test)]
mod tests;
