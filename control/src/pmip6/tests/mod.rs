//! Rule tests of the LMA: one test per rule of PROTOCOLS.md §3–§7, named as
//! the rule. `docs/conformance/pmipv6.md` maps each rule to its test.
//!
//! The harness drives an [`Lma`] with a hand-made clock: `H::advance` moves
//! the monotonic and the wall clock together and polls.

mod churn;
mod existence;
mod gre_keys;
mod heartbeat;
mod ipv4;
mod ipv4_transport;
mod order;
mod ordering;
mod outcomes;
mod pba_contents;
mod revocation;
mod shadow;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Config, Ipv4Pool, LmaConfig, MagPeer, Ordering, PoolsConfig, Profile, ProfilesConfig};

use super::{Lma, Output, Received, Session, Transport};
use crate::proto::{bu_flags, BindingAck, BindingRevocation, BindingUpdate, Heartbeat, MhMessage, MobilityOption};

pub const LMAA: &str = "2001:db8:1::1";
pub const LMAA4: &str = "192.0.2.1";
/// Listed MAGs: two over IPv6, one IPv6 MAG ordering by timestamps, two
/// over IPv4 transport. All but `MAG_TS` order by sequence number.
pub const MAG1: &str = "2001:db8:1::2";
pub const MAG2: &str = "2001:db8:1::3";
pub const MAG_TS: &str = "2001:db8:1::4";
pub const MAG4: &str = "192.0.2.2";
pub const MAG4B: &str = "192.0.2.3";
pub const UNLISTED: &str = "2001:db8:1::99";

pub const DUAL: &str = "dual@anchor.test";
pub const V4ONLY: &str = "v4only@anchor.test";
pub const V6ONLY: &str = "v6only@anchor.test";
pub const STATIC4: &str = "static4@anchor.test";
pub const STATIC_HOA: &str = "203.0.113.200";
pub const STATIC_HNP: &str = "2001:db8:100:ff::";
pub const NO_PMIP: &str = "nopmip@anchor.test";
pub const MAG2_ONLY: &str = "mag2only@anchor.test";
pub const GRE_MN: &str = "gre@anchor.test";
pub const SHORT: &str = "short@anchor.test";

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

pub fn v6(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

pub fn v4(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

fn mag(name: &str, addr: &str, ordering: Ordering) -> MagPeer {
    MagPeer { name: name.into(), addr: ip(addr), ordering }
}

fn profile(mn_id: &str) -> Profile {
    Profile { mn_id: mn_id.into(), ..Profile::default() }
}

/// The test configuration: demo addresses, pools 2001:db8:100::/48 and
/// 203.0.113.0/24, the demo profiles plus a few for single rules, a default
/// profile, no heartbeats.
pub fn config() -> Config {
    let lma = LmaConfig {
        lmaa: Some(v6(LMAA)),
        ipv4_lmaa: Some(v4(LMAA4)),
        mags: vec![
            mag("mag1", MAG1, Ordering::Sequence),
            mag("mag2", MAG2, Ordering::Sequence),
            mag("mag-ts", MAG_TS, Ordering::Timestamp),
            mag("mag1-v4", MAG4, Ordering::Sequence),
            mag("mag2-v4", MAG4B, Ordering::Sequence),
        ],
        heartbeat_interval: None,
        ..LmaConfig::default()
    };
    let pools = PoolsConfig {
        hnp: vec!["2001:db8:100::/48".parse().unwrap()],
        ipv4: vec![Ipv4Pool {
            subnet: "203.0.113.0/24".parse().unwrap(),
            default_router: v4("203.0.113.1"),
            exclude: vec![v4(STATIC_HOA)],
        }],
    };
    let profiles = ProfilesConfig {
        default: Some(Profile::default()),
        mobile_nodes: vec![
            profile(DUAL),
            Profile { ipv6: false, ..profile(V4ONLY) },
            Profile { ipv4: false, ..profile(V6ONLY) },
            Profile {
                static_ipv4_hoa: Some(v4(STATIC_HOA)),
                static_hnp: Some(format!("{STATIC_HNP}/64").parse().unwrap()),
                ..profile(STATIC4)
            },
            Profile { pmip6: false, ..profile(NO_PMIP) },
            Profile { mags: vec!["mag2".into()], ..profile(MAG2_ONLY) },
            Profile { gre_required: true, ..profile(GRE_MN) },
            Profile { max_lifetime: Some(Duration::from_secs(40)), ..profile(SHORT) },
        ],
    };
    Config {
        eal: Default::default(),
        log: Default::default(),
        cli: Default::default(),
        metrics: Default::default(),
        store: Default::default(),
        overload: Default::default(),
        dataplane: Default::default(),
        neighbor: Default::default(),
        ports: Vec::new(),
        routes: Vec::new(),
        tunnel: Default::default(),
        bindings: Vec::new(),
        lma: Some(lma),
        ha: None,
        dsmip6: None,
        pools,
        profiles,
    }
}

/// An LMA with a hand-made clock.
pub struct H {
    pub lma: Lma,
    pub now: Instant,
    pub wall: SystemTime,
}

/// Our time of day in the tests: Unix time 1700000000.
pub const WALL0: u64 = 1_700_000_000;

impl H {
    pub fn new() -> H {
        H::with(|_| {})
    }

    /// An LMA of [`config`] changed by `f`; the start-up outputs (unsolicited
    /// heartbeat responses) are already taken.
    pub fn with(f: impl FnOnce(&mut Config)) -> H {
        let mut cfg = config();
        f(&mut cfg);
        let mut h = H {
            lma: Lma::new(&cfg).unwrap(),
            now: Instant::now(),
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(WALL0),
        };
        h.lma.poll(h.now, h.wall);
        h
    }

    /// Changes the LMA configuration only.
    pub fn with_lma(f: impl FnOnce(&mut LmaConfig)) -> H {
        H::with(|c| f(c.lma.as_mut().unwrap()))
    }

    /// Moves both clocks and polls.
    pub fn advance(&mut self, d: Duration) -> Vec<Output> {
        self.now += d;
        self.wall += d;
        self.lma.poll(self.now, self.wall)
    }

    /// Our time of day as a Timestamp option value.
    pub fn ts(&self) -> u64 {
        super::timestamp_of(self.wall)
    }

    pub fn rx(&mut self, src: &str, dst: &str, transport: Transport, msg: MhMessage) -> Vec<Output> {
        let rx = Received { src: ip(src), dst: ip(dst), transport, msg };
        self.lma.handle(rx, self.now, self.wall)
    }

    /// A PBU over IPv6 from `mag` to the LMAA.
    pub fn pbu(&mut self, mag: &str, bu: BindingUpdate) -> Vec<Output> {
        self.rx(mag, LMAA, Transport::Ipv6, MhMessage::BindingUpdate(bu))
    }

    /// A PBU over IPv4-UDP from `mag` (source port `port`) to the IPv4-LMAA.
    pub fn pbu4(&mut self, mag: &str, port: u16, bu: BindingUpdate) -> Vec<Output> {
        self.rx(mag, LMAA4, Transport::Udp4 { src_port: port }, MhMessage::BindingUpdate(bu))
    }

    pub fn revocation(&mut self, mag: &str, br: BindingRevocation) -> Vec<Output> {
        self.rx(mag, LMAA, Transport::Ipv6, MhMessage::BindingRevocation(br))
    }

    pub fn heartbeat(&mut self, mag: &str, hb: Heartbeat) -> Vec<Output> {
        self.rx(mag, LMAA, Transport::Ipv6, MhMessage::Heartbeat(hb))
    }

    /// Registers `mn` from `mag` with one ALL_ZERO HNP (sequence `seq`) and
    /// returns the session.
    pub fn attach(&mut self, mag: &str, mn: &str, seq: u16) -> Session {
        let out = self.pbu(mag, Pbu::new(mn).seq(seq).build());
        assert_eq!(pba(&out).status, 0, "{out:?}");
        installs(&out).last().cloned().cloned().unwrap()
    }

    pub fn session(&self, id: u32) -> Session {
        self.lma.session(id).cloned().unwrap()
    }

    pub fn count(&self) -> usize {
        self.lma.sessions().count()
    }
}

/// PBU builder: by default MN-ID `mn`, one ALL_ZERO HNP, HI = 1, ATT = 4
/// (802.11), lifetime 100 units (400 s), sequence 1, flags A | P.
#[derive(Debug, Clone)]
pub struct Pbu {
    seq: u16,
    flags: u16,
    lifetime: u16,
    mn: Option<String>,
    hnps: Option<Vec<(u8, Ipv6Addr)>>,
    hi: Option<u8>,
    att: Option<u8>,
    extra: Vec<MobilityOption>,
}

impl Pbu {
    pub fn new(mn: &str) -> Pbu {
        Pbu {
            seq: 1,
            flags: bu_flags::A | bu_flags::P,
            lifetime: 100,
            mn: Some(mn.into()),
            hnps: None,
            hi: Some(1),
            att: Some(4),
            extra: Vec::new(),
        }
    }
    pub fn seq(mut self, seq: u16) -> Pbu {
        self.seq = seq;
        self
    }
    pub fn flags(mut self, flags: u16) -> Pbu {
        self.flags |= flags;
        self
    }
    pub fn no_p(mut self) -> Pbu {
        self.flags &= !bu_flags::P;
        self
    }
    pub fn lifetime(mut self, units: u16) -> Pbu {
        self.lifetime = units;
        self
    }
    pub fn no_mn_id(mut self) -> Pbu {
        self.mn = None;
        self
    }
    /// Replaces the default ALL_ZERO HNP with this list (empty: none).
    pub fn hnps(mut self, prefixes: &[&str]) -> Pbu {
        self.hnps = Some(prefixes.iter().map(|p| (if *p == "::" { 0 } else { 64 }, v6(p))).collect());
        self
    }
    pub fn hnp(self, prefix: &str) -> Pbu {
        self.hnps(&[prefix])
    }
    pub fn no_hnp(self) -> Pbu {
        self.hnps(&[])
    }
    pub fn hi(mut self, hi: Option<u8>) -> Pbu {
        self.hi = hi;
        self
    }
    pub fn att(mut self, att: Option<u8>) -> Pbu {
        self.att = att;
        self
    }
    pub fn opt(mut self, option: MobilityOption) -> Pbu {
        self.extra.push(option);
        self
    }
    pub fn ll(self, id: &[u8]) -> Pbu {
        self.opt(MobilityOption::MnLinkLayerId(id.to_vec()))
    }
    pub fn lla(self, addr: &str) -> Pbu {
        self.opt(MobilityOption::LinkLocalAddress(v6(addr)))
    }
    pub fn ts(self, ts: u64) -> Pbu {
        self.opt(MobilityOption::Timestamp(ts))
    }
    pub fn v4(self, addr: &str) -> Pbu {
        self.opt(MobilityOption::Ipv4HoaRequest { prefix_len: 32, addr: v4(addr) })
    }
    pub fn gre(self, key: Option<u32>) -> Pbu {
        self.opt(MobilityOption::GreKey(key))
    }
    pub fn build(self) -> BindingUpdate {
        let mut options = Vec::new();
        if let Some(mn) = &self.mn {
            options.push(MobilityOption::MnIdentifier { subtype: 1, id: mn.as_bytes().to_vec() });
        }
        for (prefix_len, prefix) in self.hnps.unwrap_or_else(|| vec![(0, Ipv6Addr::UNSPECIFIED)]) {
            options.push(MobilityOption::HomeNetworkPrefix { prefix_len, prefix });
        }
        if let Some(hi) = self.hi {
            options.push(MobilityOption::HandoffIndicator(hi));
        }
        if let Some(att) = self.att {
            options.push(MobilityOption::AccessTechnology(att));
        }
        options.extend(self.extra);
        BindingUpdate { seq: self.seq, flags: self.flags, lifetime: self.lifetime, options }
    }
}

/// Every message sent: (src, dst, transport, message).
pub fn sent(out: &[Output]) -> Vec<(IpAddr, IpAddr, Transport, &MhMessage)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { src, dst, transport, msg } => Some((*src, *dst, *transport, msg)),
            _ => None,
        })
        .collect()
}

pub fn pbas(out: &[Output]) -> Vec<&BindingAck> {
    sent(out)
        .into_iter()
        .filter_map(|(_, _, _, m)| match m {
            MhMessage::BindingAck(ba) => Some(ba),
            _ => None,
        })
        .collect()
}

/// The one PBA in `out`.
pub fn pba(out: &[Output]) -> &BindingAck {
    let all = pbas(out);
    assert_eq!(all.len(), 1, "expected one PBA in {out:?}");
    all[0]
}

pub fn bris(out: &[Output]) -> Vec<(IpAddr, IpAddr, Transport, &BindingRevocation)> {
    sent(out)
        .into_iter()
        .filter_map(|(s, d, t, m)| match m {
            MhMessage::BindingRevocation(br) => Some((s, d, t, br)),
            _ => None,
        })
        .collect()
}

pub fn heartbeats(out: &[Output]) -> Vec<(IpAddr, IpAddr, Transport, &Heartbeat)> {
    sent(out)
        .into_iter()
        .filter_map(|(s, d, t, m)| match m {
            MhMessage::Heartbeat(hb) => Some((s, d, t, hb)),
            _ => None,
        })
        .collect()
}

pub fn installs(out: &[Output]) -> Vec<&Session> {
    out.iter()
        .filter_map(|o| match o {
            Output::Install(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub fn removes(out: &[Output]) -> Vec<u32> {
    out.iter()
        .filter_map(|o| match o {
            Output::Remove { id } => Some(*id),
            _ => None,
        })
        .collect()
}

/// The HNP options of a message: (prefix length, prefix).
pub fn hnps_of(options: &[MobilityOption]) -> Vec<(u8, Ipv6Addr)> {
    options
        .iter()
        .filter_map(|o| match o {
            MobilityOption::HomeNetworkPrefix { prefix_len, prefix } => Some((*prefix_len, *prefix)),
            _ => None,
        })
        .collect()
}

/// The first option `f` picks out.
pub fn find<T>(options: &[MobilityOption], f: impl Fn(&MobilityOption) -> Option<T>) -> Option<T> {
    options.iter().find_map(f)
}

pub fn mn_id_of(options: &[MobilityOption]) -> Option<(u8, Vec<u8>)> {
    find(options, |o| match o {
        MobilityOption::MnIdentifier { subtype, id } => Some((*subtype, id.clone())),
        _ => None,
    })
}

pub fn timestamp_of(options: &[MobilityOption]) -> Option<u64> {
    find(options, |o| match o {
        MobilityOption::Timestamp(t) => Some(*t),
        _ => None,
    })
}

pub fn gre_of(options: &[MobilityOption]) -> Option<Option<u32>> {
    find(options, |o| match o {
        MobilityOption::GreKey(k) => Some(*k),
        _ => None,
    })
}

pub fn reply_of(options: &[MobilityOption]) -> Option<(u8, u8, Ipv4Addr)> {
    find(options, |o| match o {
        MobilityOption::Ipv4HoaReply { status, prefix_len, addr } => Some((*status, *prefix_len, *addr)),
        _ => None,
    })
}

pub fn lla_of(options: &[MobilityOption]) -> Option<Ipv6Addr> {
    find(options, |o| match o {
        MobilityOption::LinkLocalAddress(a) => Some(*a),
        _ => None,
    })
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}
