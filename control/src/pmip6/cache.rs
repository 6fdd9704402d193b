//! The binding cache: one owner of every proxy Binding Cache Entry (RFC 5213
//! §5.1, PROTOCOLS.md §3.1) and the indexes the standards' lookups need:
//! HNP → BCE, MN-ID → BCEs (and through it (MN-ID, ATT, MN-LL-ID) → BCEs),
//! IPv4 HoA → BCE, Proxy-CoA → BCEs, MAG signalling address → BCEs.
//!
//! The indexes change only in [`BindingCache::insert`] and
//! [`BindingCache::remove`]; an entry is changed by taking a copy, editing
//! it and putting it back ([`BindingCache::replace`], which re-indexes it
//! when a key changed), so they never drift.
//!
//! Memory (issue "PMIPv6 LMA": at most 1 KiB per session with 1M resident):
//! the entries live in a slab indexed by session id, so an entry costs its
//! own size and no tree or hash overhead; the MN-ID text is one shared
//! [`MnId`] for the session and the MN-ID index; one MN's sessions (almost
//! always one) are kept inline in that index ([`Ids`]); the (MN-ID, ATT,
//! MN-LL-ID) lookup filters the MN's few sessions instead of keeping a
//! fourth map of owned keys.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use crate::proto::MobilityOption;

use super::{MnId, Session, Transport};

/// A released session id is handed out again only after this many other
/// ids were released after it, so that an id does not name a new session
/// straight after the old one went (logs, `anchorctl`, the data plane's
/// last `Remove`).
const ID_QUARANTINE: usize = 1024;

/// A proxy Binding Cache Entry: what [`Session`] shows plus what only the
/// LMA needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bce {
    pub session: Session,
    /// MN-ID option subtype as received (echoed in BRIs).
    pub mn_id_subtype: u8,
    /// Whether the identifier was not UTF-8, so that `session.mn_id` shows
    /// it as `0x` and hex digits (and [`Bce::mn_id_option`] decodes them).
    pub mn_id_hex: bool,
    /// The MAG's signalling address: the source of its last accepted PBU
    /// (the Proxy-CoA unless an Alternate Care-of Address option named
    /// another). Heartbeats and BRIs go there.
    pub mag: IpAddr,
    /// How the MAG's last accepted PBU arrived (the UDP source port for
    /// IPv4 transport): BRIs and heartbeats go back the same way.
    pub transport: Transport,
    /// When the session timer fires: lifetime expiry while active, deletion
    /// while deprecated.
    pub timer: Instant,
    /// Whether the data plane holds this session's forwarding (an
    /// `Output::Install` was sent with no `Output::Remove` since).
    pub installed: bool,
    /// Sequence number of the outstanding BRI revoking it
    /// ("revocation in progress", RFC 5846 §7.1).
    pub revoking: Option<u16>,
    /// A shadow BCE (§11.4) not activated yet: when it is revoked unless
    /// activated first. Kept while it is deprecated, so that a PBU reviving
    /// it makes it a shadow again.
    pub shadow: Option<Instant>,
}

impl Bce {
    /// The MN-ID option as the MAG sent it (for BRIs).
    pub fn mn_id_option(&self) -> MobilityOption {
        let text = self.session.mn_id.as_bytes();
        let id = if self.mn_id_hex {
            text.get(2..)
                .unwrap_or_default()
                .chunks(2)
                .filter_map(|pair| std::str::from_utf8(pair).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect()
        } else {
            text.to_vec()
        };
        MobilityOption::MnIdentifier { subtype: self.mn_id_subtype, id }
    }
}

/// The session ids under one index key, in id order. One MN almost always
/// has one session, so one id is kept inline (no allocation).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ids {
    One(u32),
    /// Two or more, sorted.
    Many(Box<[u32]>),
}

impl Ids {
    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }

    fn insert(&mut self, id: u32) {
        let ids = self.as_slice();
        if let Err(at) = ids.binary_search(&id) {
            let mut v = ids.to_vec();
            v.insert(at, id);
            *self = Ids::Many(v.into_boxed_slice());
        }
    }

    /// Takes `id` out; `false` when nothing is left.
    fn remove(&mut self, id: u32) -> bool {
        match self {
            Ids::One(one) => *one != id,
            Ids::Many(ids) => {
                let rest: Vec<u32> = ids.iter().copied().filter(|i| *i != id).collect();
                *self = match rest.as_slice() {
                    [] => return false,
                    [one] => Ids::One(*one),
                    _ => Ids::Many(rest.into_boxed_slice()),
                };
                true
            }
        }
    }
}

/// The BCEs and their indexes.
#[derive(Debug, Default)]
pub(super) struct BindingCache {
    /// Entry of session id `i + 1` at index `i`.
    slots: Vec<Option<Bce>>,
    /// Ids of empty slots, oldest release first.
    free: VecDeque<u32>,
    len: usize,
    by_hnp: HashMap<Ipv6Addr, u32>,
    by_mn: HashMap<MnId, Ids>,
    by_hoa: HashMap<Ipv4Addr, u32>,
    by_coa: HashMap<IpAddr, BTreeSet<u32>>,
    by_mag: HashMap<IpAddr, BTreeSet<u32>>,
    /// Ids inserted, replaced or removed since the last
    /// [`BindingCache::take_changed`], once tracking is on (the store).
    changed: Option<HashSet<u32>>,
}

fn slot(id: u32) -> Option<usize> {
    usize::try_from(id).ok()?.checked_sub(1)
}

impl BindingCache {
    /// A session id for a new entry (never 0, not in use): a never-used
    /// one, or the oldest released one once more than [`ID_QUARANTINE`]
    /// wait. The slot stays empty until [`BindingCache::insert`].
    pub fn allocate_id(&mut self) -> u32 {
        if self.free.len() > ID_QUARANTINE {
            while let Some(id) = self.free.pop_front() {
                if !self.contains(id) {
                    return id;
                }
            }
        }
        match u32::try_from(self.slots.len() + 1) {
            Ok(id) => {
                self.slots.push(None);
                id
            }
            // 2^32 - 1 entries: only a released id is left.
            Err(_) => self.free.pop_front().unwrap_or(0),
        }
    }

    /// Starts noting the ids of changed entries.
    pub fn track_changes(&mut self) {
        self.changed.get_or_insert_with(HashSet::new);
    }

    /// The ids changed since the last call, sorted.
    pub fn take_changed(&mut self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.changed.as_mut().map(|c| c.drain().collect()).unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    fn note(&mut self, id: u32) {
        if let Some(c) = self.changed.as_mut() {
            c.insert(id);
        }
    }

    /// Adds `bce`, replacing nothing: an entry with the same id must have
    /// been removed first.
    pub fn insert(&mut self, mut bce: Bce) {
        let id = bce.session.id;
        self.note(id);
        let Some(at) = slot(id) else { return };
        if self.slots.len() <= at {
            self.slots.resize(at + 1, None);
        }
        // One MN-ID text for all of the MN's sessions and the index.
        match self.by_mn.get_key_value(&*bce.session.mn_id) {
            Some((shared, _)) => bce.session.mn_id = shared.clone(),
            None => {
                self.by_mn.insert(bce.session.mn_id.clone(), Ids::One(id));
            }
        }
        if let Some(ids) = self.by_mn.get_mut(&*bce.session.mn_id) {
            ids.insert(id);
        }
        self.index(&bce);
        if self.slots[at].replace(bce).is_none() {
            self.len += 1;
        }
    }

    /// Adds `bce` to every index but the MN-ID one.
    fn index(&mut self, bce: &Bce) {
        let s = &bce.session;
        let id = s.id;
        for p in s.hnps.iter() {
            self.by_hnp.insert(*p, id);
        }
        if let Some((hoa, _, _)) = s.ipv4_hoa {
            self.by_hoa.insert(hoa, id);
        }
        self.by_coa.entry(s.proxy_coa).or_default().insert(id);
        self.by_mag.entry(bce.mag).or_default().insert(id);
    }

    /// Takes `bce` out of every index but the MN-ID one.
    fn unindex(&mut self, bce: &Bce) {
        let s = &bce.session;
        let id = s.id;
        for p in s.hnps.iter() {
            if self.by_hnp.get(p) == Some(&id) {
                self.by_hnp.remove(p);
            }
        }
        if let Some((hoa, _, _)) = s.ipv4_hoa {
            if self.by_hoa.get(&hoa) == Some(&id) {
                self.by_hoa.remove(&hoa);
            }
        }
        remove_from(&mut self.by_coa, &s.proxy_coa, id);
        remove_from(&mut self.by_mag, &bce.mag, id);
    }

    /// Takes the entry `id` out of the cache and every index.
    pub fn remove(&mut self, id: u32) -> Option<Bce> {
        let bce = self.slots.get_mut(slot(id)?)?.take()?;
        self.note(id);
        self.len -= 1;
        self.free.push_back(id);
        self.unindex(&bce);
        let mn = &*bce.session.mn_id;
        if let Some(ids) = self.by_mn.get_mut(mn) {
            if !ids.remove(id) {
                self.by_mn.remove(mn);
            }
        }
        Some(bce)
    }

    /// Puts an edited entry back in place of the one with its id. Only the
    /// indexes whose keys changed are touched.
    pub fn replace(&mut self, bce: Bce) {
        let id = bce.session.id;
        let Some(old) = slot(id).and_then(|at| self.slots.get(at)).and_then(Option::as_ref) else {
            return self.insert(bce);
        };
        if old.session.mn_id != bce.session.mn_id {
            self.remove(id);
            return self.insert(bce);
        }
        let same_keys = old.session.hnps == bce.session.hnps
            && old.session.ipv4_hoa.map(|h| h.0) == bce.session.ipv4_hoa.map(|h| h.0)
            && old.session.proxy_coa == bce.session.proxy_coa
            && old.mag == bce.mag;
        let mut bce = bce;
        bce.session.mn_id = old.session.mn_id.clone();
        if !same_keys {
            let old = old.clone();
            self.unindex(&old);
            self.index(&bce);
        }
        if let Some(entry) = slot(id).and_then(|at| self.slots.get_mut(at)) {
            *entry = Some(bce);
        }
        self.note(id);
    }

    pub fn get(&self, id: u32) -> Option<&Bce> {
        self.slots.get(slot(id)?)?.as_ref()
    }

    pub fn contains(&self, id: u32) -> bool {
        self.get(id).is_some()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Every entry, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Bce> {
        self.slots.iter().flatten()
    }

    /// The BCE owning the /64 `prefix`.
    pub fn by_hnp(&self, prefix: Ipv6Addr) -> Option<u32> {
        self.by_hnp.get(&prefix).copied()
    }

    /// BCEs with this (MN-ID, ATT, MN-LL-ID), in id order: the MN's
    /// sessions (a handful) filtered.
    pub fn by_link(&self, mn_id: &str, att: u8, mn_ll_id: &[u8]) -> Vec<u32> {
        self.mn_ids(mn_id)
            .iter()
            .copied()
            .filter(|id| self.get(*id).is_some_and(|b| b.session.att == att && *b.session.mn_ll_id == *mn_ll_id))
            .collect()
    }

    fn mn_ids(&self, mn_id: &str) -> &[u32] {
        self.by_mn.get(mn_id).map_or(&[], Ids::as_slice)
    }

    /// BCEs of one mobile node, in id order.
    pub fn by_mn(&self, mn_id: &str) -> Vec<u32> {
        self.mn_ids(mn_id).to_vec()
    }

    /// Number of BCEs of one mobile node.
    pub fn count_mn(&self, mn_id: &str) -> usize {
        self.mn_ids(mn_id).len()
    }

    /// The BCE holding the IPv4 home address `hoa`.
    pub fn by_hoa(&self, hoa: Ipv4Addr) -> Option<u32> {
        self.by_hoa.get(&hoa).copied()
    }

    /// BCEs whose Proxy-CoA is `coa` (one MAG's sessions), in id order.
    pub fn by_coa(&self, coa: IpAddr) -> Vec<u32> {
        self.by_coa.get(&coa).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    /// BCEs registered by the MAG whose signalling address is `mag`, in id
    /// order.
    pub fn by_mag(&self, mag: IpAddr) -> Vec<u32> {
        self.by_mag.get(&mag).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    /// Every MAG signalling address with at least one BCE, sorted.
    pub fn mags(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.by_mag.keys().copied().collect();
        v.sort();
        v
    }
}

fn remove_from<K: std::hash::Hash + Eq>(index: &mut HashMap<K, BTreeSet<u32>>, key: &K, id: u32) {
    if let Some(set) = index.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            index.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Encap, SessionState};
    use super::*;

    fn bce(id: u32, mn: &str, hnp: &str, hoa: Option<&str>, coa: &str, key: Option<u32>) -> Bce {
        let now = Instant::now();
        Bce {
            session: Session {
                id,
                mn_id: mn.into(),
                state: SessionState::Active,
                att: 4,
                mn_ll_id: vec![0, 0],
                link_local: None,
                hnps: vec![hnp.parse().unwrap()],
                ipv4_hoa: hoa.map(|a| (a.parse().unwrap(), 24, "203.0.113.1".parse().unwrap())),
                proxy_coa: coa.parse().unwrap(),
                local: "2001:db8:1::1".parse().unwrap(),
                encap: Encap::Gre { key_up: key, key_down: key },
                lifetime: Duration::from_secs(40),
                expires: now,
                last_seq: 0,
                last_timestamp: None,
            },
            mn_id_subtype: 1,
            mn_id_hex: false,
            mag: coa.parse().unwrap(),
            transport: Transport::Ipv6,
            timer: now,
            installed: true,
            revoking: None,
            shadow: None,
        }
    }

    #[test]
    fn binding_cache_indexes_follow_insert_and_remove() {
        let mut c = BindingCache::default();
        c.insert(bce(1, "a@x", "2001:db8:100::", Some("203.0.113.2"), "2001:db8:1::2", Some(7)));
        c.insert(bce(2, "a@x", "2001:db8:100:1::", None, "2001:db8:1::2", None));
        assert_eq!(c.by_hnp("2001:db8:100:1::".parse().unwrap()), Some(2));
        assert_eq!(c.by_mn("a@x"), [1, 2]);
        assert_eq!(c.by_link("a@x", 4, &[0, 0]), [1, 2]);
        assert_eq!(c.by_hoa("203.0.113.2".parse().unwrap()), Some(1));
        assert_eq!(c.by_coa("2001:db8:1::2".parse().unwrap()), [1, 2]);
        let gone = c.remove(1).unwrap();
        assert_eq!(gone.session.id, 1);
        assert_eq!(c.by_hnp("2001:db8:100::".parse().unwrap()), None);
        assert_eq!(c.by_hoa("203.0.113.2".parse().unwrap()), None);
        assert_eq!(c.by_mn("a@x"), [2]);
        c.remove(2);
        assert_eq!(c.len(), 0);
        assert!(c.by_mn.is_empty() && c.by_coa.is_empty() && c.by_mag.is_empty());
    }

    #[test]
    fn binding_cache_replace_moves_an_entry_between_index_keys() {
        let mut c = BindingCache::default();
        c.insert(bce(1, "a@x", "2001:db8:100::", None, "2001:db8:1::2", None));
        let mut b = c.get(1).unwrap().clone();
        b.session.proxy_coa = "2001:db8:1::3".parse().unwrap();
        b.mag = b.session.proxy_coa;
        b.session.hnps = vec!["2001:db8:100:9::".parse().unwrap()];
        c.replace(b);
        assert!(c.by_coa("2001:db8:1::2".parse().unwrap()).is_empty());
        assert_eq!(c.by_coa("2001:db8:1::3".parse().unwrap()), [1]);
        assert_eq!(c.by_hnp("2001:db8:100::".parse().unwrap()), None);
        assert_eq!(c.by_hnp("2001:db8:100:9::".parse().unwrap()), Some(1));
        assert_eq!(c.mags(), ["2001:db8:1::3".parse::<IpAddr>().unwrap()]);
        assert_eq!(c.by_mag("2001:db8:1::3".parse().unwrap()), [1]);
    }

    #[test]
    fn binding_cache_hands_a_released_id_out_again_only_after_the_quarantine() {
        let mut c = BindingCache::default();
        let first = c.allocate_id();
        assert_eq!(first, 1);
        c.insert(bce(first, "a@x", "2001:db8:100::", None, "2001:db8:1::2", None));
        c.remove(first);
        let mut seen = vec![];
        for _ in 0..ID_QUARANTINE {
            let id = c.allocate_id();
            c.insert(bce(id, "b@x", "2001:db8:100:1::", None, "2001:db8:1::2", None));
            c.remove(id);
            seen.push(id);
        }
        assert!(!seen.contains(&first));
        assert_eq!(c.allocate_id(), first);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn sessions_of_one_mn_share_its_mn_id_text() {
        let mut c = BindingCache::default();
        c.insert(bce(1, "a@x", "2001:db8:100::", None, "2001:db8:1::2", None));
        c.insert(bce(2, "a@x", "2001:db8:100:1::", None, "2001:db8:1::2", None));
        let (a, b) = (&c.get(1).unwrap().session.mn_id, &c.get(2).unwrap().session.mn_id);
        assert!(std::sync::Arc::ptr_eq(a, b));
    }

    #[test]
    fn mn_id_option_gives_back_the_identifier_as_received() {
        let mut b = bce(1, "a@x", "2001:db8:100::", None, "2001:db8:1::2", None);
        assert_eq!(b.mn_id_option(), MobilityOption::MnIdentifier { subtype: 1, id: b"a@x".to_vec() });
        b.session.mn_id = "0x21436587f5".into();
        b.mn_id_subtype = 3;
        b.mn_id_hex = true;
        assert_eq!(
            b.mn_id_option(),
            MobilityOption::MnIdentifier { subtype: 3, id: vec![0x21, 0x43, 0x65, 0x87, 0xf5] }
        );
    }
}
