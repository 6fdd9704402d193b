//! The DSMIPv6 packet parser (`control::proto::dsmip6::parse_packet`, both
//! framings: IPv6 with a Home Address option or a type 2 routing header,
//! and IPv4 | UDP 4191 | IPv6) and the home agent `control::dsmip6::Ha6`
//! driven by a fuzzed sequence of packets. Nothing a peer sends may panic
//! either (STYLE.md); every Binding Acknowledgement the home agent sends
//! must parse back to the acknowledgement it says it sent; the IPv4 home
//! address index must agree with the registrations.
//!
//! Input: records `[ctl, len, len octets]` until the input runs out (a
//! short last record takes what is left). `ctl >> 3 = k` first moves both
//! clocks by `2^k / 2` ms (0 ms up to about 12 days) and polls the timers;
//! `ctl & 1` re-seals a Binding Update before the home agent sees it: a
//! fresh MESG-ID and the MN-HA authenticator of the test key, so that
//! mutated updates get past RFC 4285 and reach the registration rules.
//!
//! The configuration: home agent 2001:db8:100::1, the golden vectors'
//! mobile node (2001:db8:100::10, SPI 0x1000, key 0x30..0x43) and two more
//! with the same key, one with a static IPv4 home address, and a pool of
//! four dynamic IPv4 home addresses. The time of day starts at the golden
//! MESG-ID's (NTP 0xe8e8e8e8.80000000).

#![no_main]

use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use control::dsmip6::auth::{self, auth_care_of};
use control::dsmip6::{ntp_of, Ha6, Ha6Config, MobileNode, Output};
use control::proto::dsmip6::{ipv6_packet, ipv6_packet_with_home_address, parse_packet, udp4_packet, Framing};
use control::proto::{self, MhMessage, MobilityOption};
use libfuzzer_sys::fuzz_target;

const SPI: u32 = 0x1000;

fn key() -> Vec<u8> {
    (0x30..0x44).collect()
}

static CONFIG: LazyLock<Ha6Config> = LazyLock::new(|| {
    let mn = |mn_id: Option<&str>, hoa: &str, v4: Option<&str>| MobileNode {
        mn_id: mn_id.map(str::to_string),
        hoa: hoa.parse().expect("address"),
        spi: SPI,
        key: key(),
        ipv4_hoa: v4.map(|a| a.parse().expect("address")),
    };
    Ha6Config {
        address: "2001:db8:100::1".parse().expect("address"),
        mobile_nodes: vec![
            mn(Some("mn@anchor.test"), "2001:db8:100::10", None),
            mn(None, "2001:db8:100::11", None),
            mn(None, "2001:db8:100::12", Some("203.0.113.6")),
        ],
        ipv4_pools: vec![anchor_config::Ipv4Pool {
            subnet: "203.0.113.0/29".parse().expect("subnet"),
            default_router: "203.0.113.1".parse().expect("address"),
            exclude: vec![],
        }],
        ..Ha6Config::default()
    }
});

/// `packet` with a BU's MESG-ID options set to `mesg_id` and its AUTH
/// option (if any) sealed with the test key, re-framed as it came.
fn reseal(packet: &[u8], mesg_id: u64) -> Option<Vec<u8>> {
    let p = parse_packet(packet).ok()?;
    let MhMessage::BindingUpdate(mut bu) = p.msg else { return None };
    for o in &mut bu.options {
        if let MobilityOption::MesgId(v) = o {
            *v = mesg_id;
        }
    }
    let option_coa = |f: &dyn Fn(&MobilityOption) -> Option<IpAddr>| bu.options.iter().find_map(f);
    let (hoa, coa): (Ipv6Addr, IpAddr) = match p.framing {
        Framing::Ipv6 { src, home_address, .. } => {
            let alt = option_coa(&|o| match o {
                MobilityOption::AlternateCareOf(a) => Some(IpAddr::V6(*a)),
                _ => None,
            });
            (home_address.unwrap_or(src), alt.unwrap_or(IpAddr::V6(src)))
        }
        Framing::Udp4 { src, inner_src, .. } => {
            let coa = option_coa(&|o| match o {
                MobilityOption::Ipv4CareOf(a) => Some(IpAddr::V4(*a)),
                _ => None,
            });
            (inner_src, coa.unwrap_or(IpAddr::V4(src)))
        }
    };
    let checksum = p.framing.checksum();
    let mut mh = proto::try_emit(&MhMessage::BindingUpdate(bu), checksum).ok()?;
    auth::seal(&mut mh, &key(), auth_care_of(coa), hoa, checksum);
    match p.framing {
        Framing::Ipv6 { src, dst, home_address: Some(h), .. } => Some(ipv6_packet_with_home_address(src, dst, h, &mh)),
        Framing::Ipv6 { src, dst, home_address: None, routing_home } => Some(ipv6_packet(src, dst, routing_home, &mh)),
        Framing::Udp4 { .. } => udp4_packet(&p.framing, &mh),
    }
}

fn check(ha: &Ha6, out: &[Output]) {
    for o in out {
        match o {
            Output::Send { packet, ba, .. } => {
                let p = parse_packet(packet).expect("what the home agent sends parses");
                assert_eq!(p.msg, MhMessage::BindingAck(ba.clone()), "the typed copy is what was sent");
            }
            Output::Install(b) => {
                let t = b.tunnel;
                assert_eq!(t.local.is_ipv4(), t.remote.is_ipv4(), "one family per tunnel");
                if t.kind == dataplane::tunnel::TunnelKind::Udp {
                    assert!(t.remote.is_ipv4() && t.local_port != 0, "UDP only to an IPv4 care-of address");
                }
            }
            Output::Remove { .. } => {}
            // The addresses a node's own registration forwards are its
            // home addresses (extended home link, PROTOCOLS.md §11.4).
            Output::Owned { ipv4, ipv6, .. } => {
                if let Some(a) = ipv6 {
                    assert!(ha.registration(*a).is_some(), "owned IPv6 {a} without a registration");
                }
                if let Some(a) = ipv4 {
                    assert!(ha.registration_by_ipv4(*a).is_some(), "owned IPv4 {a} without a registration");
                }
            }
            Output::AtHome { .. } => {}
            // A home address on a home link waits for DAD: never one here
            // (no home links configured).
            Output::Dad { addr } => panic!("DAD for {addr} without a home link"),
            Output::BindingError { packet, status, .. } => {
                let p = parse_packet(packet).expect("a Binding Error the home agent sends parses");
                assert!(
                    matches!(&p.msg, MhMessage::BindingError(b) if b.status == *status),
                    "not the Binding Error asked for: {:?}",
                    p.msg
                );
            }
        }
    }
    for reg in ha.registrations() {
        if let Some(IpAddr::V4(a)) = reg.v4.as_ref().map(|b| b.hoa) {
            assert_eq!(ha.registration_by_ipv4(a).map(|r| r.mn), Some(reg.mn), "IPv4 index out of step");
            assert!(ha.pool().is_in_use(a) || ha.pool().lookup(a).is_none(), "a bound pool address is in use");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut ha = Ha6::new(CONFIG.clone());
    let t0 = Instant::now();
    let wall0 = SystemTime::UNIX_EPOCH + Duration::from_millis(1_698_589_288_500);
    let mut elapsed = Duration::ZERO;
    let mut fresh = 0u64;
    let mut rest = data;
    while let Some((&ctl, after)) = rest.split_first() {
        let (len, body) = match after.split_first() {
            Some((&len, body)) => (usize::from(len), body),
            None => (0, after),
        };
        let (packet, tail) = body.split_at(len.min(body.len()));
        rest = tail;
        let k = u32::from(ctl >> 3);
        if k > 0 {
            elapsed += Duration::from_micros((1u64 << k) * 500);
            let out = ha.poll(t0 + elapsed);
            check(&ha, &out);
        }
        let (now, wall) = (t0 + elapsed, wall0 + elapsed);
        // The parser alone: never a panic; what parses keeps its MH whole.
        if let Ok(p) = parse_packet(packet) {
            assert_eq!(p.mh.len() % 8, 0);
            assert_eq!(proto::parse(&p.mh, proto::Checksum::None).ok(), Some(p.msg.clone()));
        }
        let packet = if ctl & 1 != 0 {
            fresh += 1;
            reseal(packet, ntp_of(wall) + fresh).unwrap_or_else(|| packet.to_vec())
        } else {
            packet.to_vec()
        };
        let out = ha.handle(&packet, now, wall);
        check(&ha, &out);
    }
});
