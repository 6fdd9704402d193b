//! RFC 5555 at the home agent: IPv4 care-of addresses, NAT detection, the
//! IPv4 home address (PROTOCOLS.md §11.1, §11.2 items 1–10).

use super::*;
use crate::proto::{ipv4_ack_status, status};

fn natted(hoa: &str, seq: u16) -> Bu {
    Bu::udp(hoa, seq).via(Via::Udp4 { coa: Some(v4(COA4)), src: v4(NAT), port: NAT_PORT })
}

#[test]
fn a_bu_over_udp_without_a_nat_binds_both_families_over_ip_in_ip_to_the_ipv4_care_of_address() {
    let mut h = Harness::new();
    let out = h.send(Bu::udp(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let (dst, framing, b, _) = bas(&out).remove(0);
    assert_eq!(b.status, status::ACCEPTED);
    // §11.1: IPv4 HA → the BU's source, UDP 4191 → its port, IPv6 HA → HoA.
    assert_eq!(dst, IpAddr::V4(v4(COA4)));
    assert_eq!(
        framing,
        Framing::Udp4 {
            src: v4(HA4),
            dst: v4(COA4),
            src_port: DSMIP6_PORT,
            dst_port: DSMIP6_PORT,
            inner_src: v6(HA),
            inner_dst: v6(MN_HOA),
        }
    );
    // §11.2 item 9: NAT Detection always over UDP; no NAT → no keepalives.
    assert_eq!(nat_detection(&b), Some((false, 0xffff_ffff)));
    let (st, plen, addr) = ipv4_ack(&b).unwrap();
    assert_eq!((st, plen), (ipv4_ack_status::SUCCESS, 24));
    // Items 4–5: two bindings, the same care-of address, plain IP-in-IP.
    let b = installs(&out);
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].hoa, IpAddr::V6(v6(MN_HOA)));
    assert_eq!(b[1].hoa, IpAddr::V4(addr));
    for x in &b {
        assert_eq!(tunnel_of(x), (TunnelKind::IpIp, IpAddr::V4(v4(COA4))));
        assert_eq!(x.tunnel.local, IpAddr::V4(v4(HA4)));
    }
    assert_ne!(b[0].id, b[1].id);
}

#[test]
fn a_nat_is_detected_when_the_ipv4_care_of_address_differs_from_the_outer_source_and_udp_tunnels_to_it() {
    let mut h = Harness::new();
    let out = h.send(natted(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let (dst, framing, b, _) = bas(&out).remove(0);
    assert_eq!(b.status, status::ACCEPTED);
    assert_eq!(dst, IpAddr::V4(v4(NAT)));
    assert!(matches!(framing, Framing::Udp4 { dst_port: NAT_PORT, .. }));
    assert_eq!(nat_detection(&b), Some((false, 110)));
    for x in installs(&out) {
        assert_eq!(tunnel_of(&x), (TunnelKind::Udp, IpAddr::V4(v4(NAT))));
        assert_eq!((x.tunnel.local_port, x.tunnel.peer_port), (DSMIP6_PORT, NAT_PORT));
        let spec = x.tunnel.spec();
        assert_eq!((spec.kind, spec.local_port, spec.peer_port), (TunnelKind::Udp, DSMIP6_PORT, NAT_PORT));
    }
    let reg = h.ha.registration(v6(MN_HOA)).unwrap();
    assert!(matches!(reg.care_of, super::super::CareOf::Ipv4 { nat: true, .. }));
    assert_eq!(h.ha.counters().nat_detected, 1);
}

#[test]
fn the_configured_keepalive_time_goes_in_the_nat_detection_option() {
    let mut h = Harness::with(Ha6Config { nat_keepalive: 25, ..config() });
    assert_eq!(nat_detection(&ba(&h.send(natted(MN_HOA, 1)))), Some((false, 25)));
}

#[test]
fn the_f_flag_forces_udp_encapsulation_when_accepted() {
    let mut h = Harness::new();
    let out = h.send(Bu::udp(MN_HOA, 1).flags(bu_flags::A | bu_flags::H | bu_flags::F));
    let b = ba(&out);
    assert_eq!(b.status, status::ACCEPTED);
    assert_eq!(nat_detection(&b), Some((true, 0xffff_ffff)));
    assert_eq!(tunnel_of(&installs(&out)[0]), (TunnelKind::Udp, IpAddr::V4(v4(COA4))));
}

#[test]
fn the_f_flag_is_refused_with_129_when_udp_forcing_is_not_accepted() {
    let mut h = Harness::with(Ha6Config { accept_udp_forcing: false, ..config() });
    let out = h.send(Bu::udp(MN_HOA, 1).flags(bu_flags::A | bu_flags::H | bu_flags::F));
    let b = ba(&out);
    assert_eq!((b.status, b.lifetime), (status::ADMINISTRATIVELY_PROHIBITED, 0));
    assert_eq!(nat_detection(&b), Some((false, 0xffff_ffff)));
    assert!(installs(&out).is_empty());
}

#[test]
fn a_bu_over_udp_without_an_ipv4_care_of_address_option_is_dropped() {
    let mut h = Harness::new();
    let out = h.send(Bu::udp(MN_HOA, 1).via(Via::Udp4 { coa: None, src: v4(COA4), port: DSMIP6_PORT }));
    assert!(out.is_empty());
    assert_eq!(h.ha.counters().missing_ipv4_coa, 1);
}

#[test]
fn an_ipv4_home_address_of_zero_is_allocated_from_the_pool_and_acknowledged() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let (st, plen, addr) = ipv4_ack(&ba(&out)).unwrap();
    assert_eq!((st, plen, addr), (0, 24, v4("203.0.113.2")));
    assert_eq!(h.ha.pool().in_use(), 2, "the static address and this one");
    // Item 6: the home agent maps the IPv6 HoA to the IPv4 HoA and back.
    let reg = h.ha.registration(v6(MN_HOA)).unwrap();
    assert_eq!(reg.v4.as_ref().unwrap().hoa, IpAddr::V4(addr));
    assert_eq!(h.ha.registration_by_ipv4(addr).unwrap().v6.hoa, IpAddr::V6(v6(MN_HOA)));
    // Over an IPv6 care-of address the IPv4 HoA goes 4-in-6.
    assert_eq!(tunnel_of(&installs(&out)[1]), (TunnelKind::IpIp, IpAddr::V6(v6(COA))));
}

#[test]
fn an_ipv4_home_address_of_zero_gets_the_static_address_when_one_is_configured() {
    let mut h = Harness::new();
    let (st, plen, addr) = ipv4_ack(&ba(&h.send(Bu::new(STATIC_HOA, 1).ipv4_hoa("0.0.0.0")))).unwrap();
    assert_eq!((st, plen, addr), (0, 24, v4(STATIC_V4)));
    // ... and asking for it by name works too; de-registering keeps it reserved.
    assert_eq!(ipv4_ack(&ba(&h.send(Bu::new(STATIC_HOA, 2).ipv4_hoa(STATIC_V4)))).unwrap().0, 0);
    h.send(Bu::new(STATIC_HOA, 3).lifetime(0));
    assert!(h.ha.pool().is_in_use(v4(STATIC_V4)));
}

#[test]
fn an_exhausted_pool_is_ack_132_and_the_ipv6_binding_is_still_accepted() {
    let cfg = Ha6Config {
        ipv4_pools: vec![Ipv4Pool {
            subnet: "198.18.0.0/30".parse().unwrap(),
            default_router: v4("198.18.0.1"),
            exclude: vec![],
        }],
        ..config()
    };
    let mut h = Harness::with(cfg);
    assert_eq!(ipv4_ack(&ba(&h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0")))).unwrap().2, v4("198.18.0.2"));
    let out = h.send(Bu::new(ANON_HOA, 1).ipv4_hoa("0.0.0.0"));
    let b = ba(&out);
    assert_eq!(b.status, status::ACCEPTED);
    assert_eq!(
        ipv4_ack(&b),
        Some((ipv4_ack_status::DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE, 0, v4("0.0.0.0")))
    );
    assert_eq!(installs(&out).len(), 1);
    assert!(h.ha.registration(v6(ANON_HOA)).unwrap().v4.is_none());
}

#[test]
fn invalid_ipv4_home_address_requests_get_their_ack_failure_status() {
    let mut h = Harness::new();
    let cases: [(MobilityOption, u8); 5] = [
        // Prefix-len 0: our choice 128 (§15).
        (MobilityOption::Ipv4HomeAddress { prefix_len: 0, p: false, addr: v4("0.0.0.0") }, 128),
        // A mobile network prefix is not offered.
        (MobilityOption::Ipv4HomeAddress { prefix_len: 24, p: true, addr: v4("0.0.0.0") }, 133),
        (MobilityOption::Ipv4HomeAddress { prefix_len: 32, p: false, addr: v4("224.0.0.5") }, 131),
        (MobilityOption::Ipv4HomeAddress { prefix_len: 32, p: false, addr: v4("255.255.255.255") }, 131),
        // Another mobile node's static address.
        (MobilityOption::Ipv4HomeAddress { prefix_len: 32, p: false, addr: v4(STATIC_V4) }, 130),
    ];
    for (seq, (opt, want)) in (1u16..).zip(cases) {
        let out = h.send(Bu::new(MN_HOA, seq).option(opt.clone()));
        let b = ba(&out);
        assert_eq!(b.status, status::ACCEPTED, "{opt:?}");
        assert_eq!(ipv4_ack(&b).map(|a| (a.0, a.1)), Some((want, 0)), "{opt:?}");
        assert!(h.ha.registration(v6(MN_HOA)).unwrap().v4.is_none());
    }
}

#[test]
fn an_ipv4_home_address_bound_to_another_mobile_node_is_ack_130() {
    let mut h = Harness::new();
    let addr = ipv4_ack(&ba(&h.send(Bu::new(ANON_HOA, 1).ipv4_hoa("0.0.0.0")))).unwrap().2;
    let b = ba(&h.send(Bu::new(MN_HOA, 1).ipv4_hoa(&addr.to_string())));
    assert_eq!(ipv4_ack(&b).unwrap().0, ipv4_ack_status::INCORRECT_IPV4_HOME_ADDRESS);
    // A free pool address asked for by name is taken.
    let b = ba(&h.send(Bu::new(MN_HOA, 2).ipv4_hoa("203.0.113.77")));
    assert_eq!(ipv4_ack(&b), Some((0, 24, v4("203.0.113.77"))));
}

#[test]
fn a_renewal_keeps_the_ipv4_home_address_and_a_bu_without_the_option_removes_it() {
    let mut h = Harness::new();
    let first = installs(&h.send(Bu::udp(MN_HOA, 1).ipv4_hoa("0.0.0.0")));
    let out = h.send(Bu::udp(MN_HOA, 2).ipv4_hoa("0.0.0.0"));
    assert_eq!(
        ipv4_ack(&ba(&out)).unwrap().2,
        match first[1].hoa {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => unreachable!(),
        }
    );
    assert!(installs(&out).is_empty() && removes(&out).is_empty());
    // A move to another IPv4 care-of address (now behind a NAT) moves both.
    let out = h.send(natted(MN_HOA, 3).ipv4_hoa("0.0.0.0"));
    let moved = installs(&out);
    assert_eq!(moved.iter().map(|b| b.id).collect::<Vec<_>>(), vec![first[0].id, first[1].id]);
    assert!(moved.iter().all(|b| b.tunnel.kind == TunnelKind::Udp));
    // Without option 29 the IPv4 binding goes and its address is released.
    let out = h.send(natted(MN_HOA, 4));
    assert_eq!(ipv4_ack(&ba(&out)), None);
    assert_eq!(removes(&out), vec![first[1].id]);
    assert_eq!(h.ha.pool().in_use(), 1, "only the static address");
}

#[test]
fn an_ipv6_care_of_address_after_an_ipv4_one_moves_both_bindings_to_ip_in_ipv6() {
    let mut h = Harness::new();
    h.send(Bu::udp(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let out = h.send(Bu::new(MN_HOA, 2).ipv4_hoa("0.0.0.0"));
    let b = ba(&out);
    assert_eq!(nat_detection(&b), None, "no NAT Detection option over IPv6");
    let moved = installs(&out);
    assert_eq!(moved.len(), 2);
    for x in moved {
        assert_eq!(tunnel_of(&x), (TunnelKind::IpIp, IpAddr::V6(v6(COA))));
        assert_eq!(x.tunnel.local, IpAddr::V6(v6(HA)));
    }
}
