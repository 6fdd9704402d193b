//! The binding cache: one owner of every proxy Binding Cache Entry (RFC 5213
//! §5.1, PROTOCOLS.md §3.1) and the indexes the standards' lookups need:
//! HNP → BCE, (MN-ID, ATT, MN-LL-ID) → BCEs, MN-ID → BCEs, IPv4 HoA → BCE,
//! Proxy-CoA → BCEs, MAG signalling address → BCEs.
//!
//! The indexes change only in [`BindingCache::insert`] and
//! [`BindingCache::remove`]; an entry is changed by taking it out, editing
//! it and putting it back ([`BindingCache::replace`]), so they never drift.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use super::{Session, Transport};

/// A proxy Binding Cache Entry: what [`Session`] shows plus what only the
/// LMA needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bce {
    pub session: Session,
    /// MN-ID option subtype and identifier as received (echoed in BRIs).
    pub mn_id_raw: (u8, Vec<u8>),
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
}

type LinkKey = (String, u8, Vec<u8>);

/// The BCEs and their indexes.
#[derive(Debug, Default)]
pub(super) struct BindingCache {
    by_id: BTreeMap<u32, Bce>,
    by_hnp: HashMap<Ipv6Addr, u32>,
    by_link: HashMap<LinkKey, HashSet<u32>>,
    by_mn: HashMap<String, HashSet<u32>>,
    by_hoa: HashMap<Ipv4Addr, u32>,
    by_coa: HashMap<IpAddr, HashSet<u32>>,
    by_mag: HashMap<IpAddr, HashSet<u32>>,
}

fn link_key(s: &Session) -> LinkKey {
    (s.mn_id.clone(), s.att, s.mn_ll_id.clone())
}

impl BindingCache {
    /// Adds `bce`, replacing nothing: an entry with the same id must have
    /// been removed first.
    pub fn insert(&mut self, bce: Bce) {
        let s = &bce.session;
        let id = s.id;
        for p in &s.hnps {
            self.by_hnp.insert(*p, id);
        }
        self.by_link.entry(link_key(s)).or_default().insert(id);
        self.by_mn.entry(s.mn_id.clone()).or_default().insert(id);
        if let Some((hoa, _, _)) = s.ipv4_hoa {
            self.by_hoa.insert(hoa, id);
        }
        self.by_coa.entry(s.proxy_coa).or_default().insert(id);
        self.by_mag.entry(bce.mag).or_default().insert(id);
        self.by_id.insert(id, bce);
    }

    /// Takes the entry `id` out of the cache and every index.
    pub fn remove(&mut self, id: u32) -> Option<Bce> {
        let bce = self.by_id.remove(&id)?;
        let s = &bce.session;
        for p in &s.hnps {
            if self.by_hnp.get(p) == Some(&id) {
                self.by_hnp.remove(p);
            }
        }
        remove_from(&mut self.by_link, &link_key(s), id);
        remove_from(&mut self.by_mn, &s.mn_id, id);
        if let Some((hoa, _, _)) = s.ipv4_hoa {
            if self.by_hoa.get(&hoa) == Some(&id) {
                self.by_hoa.remove(&hoa);
            }
        }
        remove_from(&mut self.by_coa, &s.proxy_coa, id);
        remove_from(&mut self.by_mag, &bce.mag, id);
        Some(bce)
    }

    /// Puts an edited entry back in place of the one with its id.
    pub fn replace(&mut self, bce: Bce) {
        self.remove(bce.session.id);
        self.insert(bce);
    }

    pub fn get(&self, id: u32) -> Option<&Bce> {
        self.by_id.get(&id)
    }

    pub fn contains(&self, id: u32) -> bool {
        self.by_id.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bce> {
        self.by_id.values()
    }

    /// The BCE owning the /64 `prefix`.
    pub fn by_hnp(&self, prefix: Ipv6Addr) -> Option<u32> {
        self.by_hnp.get(&prefix).copied()
    }

    /// BCEs with this (MN-ID, ATT, MN-LL-ID), in id order.
    pub fn by_link(&self, mn_id: &str, att: u8, mn_ll_id: &[u8]) -> Vec<u32> {
        let key = (mn_id.to_owned(), att, mn_ll_id.to_vec());
        sorted(self.by_link.get(&key))
    }

    /// BCEs of one mobile node, in id order.
    pub fn by_mn(&self, mn_id: &str) -> Vec<u32> {
        sorted(self.by_mn.get(mn_id))
    }

    /// Number of BCEs of one mobile node.
    pub fn count_mn(&self, mn_id: &str) -> usize {
        self.by_mn.get(mn_id).map_or(0, HashSet::len)
    }

    /// The BCE holding the IPv4 home address `hoa`.
    pub fn by_hoa(&self, hoa: Ipv4Addr) -> Option<u32> {
        self.by_hoa.get(&hoa).copied()
    }

    /// BCEs whose Proxy-CoA is `coa` (one MAG's sessions), in id order.
    pub fn by_coa(&self, coa: IpAddr) -> Vec<u32> {
        sorted(self.by_coa.get(&coa))
    }

    /// BCEs registered by the MAG whose signalling address is `mag`, in id
    /// order.
    pub fn by_mag(&self, mag: IpAddr) -> Vec<u32> {
        sorted(self.by_mag.get(&mag))
    }

    /// Every MAG signalling address with at least one BCE, sorted.
    pub fn mags(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.by_mag.keys().copied().collect();
        v.sort();
        v
    }
}

fn remove_from<K: std::hash::Hash + Eq>(index: &mut HashMap<K, HashSet<u32>>, key: &K, id: u32) {
    if let Some(set) = index.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            index.remove(key);
        }
    }
}

fn sorted(set: Option<&HashSet<u32>>) -> Vec<u32> {
    let mut v: Vec<u32> = set.map(|s| s.iter().copied().collect()).unwrap_or_default();
    v.sort_unstable();
    v
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
            mn_id_raw: (1, mn.as_bytes().to_vec()),
            mag: coa.parse().unwrap(),
            transport: Transport::Ipv6,
            timer: now,
            installed: true,
            revoking: None,
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
        assert!(c.by_mn.is_empty() && c.by_link.is_empty() && c.by_coa.is_empty() && c.by_mag.is_empty());
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
}
