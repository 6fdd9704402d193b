//! Rule tests of the home agent: one test per rule of PROTOCOLS.md §8–§10
//! and per reply code, named as the rule. `docs/conformance/mip4.md` maps
//! each rule to its test.
//!
//! The harness drives an [`Ha`] with a hand-made clock. Requests are built
//! as typed messages, sealed with the test keys by [`auth::seal`] and sent
//! as bytes, so every test also goes through the codec and the
//! authenticator check.

mod authentication;
mod churn;
mod draft01;
mod dsmip4;
mod pmip4;
mod registration;
mod revocation;
mod tunnels;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{
    AuthAlgorithm, Config, FaPeer, HaConfig, Ipv4Pool, MnSecurityAssociation, PoolsConfig, Profile, ProfilesConfig,
};

use super::auth::{self, SealKey};
use super::ext::{AuthKind, Extension};
use super::wire::{self, Message, Rrp, Rrq};
use super::{ntp_of, Binding, Ha, Output, Received, MIP4_PORT};

pub const HA_ADDR: &str = "192.0.2.1";
/// Foreign agents / PMAs with an FA-HA association: FA1 may send proxy
/// registrations, FA2 may not.
pub const FA1: &str = "192.0.2.2";
pub const FA2: &str = "192.0.2.3";
/// A foreign agent without an association.
pub const FA_UNKNOWN: &str = "192.0.2.4";
/// A co-located care-of address.
pub const COA: &str = "198.51.100.20";
/// A NAT's public address.
pub const NAT: &str = "198.51.100.99";

pub const MN: &str = "mn@anchor.test";
pub const DUAL: &str = "dual@anchor.test";
pub const STATIC4: &str = "static4@anchor.test";
pub const STATIC_HOA: &str = "203.0.113.200";
pub const NO_MIP4: &str = "nomip4@anchor.test";
pub const SHORT: &str = "short@anchor.test";
pub const V6ONLY: &str = "v6only@anchor.test";
/// A host registered by proxy (no association of its own).
pub const HOST: &str = "host@anchor.test";
/// An NAI with an association but no profile.
pub const BARE: &str = "bare@anchor.test";

pub const MN_SPI: u32 = 0x1000;
pub const FA1_SPI: u32 = 0x2000;
pub const FA2_SPI: u32 = 0x2001;

pub fn mn_key(mn: &str) -> Vec<u8> {
    let seed = mn.bytes().fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    (0..16).map(|i| seed.wrapping_add(i)).collect()
}

pub fn fa_key(fa: &str) -> Vec<u8> {
    if fa == FA1 {
        vec![0xa1; 16]
    } else {
        vec![0xa2; 16]
    }
}

pub fn v4(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

pub fn v6(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn sa(mn: &str) -> MnSecurityAssociation {
    MnSecurityAssociation { mn_id: mn.into(), spi: MN_SPI, key: mn_key(mn), algorithm: AuthAlgorithm::HmacMd5 }
}

fn profile(mn: &str) -> Profile {
    Profile { mn_id: mn.into(), ..Profile::default() }
}

/// The test configuration: home agent 192.0.2.1, pool 203.0.113.0/24,
/// prefixes from 2001:db8:100::/48, two foreign agents, the profiles
/// above, no default profile.
pub fn config() -> Config {
    let ha = HaConfig {
        address: v4(HA_ADDR),
        ipv4_pools: vec![0],
        mobile_nodes: [MN, DUAL, STATIC4, NO_MIP4, SHORT, V6ONLY, BARE].iter().map(|m| sa(m)).collect(),
        foreign_agents: vec![
            FaPeer {
                name: "fa1".into(),
                addr: v4(FA1),
                spi: FA1_SPI,
                key: fa_key(FA1),
                algorithm: AuthAlgorithm::HmacMd5,
                proxy: true,
            },
            FaPeer {
                name: "fa2".into(),
                addr: v4(FA2),
                spi: FA2_SPI,
                key: fa_key(FA2),
                algorithm: AuthAlgorithm::HmacMd5,
                proxy: false,
            },
        ],
        ..HaConfig::default()
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
        default: None,
        mobile_nodes: vec![
            profile(MN),
            profile(DUAL),
            Profile { static_ipv4_hoa: Some(v4(STATIC_HOA)), ..profile(STATIC4) },
            Profile { mip4: false, ..profile(NO_MIP4) },
            Profile { max_lifetime: Some(secs(40)), ..profile(SHORT) },
            Profile { ipv4: false, ..profile(V6ONLY) },
            profile(HOST),
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
        lma: None,
        ha: Some(ha),
        dsmip6: None,
        pools,
        profiles,
    }
}

/// Our time of day in the tests: Unix time 1700000000.
pub const WALL0: u64 = 1_700_000_000;

/// A home agent with a hand-made clock.
pub struct H {
    pub ha: Ha,
    pub now: Instant,
    pub wall: SystemTime,
    /// Identification of the next request: our clock, plus one per request.
    seq: u64,
}

impl H {
    pub fn new() -> H {
        H::with(|_| {})
    }

    /// A home agent of [`config`] with the `[ha]` part changed by `f`.
    pub fn with(f: impl FnOnce(&mut HaConfig)) -> H {
        H::with_config(|c| f(c.ha.as_mut().unwrap()))
    }

    pub fn with_config(f: impl FnOnce(&mut Config)) -> H {
        let mut cfg = config();
        f(&mut cfg);
        H { ha: Ha::new(&cfg).unwrap(), now: Instant::now(), wall: SystemTime::UNIX_EPOCH + secs(WALL0), seq: 0 }
    }

    /// Moves both clocks and polls.
    pub fn advance(&mut self, d: Duration) -> Vec<Output> {
        self.now += d;
        self.wall += d;
        self.ha.poll(self.now, self.wall)
    }

    /// A fresh Identification: our NTP time with a counter in the low bits.
    pub fn id(&mut self) -> u64 {
        self.seq += 1;
        (ntp_of(self.wall) & !0xffff_ffff) | self.seq
    }

    /// Sends `msg` (already sealed) from `src:port` to `dst`.
    pub fn rx_from(&mut self, src: &str, port: u16, dst: &str, msg: &Message) -> Vec<Output> {
        self.rx_bytes(src, port, dst, wire::emit(msg))
    }

    pub fn rx_bytes(&mut self, src: &str, port: u16, dst: &str, payload: Vec<u8>) -> Vec<Output> {
        let rx = Received { src: v4(src), dst: v4(dst), src_port: port, payload };
        self.ha.handle(rx, self.now, self.wall)
    }

    /// A request `r` sent from its `from` address to the home agent.
    pub fn send(&mut self, r: Req) -> Vec<Output> {
        let (from, port) = (r.from.clone(), r.port);
        let dst = r.dst.clone();
        let msg = r.build();
        self.rx_from(&from, port, &dst, &msg)
    }

    /// Registers `mn` from its co-located care-of address; returns the
    /// binding.
    pub fn register(&mut self, mn: &str) -> Binding {
        let id = self.id();
        let out = self.send(Req::mn(mn).id(id));
        assert_eq!(rrp(&out).code, 0, "{out:?}");
        self.ha.bindings().find(|b| &*b.mn_id == mn).cloned().unwrap()
    }

    pub fn count(&self) -> usize {
        self.ha.bindings().count()
    }
}

/// Registration Request builder. By default: from the mobile node `mn` at
/// its co-located care-of address (D = 1), port 434, to the home agent,
/// Home Address 0, lifetime 600 s, its NAI, MN-HA under its key.
#[derive(Debug, Clone)]
pub struct Req {
    pub mn: String,
    pub from: String,
    pub port: u16,
    pub dst: String,
    pub flags: u8,
    pub lifetime: u16,
    pub hoa: Ipv4Addr,
    pub home_agent: Ipv4Addr,
    pub coa: Ipv4Addr,
    pub identification: u64,
    pub nai: bool,
    /// Extensions before MN-HA (the mobile node's).
    pub mn_ext: Vec<Extension>,
    /// MN-HA: (SPI, key); `None` = no MN-HA.
    pub mn_ha: Option<(u32, Vec<u8>)>,
    /// Extensions after MN-HA (a foreign agent's).
    pub fa_ext: Vec<Extension>,
    /// FA-HA: (SPI, key); `None` = none.
    pub fa_ha: Option<(u32, Vec<u8>)>,
}

impl Req {
    pub fn mn(mn: &str) -> Req {
        Req {
            mn: mn.into(),
            from: COA.into(),
            port: MIP4_PORT,
            dst: HA_ADDR.into(),
            flags: super::wire::rrq_flags::D,
            lifetime: 600,
            hoa: Ipv4Addr::UNSPECIFIED,
            home_agent: v4(HA_ADDR),
            coa: v4(COA),
            identification: 0,
            nai: true,
            mn_ext: Vec::new(),
            mn_ha: Some((MN_SPI, mn_key(mn))),
            fa_ext: Vec::new(),
            fa_ha: None,
        }
    }

    /// Through foreign agent `fa` (FA-located care-of address, D = 0),
    /// with FA-HA when `fa` shares an association with us.
    pub fn via(mut self, fa: &str) -> Req {
        self.from = fa.into();
        self.coa = v4(fa);
        self.flags &= !super::wire::rrq_flags::D;
        self.fa_ha = match fa {
            FA1 => Some((FA1_SPI, fa_key(FA1))),
            FA2 => Some((FA2_SPI, fa_key(FA2))),
            _ => None,
        };
        self
    }

    /// A proxy registration by PMA `fa` for host `mn` with per-node
    /// authentication (RFC 5563): no MN-HA, FA-HA and the method.
    pub fn proxy(mn: &str, fa: &str) -> Req {
        let mut r = Req::mn(mn).via(fa);
        r.mn_ha = None;
        r.mn_ext.push(Extension::PerNodeAuthMethod(super::ext::per_node_auth::FA_HA));
        r
    }

    pub fn id(mut self, id: u64) -> Req {
        self.identification = id;
        self
    }
    pub fn flags(mut self, f: u8) -> Req {
        self.flags |= f;
        self
    }
    pub fn clear(mut self, f: u8) -> Req {
        self.flags &= !f;
        self
    }
    pub fn lifetime(mut self, s: u16) -> Req {
        self.lifetime = s;
        self
    }
    pub fn hoa(mut self, a: &str) -> Req {
        self.hoa = v4(a);
        self
    }
    pub fn home_agent(mut self, a: &str) -> Req {
        self.home_agent = v4(a);
        self
    }
    pub fn coa(mut self, a: &str) -> Req {
        self.coa = v4(a);
        self
    }
    pub fn from(mut self, a: &str, port: u16) -> Req {
        self.from = a.into();
        self.port = port;
        self
    }
    pub fn to(mut self, a: &str) -> Req {
        self.dst = a.into();
        self
    }
    pub fn no_nai(mut self) -> Req {
        self.nai = false;
        self
    }
    pub fn mn_ext(mut self, e: Extension) -> Req {
        self.mn_ext.push(e);
        self
    }
    pub fn fa_ext(mut self, e: Extension) -> Req {
        self.fa_ext.push(e);
        self
    }
    pub fn mn_ha(mut self, spi: u32, key: Vec<u8>) -> Req {
        self.mn_ha = Some((spi, key));
        self
    }
    pub fn fa_ha(mut self, spi: u32, key: Vec<u8>) -> Req {
        self.fa_ha = Some((spi, key));
        self
    }
    pub fn no_fa_ha(mut self) -> Req {
        self.fa_ha = None;
        self
    }

    pub fn build(self) -> Message {
        let mut extensions = Vec::new();
        if self.nai {
            extensions.push(Extension::Nai(self.mn.as_bytes().to_vec()));
        }
        extensions.extend(self.mn_ext);
        let mut keys = Vec::new();
        if let Some((spi, key)) = &self.mn_ha {
            extensions.push(Extension::Auth { kind: AuthKind::MnHa, spi: *spi, authenticator: vec![] });
            keys.push((AuthKind::MnHa, *spi, key.clone()));
        }
        extensions.extend(self.fa_ext);
        if let Some((spi, key)) = &self.fa_ha {
            extensions.push(Extension::Auth { kind: AuthKind::FaHa, spi: *spi, authenticator: vec![] });
            keys.push((AuthKind::FaHa, *spi, key.clone()));
        }
        let mut msg = Message::Rrq(Rrq {
            flags: self.flags,
            lifetime: self.lifetime,
            home_address: self.hoa,
            home_agent: self.home_agent,
            care_of: self.coa,
            identification: self.identification,
            extensions,
        });
        let seal: Vec<SealKey<'_>> = keys
            .iter()
            .map(|(kind, spi, key)| SealKey { kind: *kind, spi: *spi, alg: AuthAlgorithm::HmacMd5, key })
            .collect();
        auth::seal(&mut msg, &seal);
        msg
    }
}

/// Every message sent: (src, dst, dst port, message).
pub fn sent(out: &[Output]) -> Vec<(Ipv4Addr, Ipv4Addr, u16, &Message)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { src, dst, dst_port, msg } => Some((*src, *dst, *dst_port, msg)),
            _ => None,
        })
        .collect()
}

pub fn rrps(out: &[Output]) -> Vec<&Rrp> {
    sent(out)
        .into_iter()
        .filter_map(|(_, _, _, m)| match m {
            Message::Rrp(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The one reply in `out`.
pub fn rrp(out: &[Output]) -> &Rrp {
    let all = rrps(out);
    assert_eq!(all.len(), 1, "expected one reply in {out:?}");
    all[0]
}

pub fn installs(out: &[Output]) -> Vec<&Binding> {
    out.iter()
        .filter_map(|o| match o {
            Output::Install(b) => Some(b),
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

/// Whether the reply's authentication extension of `kind` verifies under
/// `key` (re-parsed from its bytes, as the peer would).
pub fn verifies(msg: &Message, kind: AuthKind, spi: u32, key: &[u8]) -> bool {
    verifies_in(msg, kind, spi, key, Default::default())
}

/// [`verifies`] for a peer reading `dialect`'s private types.
pub fn verifies_in(msg: &Message, kind: AuthKind, spi: u32, key: &[u8], dialect: super::ext::Dialect) -> bool {
    let bytes = wire::emit(msg);
    let p = wire::parse_with_offsets_in(&bytes, dialect).unwrap();
    p.message.extensions().iter().zip(&p.offsets).any(|(e, &at)| match e {
        Extension::Auth { kind: k, spi: s, authenticator } if *k == kind && *s == spi => {
            auth::verify(AuthAlgorithm::HmacMd5, key, auth::covered(&bytes, at).unwrap(), authenticator)
        }
        _ => false,
    })
}

/// The reply message itself (for [`verifies`]).
pub fn reply_msg(out: &[Output]) -> &Message {
    let all: Vec<&Message> =
        sent(out).into_iter().map(|(_, _, _, m)| m).filter(|m| matches!(m, Message::Rrp(_))).collect();
    assert_eq!(all.len(), 1, "{out:?}");
    all[0]
}

/// The types of a message's extensions, in order.
pub fn ext_types(exts: &[Extension]) -> Vec<u8> {
    exts.iter().map(Extension::ext_type).collect()
}
