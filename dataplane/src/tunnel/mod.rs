//! Tunnels: the per-peer table the forwarding entries point into, each with
//! a header template prebuilt by the control thread, and the encapsulation
//! and decapsulation nodes that use them (PROTOCOLS.md §12).

pub mod decap;
pub mod ecn;
pub mod encap;
#[cfg(test)]
mod golden;

use core::net::IpAddr;

use crate::wire::MacAddr;

/// How a tunnel wraps packets (table 12.1 of PROTOCOLS.md). The outer
/// family is that of the endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// IPv4/IPv6 in IPv4/IPv6 (protocol 4 or 41 by the inner family).
    IpIp,
    /// GRE (RFC 2784/2890), with a key when `key_out`/`key_in` are set.
    Gre,
    /// IPv4 | UDP | inner: PMIPv6 IPv4-UDP (5437) and DSMIPv6 (4191).
    Udp,
    /// IPv4 | UDP | TLV | GRE with key | inner (RFC 5845 T flag).
    UdpTlv,
    /// IPv4 | UDP (434 on our side) | MIP tunnel data header | inner (RFC 3519).
    MipUdp,
}

impl TunnelKind {
    /// Every kind, in the order of the per-kind counters.
    pub const ALL: [TunnelKind; 5] =
        [TunnelKind::IpIp, TunnelKind::Gre, TunnelKind::Udp, TunnelKind::UdpTlv, TunnelKind::MipUdp];

    /// Position in [`TunnelKind::ALL`] (the per-kind counter index).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in config and CLI.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::IpIp => "ipip",
            TunnelKind::Gre => "gre",
            TunnelKind::Udp => "udp",
            TunnelKind::UdpTlv => "udp-tlv",
            TunnelKind::MipUdp => "mip-udp",
        }
    }

    fn udp(self) -> bool {
        matches!(self, TunnelKind::Udp | TunnelKind::UdpTlv | TunnelKind::MipUdp)
    }
}

/// One tunnel to a peer, as the control thread describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelSpec {
    pub kind: TunnelKind,
    /// Our tunnel address (source of downlink packets).
    pub local: IpAddr,
    /// The peer's tunnel address (MAG, FA, PMA or the MN's care-of address).
    pub remote: IpAddr,
    /// GRE key expected on the uplink (allocated by us).
    pub key_in: Option<u32>,
    /// GRE key put on the downlink (chosen by the peer).
    pub key_out: Option<u32>,
    pub local_port: u16,
    pub peer_port: u16,
    /// Egress port index.
    pub port: usize,
    /// Fixed outer DSCP, or copy the inner one.
    pub dscp: Option<u8>,
    /// Outer TTL / hop limit.
    pub ttl: u8,
    /// RFC 6040 compatibility mode: outer ECN Not-ECT.
    pub ecn_compat: bool,
    /// Path MTU towards the peer (outer packets).
    pub path_mtu: u16,
    /// Static tunnel MTU for IPv6 payload over an IPv4 outer (RFC 4213).
    pub ipv6_over_ipv4_mtu: u16,
    /// The far end is an IPv4 home address with a tunnel of its own
    /// (RFC 5454 §9.2, DSMIPv4 without Tunneling Mode): a downlink packet,
    /// once in this (IP-in-IP) tunnel, goes into the tunnel the forwarding
    /// table has for `remote`; uplink packets of this tunnel arrive inside
    /// that one. No next hop of its own, no express path.
    pub nested: bool,
}

impl TunnelSpec {
    /// A tunnel of `kind` from `local` to `remote` with the usual defaults:
    /// no GRE keys, no UDP ports, egress port 0, DSCP copied, TTL 64,
    /// RFC 6040 normal mode, path MTU 1500, RFC 4213 static MTU 1280. Set
    /// the other fields on the result.
    pub fn new(kind: TunnelKind, local: IpAddr, remote: IpAddr) -> TunnelSpec {
        TunnelSpec {
            kind,
            local,
            remote,
            key_in: None,
            key_out: None,
            local_port: 0,
            peer_port: 0,
            port: 0,
            dscp: None,
            ttl: 64,
            ecn_compat: false,
            path_mtu: 1500,
            ipv6_over_ipv4_mtu: 1280,
            nested: false,
        }
    }
}

/// Longest header a template holds: Ethernet 14 + IPv6 40 + UDP 8 + TLV 4 +
/// GRE with key 8 = 74 (IPv4 outers are shorter); rounded up.
pub const TEMPLATE_MAX: usize = 80;

/// Bytes of the constant-size header copy of the fast path: a template
/// right-aligned in this window is copied whole so that it ends where the
/// inner packet starts (the bytes before the header land in the headroom).
pub const EXPRESS_WINDOW: usize = 64;

/// The downlink fast path's view of a tunnel with a resolved next hop, for
/// inner packets of one family: the template right-aligned in an
/// [`EXPRESS_WINDOW`]-byte window with the payload protocol fields (IP-in-IP
/// protocol 4 or 41, GRE protocol type 0x0800 or 0x86dd, MIP next header)
/// already set, the offsets of the fields patched per packet counted from
/// the window's start, and the outer TOS rule as two masks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Express {
    pub(crate) window: [u8; EXPRESS_WINDOW],
    /// Template length (Ethernet + outer headers).
    pub(crate) head: u8,
    /// The outer header is IPv6 (else IPv4).
    pub(crate) outer_v6: bool,
    /// Offsets in the window: outer IP header; UDP and TLV headers, 0 if none.
    pub(crate) ip: u8,
    pub(crate) udp: u8,
    pub(crate) tlv: u8,
    /// One's complement sum of the outer IPv4 words that never change
    /// (protocol included).
    pub(crate) base_sum: u32,
    /// Outer TOS = inner TOS & `tos_keep` | `tos_set` (DSCP copied or fixed,
    /// RFC 6040 ECN copied or Not-ECT).
    pub(crate) tos_keep: u8,
    pub(crate) tos_set: u8,
    /// Largest inner packet sent without fragmentation.
    pub(crate) mtu: u16,
}

/// A tunnel ready for the packet path: its spec, the next hop's MAC and the
/// prebuilt header (Ethernet + outer IP + UDP/TLV/GRE/MIP header) with the
/// offsets of the fields patched per packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    pub spec: TunnelSpec,
    /// None while the next hop is unresolved: packets are dropped and counted.
    pub next_hop_mac: Option<MacAddr>,
    pub(crate) tpl: [u8; TEMPLATE_MAX],
    pub(crate) tpl_len: u8,
    /// Offset of the outer IP header in the template (Ethernet length).
    pub(crate) ip_off: u8,
    /// Offset of the UDP header, 0 if none.
    pub(crate) udp_off: u8,
    /// Offset of the TLV header, 0 if none.
    pub(crate) tlv_off: u8,
    /// Offset of the GRE protocol type field, 0 if none.
    pub(crate) gre_proto_off: u8,
    /// Offset of the MIP tunnel data next-header field, 0 if none.
    pub(crate) mip_nh_off: u8,
    /// One's complement sum of the outer IPv4 header words that never change.
    pub(crate) ipv4_base_sum: u32,
    /// Largest inner IPv4 / IPv6 packet that fits without fragmentation.
    pub mtu_v4: u16,
    pub mtu_v6: u16,
    /// The fast path's headers for inner IPv4 and inner IPv6, when the next
    /// hop is known.
    pub(crate) express: [Option<Express>; 2],
}

impl Tunnel {
    /// Builds the template for `spec`, sent from `src_mac` to `next_hop_mac`.
    pub fn new(spec: TunnelSpec, src_mac: MacAddr, next_hop_mac: Option<MacAddr>) -> Tunnel {
        // A nested tunnel's Ethernet header is replaced by the outer
        // tunnel's: it needs no neighbour.
        let next_hop_mac = if spec.nested { Some(next_hop_mac.unwrap_or(MacAddr::ZERO)) } else { next_hop_mac };
        let mut tpl = [0u8; TEMPLATE_MAX];
        tpl[0..6].copy_from_slice(&next_hop_mac.unwrap_or(MacAddr::ZERO).0);
        tpl[6..12].copy_from_slice(&src_mac.0);
        let ip_off = 14usize;
        let (ip_len, outer_v4) = match (spec.local, spec.remote) {
            (IpAddr::V4(_), IpAddr::V4(_)) => (20usize, true),
            _ => (40usize, false),
        };
        let ethertype: u16 = if outer_v4 { 0x0800 } else { 0x86dd };
        tpl[12..14].copy_from_slice(&ethertype.to_be_bytes());
        let protocol: u8 = match spec.kind {
            TunnelKind::IpIp => 4, // patched to 41 for IPv6 payload
            TunnelKind::Gre => 47,
            _ => 17,
        };
        let ip = ip_off;
        match (spec.local, spec.remote) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                tpl[ip] = 0x45;
                tpl[ip + 8] = spec.ttl;
                tpl[ip + 9] = protocol;
                tpl[ip + 12..ip + 16].copy_from_slice(&l.octets());
                tpl[ip + 16..ip + 20].copy_from_slice(&r.octets());
            }
            (l, r) => {
                tpl[ip] = 0x60;
                tpl[ip + 6] = protocol;
                tpl[ip + 7] = spec.ttl;
                tpl[ip + 8..ip + 24].copy_from_slice(&v6(l).octets());
                tpl[ip + 24..ip + 40].copy_from_slice(&v6(r).octets());
            }
        }
        let mut off = ip + ip_len;
        let (mut udp_off, mut tlv_off, mut gre_proto_off, mut mip_nh_off) = (0, 0, 0, 0);
        if spec.kind.udp() {
            udp_off = off;
            let sport = if spec.kind == TunnelKind::MipUdp { 434 } else { spec.local_port };
            tpl[off..off + 2].copy_from_slice(&sport.to_be_bytes());
            tpl[off + 2..off + 4].copy_from_slice(&spec.peer_port.to_be_bytes());
            off += 8;
        }
        match spec.kind {
            TunnelKind::UdpTlv => {
                tlv_off = off;
                tpl[off + 1] = 47;
                off += 4;
                gre_proto_off = off + 2;
                off = emit_gre(&mut tpl, off, spec.key_out);
            }
            TunnelKind::Gre => {
                gre_proto_off = off + 2;
                off = emit_gre(&mut tpl, off, spec.key_out);
            }
            TunnelKind::MipUdp => {
                tpl[off] = 4; // MIP tunnel data message type
                mip_nh_off = off + 1;
                off += 4;
            }
            TunnelKind::IpIp | TunnelKind::Udp => {}
        }
        let overhead = (off - ip_off) as u16;
        let mtu = spec.path_mtu.saturating_sub(overhead);
        let mtu_v6 = if outer_v4 { mtu.min(spec.ipv6_over_ipv4_mtu) } else { mtu };
        let mut t = Tunnel {
            spec,
            next_hop_mac,
            tpl,
            tpl_len: off as u8,
            ip_off: ip_off as u8,
            udp_off: udp_off as u8,
            tlv_off: tlv_off as u8,
            gre_proto_off: gre_proto_off as u8,
            mip_nh_off: mip_nh_off as u8,
            ipv4_base_sum: 0,
            mtu_v4: mtu,
            mtu_v6,
            express: [None, None],
        };
        if outer_v4 {
            // Words that change per packet (TOS, length, ID, flags, protocol
            // for IP-in-IP, checksum) are left out and added at encapsulation.
            let h = &t.tpl[ip..ip + 20];
            let word = |i: usize| u32::from(u16::from_be_bytes([h[i], h[i + 1]]));
            t.ipv4_base_sum = (word(0) & 0xff00) + (word(8) & 0xff00) + word(12) + word(14) + word(16) + word(18);
        }
        t.express = [t.build_express(false), t.build_express(true)];
        t
    }

    /// The [`Express`] header of this tunnel for inner IPv4 or IPv6, if it
    /// has one.
    fn build_express(&self, inner_v6: bool) -> Option<Express> {
        let head = usize::from(self.tpl_len);
        if self.next_hop_mac.is_none() || self.spec.nested || head > EXPRESS_WINDOW {
            return None;
        }
        let outer_v6 = !self.outer_is_v4();
        let at = EXPRESS_WINDOW - head;
        let mut window = [0u8; EXPRESS_WINDOW];
        window[at..].copy_from_slice(self.template());
        let ip = at + usize::from(self.ip_off);
        let ipip: u8 = if inner_v6 { 41 } else { 4 };
        if self.udp_off == 0 && self.gre_proto_off == 0 {
            window[ip + if outer_v6 { 6 } else { 9 }] = ipip;
        }
        if self.gre_proto_off != 0 {
            let o = at + usize::from(self.gre_proto_off);
            let proto: u16 = if inner_v6 { 0x86dd } else { 0x0800 };
            window[o..o + 2].copy_from_slice(&proto.to_be_bytes());
        }
        if self.mip_nh_off != 0 {
            window[at + usize::from(self.mip_nh_off)] = ipip;
        }
        let at_of = |off: u8| if off == 0 { 0 } else { (at + usize::from(off)) as u8 };
        let (tos_keep, tos_set) = match self.spec.dscp {
            Some(d) => (0, d << 2),
            None => (0xfc, 0),
        };
        let tos_keep = if self.spec.ecn_compat { tos_keep } else { tos_keep | 0b11 };
        Some(Express {
            base_sum: if outer_v6 { 0 } else { self.ipv4_base_sum + u32::from(window[ip + 9]) },
            window,
            head: self.tpl_len,
            outer_v6,
            ip: ip as u8,
            udp: at_of(self.udp_off),
            tlv: at_of(self.tlv_off),
            tos_keep,
            tos_set,
            mtu: if inner_v6 { self.mtu_v6 } else { self.mtu_v4 },
        })
    }

    /// The template with the next hop's MAC replaced (neighbour changed).
    pub fn with_next_hop(&self, mac: Option<MacAddr>) -> Tunnel {
        let mut t = self.clone();
        t.next_hop_mac = if t.spec.nested { Some(mac.unwrap_or(MacAddr::ZERO)) } else { mac };
        t.tpl[0..6].copy_from_slice(&mac.unwrap_or(MacAddr::ZERO).0);
        t.express = [t.build_express(false), t.build_express(true)];
        t
    }

    /// The prebuilt header bytes.
    pub fn template(&self) -> &[u8] {
        &self.tpl[..usize::from(self.tpl_len)]
    }

    /// The express path's header for inner IPv4 or IPv6 packets, if the
    /// tunnel has one (see [`encap::express`]).
    pub fn express_header(&self, inner_v6: bool) -> Option<&Express> {
        self.express[usize::from(inner_v6)].as_ref()
    }

    /// Where the outer IP header starts in an encapsulated frame (the
    /// template's Ethernet header length).
    pub fn ip_offset(&self) -> usize {
        usize::from(self.ip_off)
    }

    pub fn outer_is_v4(&self) -> bool {
        self.tpl[12] == 0x08
    }
}

fn v6(a: IpAddr) -> core::net::Ipv6Addr {
    match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

/// GRE header with C = 0, S = 0 and K when `key` is set; protocol patched per packet.
fn emit_gre(tpl: &mut [u8; TEMPLATE_MAX], off: usize, key: Option<u32>) -> usize {
    match key {
        Some(k) => {
            tpl[off] = 0x20;
            tpl[off + 4..off + 8].copy_from_slice(&k.to_be_bytes());
            off + 8
        }
        None => off + 4,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn spec(kind: TunnelKind, local: &str, remote: &str) -> TunnelSpec {
        let mut s = TunnelSpec::new(kind, local.parse().unwrap(), remote.parse().unwrap());
        (s.local_port, s.peer_port) = (5437, 5437);
        s
    }

    #[test]
    fn template_lengths_match_table_12_1_overheads() {
        let cases = [
            (TunnelKind::IpIp, "192.0.2.1", None, 14 + 20),
            (TunnelKind::IpIp, "2001:db8:1::1", None, 14 + 40),
            (TunnelKind::Gre, "192.0.2.1", Some(7), 14 + 20 + 8),
            (TunnelKind::Gre, "2001:db8:1::1", None, 14 + 40 + 4),
            (TunnelKind::Udp, "192.0.2.1", None, 14 + 20 + 8),
            (TunnelKind::UdpTlv, "192.0.2.1", Some(7), 14 + 20 + 8 + 4 + 8),
            (TunnelKind::MipUdp, "192.0.2.1", None, 14 + 20 + 8 + 4),
        ];
        for (kind, local, key, len) in cases {
            let remote = if local.contains(':') { "2001:db8:1::2" } else { "192.0.2.2" };
            let mut s = spec(kind, local, remote);
            s.key_out = key;
            let t = Tunnel::new(s, MacAddr([2, 0, 0, 0, 0, 1]), None);
            assert_eq!(t.template().len(), len, "{kind:?} over {local}");
            assert_eq!(usize::from(t.mtu_v4), 1500 - (len - 14), "{kind:?}");
        }
    }

    #[test]
    fn ipv6_payload_over_an_ipv4_outer_uses_the_static_rfc_4213_mtu() {
        let t = Tunnel::new(spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2"), MacAddr::ZERO, None);
        assert_eq!((t.mtu_v4, t.mtu_v6), (1480, 1280));
    }

    #[test]
    fn a_new_next_hop_mac_rewrites_only_the_destination_mac() {
        let t = Tunnel::new(spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2"), MacAddr([2, 0, 0, 0, 0, 1]), None);
        let u = t.with_next_hop(Some(MacAddr([2, 0, 0, 0, 0, 9])));
        assert_eq!(&u.template()[0..6], &[2, 0, 0, 0, 0, 9]);
        assert_eq!(&u.template()[6..], &t.template()[6..]);
    }
}
