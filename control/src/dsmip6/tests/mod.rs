//! Rule tests of the DSMIPv6 home agent: one test per rule of
//! PROTOCOLS.md §11.1–§11.3 (and the RFC 6275 home registration rules it
//! builds on), named as the rule. `docs/conformance/dsmip6.md` maps each
//! rule to its test.
//!
//! The harness drives an [`Ha6`] with a hand-made clock. Binding Updates
//! are built as typed messages, emitted, sealed with the test keys by
//! [`auth::seal`] (checked against Python's HMAC in `auth.rs`) and framed
//! as whole packets, so every test also goes through the packet parser,
//! the MH checksum and the authenticator check. Replies are parsed back
//! from the packets the home agent sends.

mod authentication;
mod binding_error;
mod churn;
mod dad;
mod deprecation;
mod home;
mod ipv4;
mod registration;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use anchor_config::Ipv4Pool;
use dataplane::tunnel::TunnelKind;

use super::auth::{self, auth_care_of, auth_option};
use super::{Binding, Ha6, Ha6Config, MobileNode, Output, DSMIP6_PORT};
use crate::proto::dsmip6::{ipv6_packet_with_home_address, parse_packet, udp4_packet, Framing};
use crate::proto::options::auth_subtype;
use crate::proto::{bu_flags, emit, BindingAck, BindingUpdate, Checksum, MhMessage, MobilityOption};

pub const HA: &str = "2001:db8:100::1";
pub const HA4: &str = "192.0.2.1";
/// The mobile node with an NAI, and its home address.
pub const MN: &str = "mn@anchor.test";
pub const MN_HOA: &str = "2001:db8:100::10";
/// A mobile node known by home address only.
pub const ANON_HOA: &str = "2001:db8:100::11";
/// A mobile node with a static IPv4 home address.
pub const STATIC_HOA: &str = "2001:db8:100::12";
pub const STATIC_V4: &str = "203.0.113.200";
/// A home address no association names.
pub const STRANGER_HOA: &str = "2001:db8:100::99";
pub const COA: &str = "2001:db8:200::20";
pub const COA2: &str = "2001:db8:300::30";
pub const COA4: &str = "198.51.100.7";
pub const NAT: &str = "198.51.100.99";
pub const NAT_PORT: u16 = 40000;
pub const SPI: u32 = 0x1000;

pub fn v4(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

pub fn v6(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn key_of(hoa: &str) -> Vec<u8> {
    let seed = hoa.bytes().fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    (0..20).map(|i| seed.wrapping_add(i)).collect()
}

/// The test configuration: home agent 2001:db8:100::1, three mobile nodes,
/// pool 203.0.113.0/24 (router .1, the static address excluded).
pub fn config() -> Ha6Config {
    let mn = |mn_id: Option<&str>, hoa: &str, ipv4_hoa: Option<&str>| MobileNode {
        mn_id: mn_id.map(str::to_string),
        hoa: v6(hoa),
        spi: SPI,
        key: key_of(hoa),
        ipv4_hoa: ipv4_hoa.map(v4),
    };
    Ha6Config {
        address: v6(HA),
        mobile_nodes: vec![mn(Some(MN), MN_HOA, None), mn(None, ANON_HOA, None), mn(None, STATIC_HOA, Some(STATIC_V4))],
        ipv4_pools: vec![Ipv4Pool {
            subnet: "203.0.113.0/24".parse().unwrap(),
            default_router: v4("203.0.113.1"),
            exclude: vec![v4(STATIC_V4)],
        }],
        max_lifetime: secs(3600),
        ..Ha6Config::default()
    }
}

/// The wall clock of the tests: NTP 0xe8e8e8e8.80000000 (2023-10-29
/// 14:21:28.5 UTC), the golden vectors' MESG-ID.
pub fn wall0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_698_589_288_500)
}

/// A home agent and its clock.
pub struct Harness {
    pub ha: Ha6,
    pub t0: Instant,
    /// Seconds since `t0`.
    pub now: Duration,
    /// MESG-IDs go up by one fraction unit per Binding Update.
    pub mesg_seq: u64,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(config())
    }

    pub fn with(cfg: Ha6Config) -> Harness {
        Harness { ha: Ha6::new(cfg), t0: Instant::now(), now: Duration::ZERO, mesg_seq: 0 }
    }

    pub fn instant(&self) -> Instant {
        self.t0 + self.now
    }

    pub fn wall(&self) -> SystemTime {
        wall0() + self.now
    }

    pub fn advance(&mut self, d: Duration) -> Vec<Output> {
        self.now += d;
        self.ha.poll(self.instant())
    }

    /// A fresh MESG-ID: our clock plus a counter in the fraction.
    pub fn mesg_id(&mut self) -> u64 {
        self.mesg_seq += 1;
        super::ntp_of(self.wall()) + self.mesg_seq
    }

    /// Sends `bu` (with a fresh MESG-ID unless it sets one or says none).
    pub fn send(&mut self, mut bu: Bu) -> Vec<Output> {
        if bu.mesg_id == MesgId::Fresh {
            bu.mesg_id = MesgId::Value(self.mesg_id());
        }
        let packet = bu.packet();
        self.ha.handle(&packet, self.instant(), self.wall())
    }
}

/// How a test Binding Update travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// IPv6 from `coa` with the Home Address option.
    Ipv6 { coa: Ipv6Addr },
    /// IPv4 | UDP 4191 from `src:port`, IPv4 CoA option `coa` (None: left out).
    Udp4 { coa: Option<Ipv4Addr>, src: Ipv4Addr, port: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MesgId {
    Fresh,
    Value(u64),
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// MN-HA with the mobile node's key and SPI.
    Good,
    /// MN-HA with another key.
    WrongKey,
    WrongSpi,
    MnAaa,
    None,
}

/// A test Binding Update.
#[derive(Debug, Clone)]
pub struct Bu {
    pub hoa: Ipv6Addr,
    pub seq: u16,
    pub flags: u16,
    /// 4-second units.
    pub lifetime: u16,
    pub via: Via,
    pub options: Vec<MobilityOption>,
    pub mesg_id: MesgId,
    pub auth: Auth,
    /// Key for `hoa` (by default the one `key_of` gives).
    pub key: Vec<u8>,
    /// Home agent address the packet goes to.
    pub ha: Ipv6Addr,
    /// Mobility SPI of the association (by default [`SPI`]).
    pub spi: u32,
}

impl Bu {
    /// A+H, lifetime 100 units (400 s), from COA over IPv6.
    pub fn new(hoa: &str, seq: u16) -> Bu {
        Bu {
            hoa: v6(hoa),
            seq,
            flags: bu_flags::A | bu_flags::H,
            lifetime: 100,
            via: Via::Ipv6 { coa: v6(COA) },
            options: Vec::new(),
            mesg_id: MesgId::Fresh,
            auth: Auth::Good,
            key: key_of(hoa),
            ha: v6(HA),
            spi: SPI,
        }
    }

    /// The same over IPv4 | UDP 4191 from the care-of address itself.
    pub fn udp(hoa: &str, seq: u16) -> Bu {
        Bu { via: Via::Udp4 { coa: Some(v4(COA4)), src: v4(COA4), port: DSMIP6_PORT }, ..Bu::new(hoa, seq) }
    }

    pub fn via(mut self, via: Via) -> Bu {
        self.via = via;
        self
    }

    pub fn lifetime(mut self, units: u16) -> Bu {
        self.lifetime = units;
        self
    }

    pub fn flags(mut self, flags: u16) -> Bu {
        self.flags = flags;
        self
    }

    pub fn option(mut self, o: MobilityOption) -> Bu {
        self.options.push(o);
        self
    }

    pub fn ipv4_hoa(self, addr: &str) -> Bu {
        self.option(MobilityOption::Ipv4HomeAddress { prefix_len: 32, p: false, addr: v4(addr) })
    }

    pub fn mesg_id(mut self, m: MesgId) -> Bu {
        self.mesg_id = m;
        self
    }

    pub fn auth(mut self, a: Auth) -> Bu {
        self.auth = a;
        self
    }

    /// The care-of address as the authenticator input.
    pub fn auth_coa(&self) -> [u8; 16] {
        match self.via {
            Via::Ipv6 { coa } => {
                let alt = self.options.iter().find_map(|o| match o {
                    MobilityOption::AlternateCareOf(a) => Some(*a),
                    _ => None,
                });
                auth_care_of(IpAddr::V6(alt.unwrap_or(coa)))
            }
            Via::Udp4 { coa, src, .. } => auth_care_of(IpAddr::V4(coa.unwrap_or(src))),
        }
    }

    /// The Mobility Header, sealed.
    pub fn mh(&self) -> Vec<u8> {
        let mut options = self.options.clone();
        if let Via::Udp4 { coa: Some(c), .. } = self.via {
            options.push(MobilityOption::Ipv4CareOf(c));
        }
        if let MesgId::Value(v) = self.mesg_id {
            options.push(MobilityOption::MesgId(v));
        }
        let (subtype, spi) = match self.auth {
            Auth::MnAaa => (auth_subtype::MN_AAA, self.spi),
            Auth::WrongSpi => (auth_subtype::MN_HA, self.spi + 1),
            _ => (auth_subtype::MN_HA, self.spi),
        };
        if self.auth != Auth::None {
            options.push(MobilityOption::Auth { subtype, spi, data: vec![0; 12] });
        }
        let msg = MhMessage::BindingUpdate(BindingUpdate {
            seq: self.seq,
            flags: self.flags,
            lifetime: self.lifetime,
            options,
        });
        let checksum = Checksum::Ipv6 { src: self.hoa, dst: self.ha };
        let mut mh = emit(&msg, checksum);
        let key = if self.auth == Auth::WrongKey { b"not the key".to_vec() } else { self.key.clone() };
        if self.auth != Auth::None {
            assert!(auth::seal(&mut mh, &key, self.auth_coa(), self.hoa, checksum));
        }
        mh
    }

    /// The whole packet.
    pub fn packet(&self) -> Vec<u8> {
        let mh = self.mh();
        match self.via {
            Via::Ipv6 { coa } => ipv6_packet_with_home_address(coa, self.ha, self.hoa, &mh),
            Via::Udp4 { src, port, .. } => {
                let f = Framing::Udp4 {
                    src,
                    dst: v4(HA4),
                    src_port: port,
                    dst_port: DSMIP6_PORT,
                    inner_src: self.hoa,
                    inner_dst: self.ha,
                };
                udp4_packet(&f, &mh).unwrap()
            }
        }
    }
}

/// The Binding Acknowledgements of `out`, parsed back from their packets,
/// with where they went and how.
pub fn bas(out: &[Output]) -> Vec<(IpAddr, Framing, BindingAck, Vec<u8>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { dst, packet, ba } => {
                let p = parse_packet(packet).expect("the BA parses");
                let MhMessage::BindingAck(got) = &p.msg else { panic!("not a BA: {:?}", p.msg) };
                assert_eq!(got, ba, "the typed copy is what was sent");
                Some((*dst, p.framing, got.clone(), p.mh))
            }
            _ => None,
        })
        .collect()
}

/// The one Binding Acknowledgement of `out`.
pub fn ba(out: &[Output]) -> BindingAck {
    let all = bas(out);
    assert_eq!(all.len(), 1, "one BA in {out:?}");
    all[0].2.clone()
}

pub fn installs(out: &[Output]) -> Vec<Binding> {
    out.iter()
        .filter_map(|o| match o {
            Output::Install(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

/// The addresses each `Owned` output says the node's own registration holds.
pub fn owned(out: &[Output]) -> Vec<(Option<Ipv4Addr>, Option<Ipv6Addr>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Owned { ipv4, ipv6, .. } => Some((*ipv4, *ipv6)),
            _ => None,
        })
        .collect()
}

/// IPv4 | UDP 4191 from the NAT in front of the node to the home agent,
/// carrying the node's home address to the home agent's IPv6 address.
pub fn from_nat() -> Framing {
    Framing::Udp4 {
        src: v4(NAT),
        dst: v4(HA4),
        src_port: NAT_PORT,
        dst_port: DSMIP6_PORT,
        inner_src: v6(MN_HOA),
        inner_dst: v6(HA),
    }
}

pub fn removes(out: &[Output]) -> Vec<u32> {
    out.iter()
        .filter_map(|o| match o {
            Output::Remove { id } => Some(*id),
            _ => None,
        })
        .collect()
}

pub fn option<T>(ba: &BindingAck, f: impl Fn(&MobilityOption) -> Option<T>) -> Option<T> {
    ba.options.iter().find_map(f)
}

pub fn ipv4_ack(ba: &BindingAck) -> Option<(u8, u8, Ipv4Addr)> {
    option(ba, |o| match o {
        MobilityOption::Ipv4AddressAck { status, prefix_len, addr } => Some((*status, *prefix_len, *addr)),
        _ => None,
    })
}

pub fn nat_detection(ba: &BindingAck) -> Option<(bool, u32)> {
    option(ba, |o| match o {
        MobilityOption::NatDetection { f, refresh } => Some((*f, *refresh)),
        _ => None,
    })
}

pub fn mesg_id_of(ba: &BindingAck) -> Option<u64> {
    option(ba, |o| match o {
        MobilityOption::MesgId(v) => Some(*v),
        _ => None,
    })
}

/// Tunnel kind and remote of a binding.
pub fn tunnel_of(b: &Binding) -> (TunnelKind, IpAddr) {
    (b.tunnel.kind, b.tunnel.remote)
}

/// Whether the home agent's BA `mh` carries a valid MN-HA authenticator
/// for `hoa` with `key` and care-of address `coa` (what the mobile node checks).
pub fn ba_authentic(mh: &[u8], key: &[u8], coa: [u8; 16], hoa: Ipv6Addr) -> bool {
    auth_option(mh).is_some_and(|a| a.spi == SPI && auth::verify(key, coa, hoa, mh, &a))
}
