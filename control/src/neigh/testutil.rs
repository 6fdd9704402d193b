//! Test fixtures: the demo network's core and home ports and request
//! builders made with the wire emitters.

use core::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dataplane::addrs::{Ipv4Cidr, Ipv6Cidr, PortAddrs};
use dataplane::wire::arp::{self, ArpRepr};
use dataplane::wire::icmpv6::{self, NdRepr};
use dataplane::wire::ipv4::{protocol, Ipv4Repr};
use dataplane::wire::ipv6::{self, Ipv6Repr};
use dataplane::wire::{icmpv4, MacAddr};

use super::emit::{self, L2};
use super::{NeighborConfig, Neighbors, Punted};

pub const CORE_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
pub const HOME_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x01, 0x01]);
pub const MAG_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
pub const OTHER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x03]);

pub const CORE_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const MAG_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const MAG2_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
pub const HOME_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const CORE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
pub const MAG_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
pub const MAG2_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 3);
pub const HOME_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1);
pub const UNSPEC_V6: Ipv6Addr = Ipv6Addr::UNSPECIFIED;

pub const CFG: NeighborConfig =
    NeighborConfig { retry_interval: Duration::from_secs(1), max_retries: 3, reachable: Duration::from_secs(30) };

/// Port 0: the core port; port 1: the home port (DESIGN.md demo network).
pub fn ports() -> Vec<PortAddrs> {
    vec![
        PortAddrs::new(
            CORE_MAC,
            vec![Ipv4Cidr { addr: CORE_V4, prefix_len: 24 }],
            vec![Ipv6Cidr { addr: CORE_V6, prefix_len: 64 }],
        ),
        PortAddrs::new(
            HOME_MAC,
            vec![Ipv4Cidr { addr: HOME_V4, prefix_len: 24 }],
            vec![Ipv6Cidr { addr: HOME_V6, prefix_len: 64 }],
        ),
    ]
}

pub fn neighbors() -> Neighbors {
    Neighbors::new(ports(), CFG)
}

/// As [`neighbors`], the home port (1) a home link.
pub fn home_link_neighbors() -> Neighbors {
    let mut p = ports();
    p[1] = p[1].clone().with_home_link(true);
    Neighbors::new(p, CFG)
}

/// A mobile node's home address on the home link, its MAC, and a
/// correspondent there.
pub const HOA_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 130);
pub const HOA_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x130);
pub const MN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x30]);
pub const CN_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
pub const CN_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2);
pub const CN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x01, 0x02]);

pub fn core_link_local() -> Ipv6Addr {
    ports()[0].link_local
}

pub fn solicited(addr: Ipv6Addr) -> Ipv6Addr {
    ipv6::solicited_node(addr)
}

fn to(dst: MacAddr, src: MacAddr) -> L2 {
    L2 { dst, src, vlan_tci: None }
}

/// Where a frame to `dst` goes on Ethernet: its group MAC or our port MAC.
fn l2_for_v6(eth_src: MacAddr, dst: Ipv6Addr) -> L2 {
    if dst.is_multicast() {
        to(MacAddr::ipv6_multicast(&dst), eth_src)
    } else {
        to(CORE_MAC, eth_src)
    }
}

/// Broadcast who-has `target` tell `sender`.
pub fn arp_request(sender_hw: MacAddr, sender_ip: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    emit::arp(
        to(MacAddr::BROADCAST, sender_hw),
        &ArpRepr { op: arp::OP_REQUEST, sender_hw, sender_ip, target_hw: MacAddr::ZERO, target_ip: target },
    )
}

/// Unicast `sender` is-at `sender_hw`, to `target_hw`/`target_ip`.
pub fn arp_reply(sender_hw: MacAddr, sender_ip: Ipv4Addr, target_hw: MacAddr, target_ip: Ipv4Addr) -> Vec<u8> {
    emit::arp(to(target_hw, sender_hw), &ArpRepr { op: arp::OP_REPLY, sender_hw, sender_ip, target_hw, target_ip })
}

pub fn ns(eth_src: MacAddr, src: Ipv6Addr, dst: Ipv6Addr, target: Ipv6Addr, source_lladdr: Option<MacAddr>) -> Vec<u8> {
    let repr = NdRepr::NeighborSolicit { target, source_lladdr };
    emit::nd(l2_for_v6(eth_src, dst), src, dst, &repr)
}

pub fn na(
    eth_src: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    target: Ipv6Addr,
    solicited: bool,
    override_: bool,
    target_lladdr: Option<MacAddr>,
) -> Vec<u8> {
    let repr = NdRepr::NeighborAdvert { router: false, solicited, override_, target, target_lladdr };
    emit::nd(l2_for_v6(eth_src, dst), src, dst, &repr)
}

/// Echo request ident 0x4242 seq 7 to our core MAC.
pub fn echo4(eth_src: MacAddr, src: Ipv4Addr, dst: Ipv4Addr, data: &[u8]) -> Vec<u8> {
    let ip =
        Ipv4Repr { src, dst, protocol: protocol::ICMP, ttl: 64, tos: 0, payload_len: icmpv4::HEADER_LEN + data.len() };
    emit::icmpv4(to(CORE_MAC, eth_src), &ip, |body| {
        let mut p = icmpv4::Packet::new_unchecked(body);
        p.set_msg_type(icmpv4::TYPE_ECHO_REQUEST);
        p.set_echo_ident(0x4242);
        p.set_echo_seq(7);
        p.payload_mut().copy_from_slice(data);
    })
}

/// ICMPv6 echo request ident 0x4242 seq 7.
pub fn echo6(eth_src: MacAddr, src: Ipv6Addr, dst: Ipv6Addr, data: &[u8]) -> Vec<u8> {
    let ip = Ipv6Repr {
        src,
        dst,
        next_header: protocol::ICMPV6,
        hop_limit: 64,
        payload_len: icmpv6::HEADER_LEN + data.len(),
    };
    emit::icmpv6(l2_for_v6(eth_src, dst), &ip, |body| {
        let mut p = icmpv6::Packet::new_unchecked(body);
        p.set_msg_type(icmpv6::TYPE_ECHO_REQUEST);
        p.set_echo_ident(0x4242);
        p.set_echo_seq(7);
        p.payload_mut().copy_from_slice(data);
    })
}

/// The same frame with an 802.1Q tag carrying `tci` inserted.
pub fn tagged(frame: &[u8], tci: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&0x8100u16.to_be_bytes());
    f.extend_from_slice(&tci.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

/// The reply frame, or a panic naming what came instead.
pub fn reply(p: Punted) -> Vec<u8> {
    match p {
        Punted::Reply(f) => f,
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// Recomputes the ICMPv6 checksum of an untagged IPv6 frame after a test
/// changed its bytes.
pub fn refill_icmpv6(frame: &mut [u8]) {
    let ip = ipv6::Packet::new_checked(&mut frame[14..]).unwrap();
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let mut ip = ip;
    icmpv6::Packet::new_unchecked(ip.payload_mut()).fill_checksum(src, dst);
}

/// Sets the hop limit of an untagged IPv6 frame (not covered by any checksum).
pub fn set_hop_limit(frame: &mut [u8], hop_limit: u8) {
    ipv6::Packet::new_checked(&mut frame[14..]).unwrap().set_hop_limit(hop_limit);
}
