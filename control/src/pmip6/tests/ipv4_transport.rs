//! §4.8: PMIPv6 over IPv4 transport (RFC 5844 §4) and the encapsulation
//! decision.

use super::super::{Encap, PMIP6_DATA_PORT};
use super::*;
use crate::proto::{ba_flags, bu_flags, status, MobilityOption};

fn nat_of(options: &[MobilityOption]) -> Option<(bool, u32)> {
    find(options, |o| match o {
        MobilityOption::NatDetection { f, refresh } => Some((*f, *refresh)),
        _ => None,
    })
}

#[test]
fn pbu_over_ipv4_is_answered_over_ipv4_udp_to_the_mags_port_from_the_pbus_destination() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 40000, Pbu::new(DUAL).v4("0.0.0.0").build());
    let (src, dst, transport, _) = sent(&out)[0];
    assert_eq!((src, dst, transport), (ip(LMAA4), ip(MAG4), Transport::Udp4 { src_port: 40000 }));
    assert_eq!(pba(&out).status, 0);
}

#[test]
fn ipv4_transport_session_tunnels_between_the_ipv4_lmaa_and_the_ipv4_proxy_coa_with_ip_in_ip() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0];
    assert_eq!((s.proxy_coa, s.local, s.encap), (ip(MAG4), ip(LMAA4), Encap::IpIp));
    assert!(nat_of(&pba(&out).options).is_none());
}

#[test]
fn ipv4_transport_carries_ipv6_prefixes_too() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(V6ONLY).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].hnps.len(), 1);
}

#[test]
fn forced_udp_encapsulation_is_rejected_with_129_unless_accepted_by_configuration() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).flags(bu_flags::F).build());
    assert_eq!(pba(&out).status, status::ADMINISTRATIVELY_PROHIBITED);
    assert_eq!(h.count(), 0);
}

#[test]
fn accepted_forced_udp_gives_udp_mode_and_a_nat_detection_option_with_f() {
    let mut h = H::with_lma(|l| l.accept_forced_udp = true);
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).flags(bu_flags::F).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].encap, Encap::Udp { mag_port: PMIP6_DATA_PORT });
    assert_eq!(nat_of(&pba(&out).options), Some((true, 0xFFFF_FFFF)));
}

#[test]
fn f_flag_over_ipv6_transport_means_nothing() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).flags(bu_flags::F).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].encap, Encap::IpIp);
}

#[test]
fn gre_key_option_with_t_over_ipv4_gives_udp_tlv_and_t_in_the_pba() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).flags(bu_flags::T).gre(Some(0x1234)).build());
    let ba = pba(&out);
    assert_eq!(ba.status, 0);
    assert_eq!(ba.flags, ba_flags::P | ba_flags::T);
    let Encap::UdpTlv { mag_port, key_up, key_down } = installs(&out)[0].encap else { panic!("{out:?}") };
    assert_eq!((mag_port, key_down), (PMIP6_DATA_PORT, 0x1234));
    assert_eq!(gre_of(&ba.options), Some(Some(key_up)));
}

#[test]
fn t_flag_without_tlv_support_gets_status_3_gre_without_udp_and_t_clear() {
    let mut h = H::with_lma(|l| l.tlv_supported = false);
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).flags(bu_flags::T).gre(Some(9)).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED);
    assert_eq!(ba.flags & ba_flags::T, 0);
    assert!(matches!(installs(&out)[0].encap, Encap::Gre { key_up: Some(_), key_down: Some(9) }));
}

#[test]
fn t_flag_without_gre_key_option_is_answered_with_t_clear() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).flags(bu_flags::T).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(pba(&out).flags & ba_flags::T, 0);
    assert_eq!(installs(&out)[0].encap, Encap::IpIp);
}

#[test]
fn gre_over_ipv4_transport_is_ipv4_gre() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).gre(Some(77)).build());
    let s = installs(&out)[0];
    assert!(matches!(s.encap, Encap::Gre { key_up: Some(_), key_down: Some(77) }));
    assert_eq!(s.proxy_coa, ip(MAG4));
}

#[test]
fn handoff_between_ipv4_mags_moves_the_ipv4_proxy_coa() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let hoa = s.ipv4_hoa.unwrap().0.to_string();
    let bu = Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).v4(&hoa).hi(Some(3)).seq(2).build();
    let out = h.pbu4(MAG4B, 6000, bu);
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].proxy_coa, ip(MAG4B));
    assert_eq!(sent(&out)[0].2, Transport::Udp4 { src_port: 6000 });
}

#[test]
fn re_registration_from_the_same_mag_setting_t_keeps_gre_without_tlv_and_gets_status_3() {
    // §5.1: the TLV format SHOULD NOT change on re-registration from the
    // same MAG.
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).gre(Some(9)).build());
    let s = installs(&out)[0].clone();
    let Encap::Gre { key_up, .. } = s.encap else { panic!("{out:?}") };
    let again = Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(2).flags(bu_flags::T).gre(Some(9)).build();
    let out = h.pbu4(MAG4, 5436, again);
    let ba = pba(&out);
    assert_eq!(ba.status, status::GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED);
    assert_eq!(ba.flags & ba_flags::T, 0);
    assert_eq!(gre_of(&ba.options), Some(key_up));
    // Nothing changed for the data plane.
    assert!(installs(&out).is_empty());
    assert_eq!(h.session(s.id).encap, s.encap);
}

#[test]
fn re_registration_from_the_same_mag_clearing_t_moves_the_session_to_gre_without_tlv() {
    // T is never set in the PBA unless the PBU had it, so the LMA cannot
    // hold the MAG to the TLV format: the session follows the PBU.
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).flags(bu_flags::T).gre(Some(9)).build());
    let s = installs(&out)[0].clone();
    let Encap::UdpTlv { key_up, .. } = s.encap else { panic!("{out:?}") };
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(2).gre(Some(9)).build());
    let ba = pba(&out);
    assert_eq!((ba.status, ba.flags & ba_flags::T), (0, 0));
    assert_eq!(installs(&out)[0].encap, Encap::Gre { key_up: Some(key_up), key_down: Some(9) });
}

#[test]
fn handoff_to_another_mag_may_renegotiate_the_tlv_format() {
    let mut h = H::new();
    let out = h.pbu4(MAG4, 5436, Pbu::new(DUAL).gre(Some(9)).build());
    let s = installs(&out)[0].clone();
    let moved = Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(2).hi(Some(2)).flags(bu_flags::T).gre(Some(10)).build();
    let out = h.pbu4(MAG4B, 5436, moved);
    let ba = pba(&out);
    assert_eq!((ba.status, ba.flags & ba_flags::T), (0, ba_flags::T));
    assert!(matches!(installs(&out)[0].encap, Encap::UdpTlv { key_down: 10, .. }));
}
