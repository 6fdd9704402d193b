//! RFC 6275 home registration at the home agent (§9.5, §10.3.1, §10.3.2)
//! as PROTOCOLS.md §11 builds on it.

use super::*;
use crate::proto::status;

#[test]
fn a_home_registration_over_ipv6_binds_the_hoa_and_acks_0_through_a_type_2_routing_header() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 7));
    let all = bas(&out);
    assert_eq!(all.len(), 1);
    let (dst, framing, ba, mh) = &all[0];
    assert_eq!((ba.status, ba.seq, ba.lifetime, ba.flags), (status::ACCEPTED, 7, 100, 0));
    // RFC 6275 §9.5.4: to the BU's source, type 2 routing header with the
    // HoA, MH checksum with the HoA as destination (parse_packet checked it).
    assert_eq!(*dst, IpAddr::V6(v6(COA)));
    let Output::Send { packet, .. } = &out.iter().find(|o| matches!(o, Output::Send { .. })).unwrap() else {
        unreachable!()
    };
    assert_eq!(packet[6], 43, "routing header first");
    assert_eq!(packet[40..44], [135, 2, 2, 1]);
    assert_eq!(packet[48..64], v6(MN_HOA).octets());
    assert_eq!(
        *framing,
        Framing::Ipv6 { src: v6(HA), dst: v6(COA), home_address: None, routing_home: Some(v6(MN_HOA)) }
    );
    assert!(ba_authentic(mh, &key_of(MN_HOA), auth_care_of(IpAddr::V6(v6(COA))), v6(MN_HOA)));
    let b = installs(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].hoa, IpAddr::V6(v6(MN_HOA)));
    assert_eq!(b[0].prefix_len, 128);
    assert_eq!(&*b[0].mn_id, MN);
    assert_eq!(tunnel_of(&b[0]), (TunnelKind::IpIp, IpAddr::V6(v6(COA))));
    assert_eq!(b[0].tunnel.local, IpAddr::V6(v6(HA)));
    let reg = h.ha.registration(v6(MN_HOA)).unwrap();
    assert_eq!((reg.seq, reg.lifetime, reg.v4.is_none()), (7, secs(400), true));
    assert_eq!(h.ha.counters().registrations_created, 1);
}

#[test]
fn an_accepted_bu_without_the_a_flag_gets_no_ba() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 1).flags(bu_flags::H));
    assert!(bas(&out).is_empty());
    assert_eq!(installs(&out).len(), 1);
}

#[test]
fn a_rejected_bu_gets_a_ba_even_without_the_a_flag() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 1).flags(bu_flags::H).auth(Auth::WrongKey));
    assert_eq!(ba(&out).status, status::MIPV6_AUTH_FAIL);
}

#[test]
fn a_proxy_or_non_home_registration_is_not_the_home_agents() {
    let mut h = Harness::new();
    for flags in [bu_flags::A, bu_flags::A | bu_flags::H | bu_flags::P] {
        assert!(h.send(Bu::new(MN_HOA, 1).flags(flags)).is_empty());
    }
    assert_eq!(h.ha.counters().unexpected, 2);
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
}

#[test]
fn a_bu_to_another_address_is_dropped() {
    let mut h = Harness::new();
    let mut bu = Bu::new(MN_HOA, 1);
    bu.ha = v6("2001:db8:100::2");
    assert!(h.send(bu).is_empty());
    assert_eq!(h.ha.counters().not_for_us, 1);
}

#[test]
fn the_granted_lifetime_is_capped_at_the_configured_maximum() {
    let mut h = Harness::with(Ha6Config { max_lifetime: secs(600), ..config() });
    let out = h.send(Bu::new(MN_HOA, 1).lifetime(0xffff));
    assert_eq!(ba(&out).lifetime, 150);
    assert_eq!(h.ha.registration(v6(MN_HOA)).unwrap().lifetime, secs(600));
}

#[test]
fn a_sequence_number_not_newer_than_the_last_accepted_is_135_carrying_the_last_accepted() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 100));
    for seq in [100, 99, 100u16.wrapping_sub(0x8000)] {
        let out = h.send(Bu::new(MN_HOA, seq).via(Via::Ipv6 { coa: v6(COA2) }));
        let b = ba(&out);
        assert_eq!((b.status, b.seq, b.lifetime), (status::SEQUENCE_NUMBER_OUT_OF_WINDOW, 100, 0), "seq {seq}");
        assert!(installs(&out).is_empty());
    }
    assert_eq!(h.ha.registration(v6(MN_HOA)).unwrap().care_of, super::super::CareOf::Ipv6(v6(COA)));
}

#[test]
fn sequence_numbers_compare_modulo_2_16() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 0xfffe));
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 1))).status, status::ACCEPTED);
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 0x7fff))).status, status::ACCEPTED);
    // Half the space ahead (0x8000) counts as behind.
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 0xffff))).status, status::SEQUENCE_NUMBER_OUT_OF_WINDOW);
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 0x7ffe))).status, status::SEQUENCE_NUMBER_OUT_OF_WINDOW);
}

#[test]
fn any_sequence_number_starts_a_new_registration() {
    let mut h = Harness::new();
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 0))).status, status::ACCEPTED);
    h.send(Bu::new(MN_HOA, 1).lifetime(0));
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 0))).status, status::ACCEPTED);
}

#[test]
fn lifetime_zero_deregisters_and_removes_both_bindings() {
    let mut h = Harness::new();
    let out = h.send(Bu::udp(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let mut ids: Vec<u32> = installs(&out).iter().map(|b| b.id).collect();
    ids.sort();
    assert_eq!(ids.len(), 2);
    let out = h.send(Bu::udp(MN_HOA, 2).lifetime(0).ipv4_hoa("0.0.0.0"));
    let b = ba(&out);
    assert_eq!((b.status, b.lifetime), (status::ACCEPTED, 0));
    assert_eq!(ipv4_ack(&b).map(|a| a.0), Some(0));
    let mut removed = removes(&out);
    removed.sort();
    assert_eq!(removed, ids);
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
    assert_eq!(h.ha.pool().in_use(), 1, "only the static address");
    assert_eq!(h.ha.counters().deregistrations, 1);
}

#[test]
fn a_care_of_address_equal_to_the_home_address_deregisters() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1));
    let out = h.send(Bu::new(MN_HOA, 2).via(Via::Ipv6 { coa: v6(MN_HOA) }));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert_eq!(removes(&out).len(), 1);
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
}

#[test]
fn deregistration_without_a_registration_is_133() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 1).lifetime(0));
    assert_eq!(ba(&out).status, status::NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE);
    assert!(removes(&out).is_empty());
}

#[test]
fn a_new_care_of_address_moves_the_binding_and_a_renewal_reinstalls_nothing() {
    let mut h = Harness::new();
    let first = installs(&h.send(Bu::new(MN_HOA, 1)));
    let out = h.send(Bu::new(MN_HOA, 2));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert!(installs(&out).is_empty());
    let out = h.send(Bu::new(MN_HOA, 3).via(Via::Ipv6 { coa: v6(COA2) }));
    let moved = installs(&out);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].id, first[0].id, "same binding, new tunnel");
    assert_eq!(tunnel_of(&moved[0]), (TunnelKind::IpIp, IpAddr::V6(v6(COA2))));
    assert_eq!((h.ha.counters().renewals, h.ha.counters().handoffs), (1, 1));
}

#[test]
fn the_alternate_care_of_address_option_is_the_care_of_address() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 1).option(MobilityOption::AlternateCareOf(v6(COA2))));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert_eq!(tunnel_of(&installs(&out)[0]), (TunnelKind::IpIp, IpAddr::V6(v6(COA2))));
    // The BA still goes to the IPv6 source.
    assert_eq!(bas(&out)[0].0, IpAddr::V6(v6(COA)));
}

#[test]
fn registrations_expire_at_their_lifetime_silently() {
    let mut h = Harness::new();
    let id = installs(&h.send(Bu::new(MN_HOA, 1).lifetime(10)))[0].id;
    assert_eq!(h.ha.next_deadline(), Some(h.t0 + secs(40)));
    assert!(h.advance(secs(39)).is_empty());
    // A renewal pushes the deadline.
    h.send(Bu::new(MN_HOA, 2).lifetime(10));
    assert!(h.advance(secs(39)).is_empty());
    let out = h.advance(secs(1));
    assert_eq!(removes(&out), vec![id]);
    assert!(out.iter().all(|o| matches!(o, Output::Remove { .. } | Output::Owned { ipv4: None, ipv6: None, .. })));
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
    assert_eq!(h.ha.counters().expired, 1);
    assert_eq!(h.ha.next_deadline(), None);
}

#[test]
fn an_mn_id_option_selects_the_association_and_a_foreign_home_address_is_132() {
    let mut h = Harness::new();
    let nai = MobilityOption::MnIdentifier { subtype: 1, id: MN.as_bytes().to_vec() };
    // The NAI's association, the right home address.
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 1).option(nai.clone()))).status, status::ACCEPTED);
    // The NAI's key, but another home address: not this node's home subnet.
    let mut bu = Bu::new(STRANGER_HOA, 2).option(nai);
    bu.key = key_of(MN_HOA);
    let out = h.send(bu);
    assert_eq!(ba(&out).status, status::NOT_HOME_SUBNET);
    assert!(h.ha.registration(v6(STRANGER_HOA)).is_none());
}

#[test]
fn bindings_of_different_mobile_nodes_are_independent_with_distinct_ids() {
    let mut h = Harness::new();
    let a = installs(&h.send(Bu::new(MN_HOA, 1)));
    let b = installs(&h.send(Bu::new(ANON_HOA, 1)));
    assert_ne!(a[0].id, b[0].id);
    assert_eq!(&*b[0].mn_id, ANON_HOA);
    assert_eq!(h.ha.registrations().count(), 2);
    h.send(Bu::new(MN_HOA, 2).lifetime(0));
    assert!(h.ha.registration(v6(ANON_HOA)).is_some());
}

#[test]
fn messages_other_than_a_binding_update_and_garbage_change_nothing() {
    let mut h = Harness::new();
    let ba_msg = MhMessage::BindingAck(BindingAck { status: 0, flags: 0, seq: 1, lifetime: 1, options: vec![] });
    let mh = emit(&ba_msg, Checksum::Ipv6 { src: v6(MN_HOA), dst: v6(HA) });
    let p = ipv6_packet_with_home_address(v6(COA), v6(HA), v6(MN_HOA), &mh);
    // Nothing but a Binding Error 1: no binding for its Home Address
    // option (binding_error.rs).
    let out = h.ha.handle(&p, h.instant(), h.wall());
    assert!(matches!(out[..], [Output::BindingError { status: 1, .. }]), "{out:?}");
    assert_eq!(h.ha.counters().unexpected, 1);
    let mut bad = Bu::new(MN_HOA, 1).packet();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    assert!(h.ha.handle(&bad, h.instant(), h.wall()).is_empty());
    assert!(h.ha.handle(&[0x60, 0, 0], h.instant(), h.wall()).is_empty());
    assert_eq!(h.ha.counters().malformed, 2);
    assert_eq!(h.ha.registrations().count(), 0);
}

#[test]
fn a_care_of_address_that_is_not_unicast_routable_is_174() {
    let mut h = Harness::new();
    for coa in ["ff02::1", "fe80::1", "::1", "::"] {
        let out = h.send(Bu::new(MN_HOA, 1).option(MobilityOption::AlternateCareOf(v6(coa))));
        assert_eq!(ba(&out).status, status::INVALID_CARE_OF_ADDRESS, "{coa}");
        assert!(installs(&out).is_empty());
    }
    let bad4 = Via::Udp4 { coa: Some(v4("224.0.0.1")), src: v4(COA4), port: DSMIP6_PORT };
    assert_eq!(ba(&h.send(Bu::udp(MN_HOA, 1).via(bad4))).status, status::INVALID_CARE_OF_ADDRESS);
    // A source no answer can go to: dropped.
    assert!(h.send(Bu::new(MN_HOA, 1).via(Via::Ipv6 { coa: v6("ff02::1") })).is_empty());
    let bad_src = Via::Udp4 { coa: Some(v4(COA4)), src: v4("255.255.255.255"), port: DSMIP6_PORT };
    assert!(h.send(Bu::udp(MN_HOA, 1).via(bad_src)).is_empty());
    assert_eq!(h.ha.counters().bad_source, 2);
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
}
