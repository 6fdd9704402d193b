//! §8.7 step 8, §8.11–§8.13: encapsulations, GRE keys, reverse
//! tunnelling and RFC 3519 UDP tunnelling.

use dataplane::tunnel::TunnelKind;

use super::*;
use crate::mip4::code;
use crate::mip4::ext::{udp_reply, udp_request_flags};
use crate::mip4::wire::rrq_flags;

fn udp_request(flags: u8, encapsulation: u8) -> Extension {
    Extension::UdpTunnelRequest { reserved1: 0, flags, encapsulation, reserved3: 0 }
}

fn udp_reply_of(exts: &[Extension]) -> Option<(u8, u16, u16)> {
    exts.iter().find_map(|e| match e {
        Extension::UdpTunnelReply { reply_code, flags, keepalive } => Some((*reply_code, *flags, *keepalive)),
        _ => None,
    })
}

#[test]
fn the_default_tunnel_is_ip_in_ip_to_the_care_of_address() {
    let mut h = H::new();
    let b = h.register(MN);
    assert_eq!(b.tunnel.kind, TunnelKind::IpIp);
    assert_eq!((b.tunnel.key_in, b.tunnel.key_out, b.tunnel.peer_port), (None, None, 0));
    let spec = b.tunnel.spec(0, 64, false, 1500, 1280);
    assert_eq!((spec.kind, spec.local, spec.remote), (TunnelKind::IpIp, v4(HA_ADDR).into(), v4(COA).into()));
    assert_eq!((spec.local_port, spec.peer_port), (0, 0));
}

#[test]
fn minimal_encapsulation_is_refused_with_139() {
    let mut h = H::new();
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).flags(rrq_flags::M))).code, code::HA_ENCAPSULATION_UNAVAILABLE);
}

#[test]
fn the_g_flag_gives_a_gre_tunnel_without_keys() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).flags(rrq_flags::G));
    let b = installs(&out)[0];
    assert_eq!((b.tunnel.kind, b.tunnel.key_in, b.tunnel.key_out), (TunnelKind::Gre, None, None));
}

#[test]
fn gre_when_it_is_disabled_is_refused_with_139() {
    let mut h = H::with(|c| c.gre = false);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).flags(rrq_flags::G))).code, code::HA_ENCAPSULATION_UNAVAILABLE);
    let id = h.id();
    let r = Req::mn(MN).via(FA1).id(id).fa_ext(Extension::GreKey(5));
    assert_eq!(rrp(&h.send(r)).code, code::HA_ENCAPSULATION_UNAVAILABLE);
}

#[test]
fn an_fa_gre_key_extension_asks_for_keyed_gre_and_the_reply_carries_our_key_before_fa_ha() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(Extension::GreKey(0x1111)));
    let b = installs(&out)[0];
    assert_eq!(b.tunnel.kind, TunnelKind::Gre);
    assert_eq!(b.tunnel.key_out, Some(0x1111));
    let ours = b.tunnel.key_in.unwrap();
    assert_ne!(ours, 0);
    let r = rrp(&out);
    // §8.5 order: NAI, MN-HA, GRE Key (for the FA), FA-HA.
    assert_eq!(ext_types(&r.extensions), [131, 32, 48, 34]);
    assert!(r.extensions.contains(&Extension::GreKey(ours)));
    // A renewal keeps the key; another node gets another one.
    let id = h.id();
    let again = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(Extension::GreKey(0x1111)));
    assert!(rrp(&again).extensions.contains(&Extension::GreKey(ours)));
    let id = h.id();
    let other = h.send(Req::mn(DUAL).via(FA1).id(id).fa_ext(Extension::GreKey(0x2222)));
    assert_ne!(installs(&other)[0].tunnel.key_in, Some(ours));
}

#[test]
fn a_zero_fa_gre_key_lets_the_home_agent_assign_one_key_for_both_directions() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(Extension::GreKey(0)));
    let b = installs(&out)[0];
    assert!(b.tunnel.key_in.is_some());
    assert_eq!(b.tunnel.key_in, b.tunnel.key_out);
}

#[test]
fn gre_keys_are_given_back_with_the_binding() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(Extension::GreKey(9)));
    let key = installs(&out)[0].tunnel.key_in.unwrap();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).lifetime(0).fa_ext(Extension::GreKey(9)));
    assert_eq!(rrp(&out).code, 0);
    // Every reply to a request with a GRE Key carries one.
    assert!(rrp(&out).extensions.contains(&Extension::GreKey(key)));
    assert!(!h.ha.keys.is_in_use(u64::from(key)));
}

#[test]
fn reverse_tunnelling_follows_the_policy_137_when_disabled_138_when_required() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).flags(rrq_flags::T));
    assert!(installs(&out)[0].reverse_tunnel);
    let mut h = H::with(|c| c.reverse_tunnel = anchor_config::ReverseTunnelPolicy::Disabled);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).flags(rrq_flags::T))).code, code::HA_REVERSE_TUNNEL_UNAVAILABLE);
    let mut h = H::with(|c| c.reverse_tunnel = anchor_config::ReverseTunnelPolicy::Required);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id))).code, code::HA_REVERSE_TUNNEL_MANDATORY);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).flags(rrq_flags::T))).code, 0);
}

#[test]
fn a_mobile_node_behind_a_nat_gets_a_udp_tunnel_to_the_nat_address_and_port() {
    let mut h = H::new();
    let id = h.id();
    // Care-of address 198.51.100.20 (private side), source: the NAT.
    let out = h.send(Req::mn(MN).id(id).from(NAT, 40001).mn_ext(udp_request(0, 0)));
    let r = rrp(&out);
    assert_eq!(r.code, 0);
    assert_eq!(udp_reply_of(&r.extensions), Some((udp_reply::WILL_TUNNEL, 0, 110)));
    // The MN placed it: the reply's comes before MN-HA.
    assert_eq!(ext_types(&r.extensions), [131, 44, 32]);
    let b = installs(&out)[0];
    assert_eq!((b.tunnel.kind, b.tunnel.remote, b.tunnel.peer_port), (TunnelKind::MipUdp, v4(NAT), 40001));
    assert_eq!(b.coa, v4(COA));
    let spec = b.tunnel.spec(0, 64, false, 1500, 1280);
    assert_eq!((spec.local_port, spec.peer_port), (434, 40001));
    assert_eq!(sent(&out)[0].2, 40001);
}

#[test]
fn without_nat_and_without_f_the_udp_tunnel_is_declined_and_ip_in_ip_used() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(udp_request(0, 0)));
    assert_eq!(udp_reply_of(&rrp(&out).extensions), Some((udp_reply::DECLINED, 0, 110)));
    assert_eq!(installs(&out)[0].tunnel.kind, TunnelKind::IpIp);
}

#[test]
fn the_f_flag_forces_udp_tunnelling_when_allowed_else_129() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(udp_request(udp_request_flags::F, 4)));
    assert_eq!(udp_reply_of(&rrp(&out).extensions), Some((0, udp_reply::F, 110)));
    assert_eq!(installs(&out)[0].tunnel.kind, TunnelKind::MipUdp);
    let mut h = H::with(|c| c.udp_tunnel_force = false);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(udp_request(udp_request_flags::F, 4)));
    assert_eq!(rrp(&out).code, code::HA_ADMINISTRATIVELY_PROHIBITED);
}

#[test]
fn nat_traversal_when_disabled_is_refused_with_129() {
    let mut h = H::with(|c| c.udp_tunnel = false);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).from(NAT, 40001).mn_ext(udp_request(0, 0)));
    assert_eq!(rrp(&out).code, code::HA_ADMINISTRATIVELY_PROHIBITED);
}

#[test]
fn gre_or_minimal_in_udp_is_unavailable_142() {
    let mut h = H::new();
    for (flags, encap) in [(0u8, 47u8), (0, 55), (0, 99)] {
        let id = h.id();
        let out = h.send(Req::mn(MN).id(id).from(NAT, 40001).mn_ext(udp_request(flags, encap)));
        assert_eq!(rrp(&out).code, code::HA_UDP_ENCAPSULATION_UNAVAILABLE, "{encap}");
    }
    // Encapsulation 0 with G: GRE in UDP.
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).flags(rrq_flags::G).from(NAT, 40001).mn_ext(udp_request(0, 0)));
    assert_eq!(rrp(&out).code, code::HA_UDP_ENCAPSULATION_UNAVAILABLE);
}

#[test]
fn a_udp_tunnel_request_with_nonzero_reserved_3_is_poorly_formed_134() {
    let mut h = H::new();
    let id = h.id();
    let ext = Extension::UdpTunnelRequest { reserved1: 0, flags: 0, encapsulation: 0, reserved3: 1 };
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).mn_ext(ext))).code, code::HA_POORLY_FORMED_REQUEST);
    // Reserved 1 and the low bits of the flags octet are ignored.
    let id = h.id();
    let ext = Extension::UdpTunnelRequest { reserved1: 0xff, flags: 0x3f, encapsulation: 0, reserved3: 0 };
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).mn_ext(ext))).code, 0);
}

#[test]
fn a_udp_tunnel_request_placed_against_the_d_flag_is_poorly_formed_134() {
    let mut h = H::new();
    // MN-placed with D = 0.
    let id = h.id();
    let r = Req::mn(MN).id(id).clear(rrq_flags::D).mn_ext(udp_request(0, 0));
    assert_eq!(rrp(&h.send(r)).code, code::HA_POORLY_FORMED_REQUEST);
    // FA-placed with D = 1.
    let id = h.id();
    let r = Req::mn(MN).via(FA1).id(id).flags(rrq_flags::D).fa_ext(udp_request(0, 0));
    assert_eq!(rrp(&h.send(r)).code, code::HA_POORLY_FORMED_REQUEST);
}

#[test]
fn an_fa_behind_a_nat_gets_the_udp_tunnel_reply_after_mn_ha() {
    let mut h = H::new();
    let id = h.id();
    // The FA (care-of address FA2 side) sends from behind a NAT: use FA1
    // as its public address and a private care-of address.
    let r = Req::mn(MN).via(FA1).id(id).coa("10.0.0.2").from(FA1, 50000).fa_ext(udp_request(0, 4));
    let out = h.send(r);
    let reply = rrp(&out);
    assert_eq!(reply.code, 0);
    assert_eq!(ext_types(&reply.extensions), [131, 32, 44, 34]);
    let b = installs(&out)[0];
    assert_eq!((b.tunnel.kind, b.tunnel.remote, b.tunnel.peer_port), (TunnelKind::MipUdp, v4(FA1), 50000));
}

#[test]
fn with_r_set_the_tunnel_waits_for_the_mobile_nodes_keepalive() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).from(NAT, 40001).mn_ext(udp_request(udp_request_flags::R, 0)));
    assert_eq!(rrp(&out).code, 0);
    assert!(installs(&out).is_empty());
    let b = h.ha.bindings().next().cloned().unwrap();
    assert!(b.awaiting_keepalive);
    // A keepalive from elsewhere is ignored; from the NAT it sets the end.
    assert!(h.ha.udp_keepalive(v4("198.51.100.98"), 40002, b.hoa).is_empty());
    let out = h.ha.udp_keepalive(v4(NAT), 40777, b.hoa);
    let got = installs(&out)[0];
    assert_eq!((got.tunnel.remote, got.tunnel.peer_port, got.awaiting_keepalive), (v4(NAT), 40777, false));
    assert_eq!(h.ha.counters().keepalives_applied, 1);
    // The same again changes nothing.
    assert!(h.ha.udp_keepalive(v4(NAT), 40777, b.hoa).is_empty());
}

#[test]
fn a_new_source_port_moves_the_udp_tunnel() {
    let mut h = H::new();
    let id = h.id();
    h.send(Req::mn(MN).id(id).from(NAT, 40001).mn_ext(udp_request(0, 0)));
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).from(NAT, 40009).mn_ext(udp_request(0, 0)));
    assert_eq!(rrp(&out).code, 0);
    assert_eq!(installs(&out)[0].tunnel.peer_port, 40009);
    // So does a keepalive from a new port (NAT rebinding).
    let hoa = h.ha.bindings().next().unwrap().hoa;
    let out = h.ha.udp_keepalive(v4(NAT), 40010, hoa);
    assert_eq!(installs(&out)[0].tunnel.peer_port, 40010);
}

#[test]
fn the_keepalive_interval_is_configurable() {
    let mut h = H::with(|c| c.udp_keepalive_s = 30);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).from(NAT, 40001).mn_ext(udp_request(0, 0)));
    assert_eq!(udp_reply_of(&rrp(&out).extensions), Some((0, 0, 30)));
}
