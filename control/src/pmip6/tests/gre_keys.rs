//! §5: GRE key negotiation (RFC 5845).

use super::super::Encap;
use super::*;
use crate::proto::{ba_flags, bu_flags, status};
use anchor_config::GrePolicy;

fn keys(s: &Session) -> (Option<u32>, Option<u32>) {
    match s.encap {
        Encap::Gre { key_up, key_down } => (key_up, key_down),
        Encap::UdpTlv { key_up, key_down, .. } => (Some(key_up), Some(key_down)),
        _ => (None, None),
    }
}

#[test]
fn gre_key_option_with_a_downlink_key_gets_an_uplink_key_and_both_are_stored() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).gre(Some(0xabcd)).build());
    let ba = pba(&out);
    assert_eq!(ba.status, 0);
    let (up, down) = keys(installs(&out)[0]);
    assert_eq!(down, Some(0xabcd));
    let up = up.unwrap();
    assert_ne!(up, 0);
    assert_eq!(gre_of(&ba.options), Some(Some(up)));
}

#[test]
fn gre_key_option_without_a_key_gets_gre_without_keys_and_a_keyless_option() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).gre(None).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].encap, Encap::Gre { key_up: None, key_down: None });
    assert_eq!(gre_of(&pba(&out).options), Some(None));
}

#[test]
fn gre_key_option_when_gre_is_not_used_gets_status_2_and_no_gre_option() {
    let mut h = H::with_lma(|l| l.gre = GrePolicy::Disabled);
    let out = h.pbu(MAG1, Pbu::new(DUAL).gre(Some(5)).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::GRE_KEY_OPTION_NOT_REQUIRED);
    assert_eq!(gre_of(&ba.options), None);
    assert_eq!(installs(&out)[0].encap, Encap::IpIp);
    assert_eq!(ba.lifetime, 100);
}

#[test]
fn pbu_without_gre_key_option_when_gre_is_required_is_rejected_with_163() {
    let mut h = H::with_lma(|l| l.gre = GrePolicy::Required);
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(DUAL).build())).status, status::GRE_KEY_OPTION_REQUIRED);
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(DUAL).gre(Some(1)).build())).status, 0);
}

#[test]
fn profile_requiring_gre_rejects_a_pbu_without_gre_key_option_with_163() {
    let mut h = H::new();
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(GRE_MN).build())).status, status::GRE_KEY_OPTION_REQUIRED);
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(DUAL).build())).status, 0);
}

#[test]
fn gre_key_option_with_t_over_ipv6_transport_gets_status_3() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).flags(bu_flags::T).gre(Some(5)).build());
    assert_eq!(pba(&out).status, status::GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED);
    assert_eq!(pba(&out).flags & ba_flags::T, 0);
}

#[test]
fn uplink_key_is_kept_across_re_registration_and_handoff_while_the_downlink_key_follows_the_mag() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).gre(Some(100)).build());
    let s = installs(&out)[0].clone();
    let (up, _) = keys(&s);
    let prefix = s.hnps[0].to_string();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).gre(Some(100)).seq(2).build());
    assert_eq!(gre_of(&pba(&out).options), Some(up));
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix).hi(Some(3)).gre(Some(200)).seq(3).build());
    assert_eq!(gre_of(&pba(&out).options), Some(up));
    assert_eq!(keys(&h.session(s.id)), (up, Some(200)));
}

#[test]
fn uplink_keys_are_unique_in_the_lma() {
    let mut h = H::new();
    let mut seen = std::collections::HashSet::new();
    for i in 0..20 {
        let out = h.pbu(if i % 2 == 0 { MAG1 } else { MAG2 }, Pbu::new(DUAL).gre(Some(7)).build());
        assert!(seen.insert(keys(installs(&out)[0]).0.unwrap()));
    }
}

#[test]
fn handoff_without_gre_key_option_falls_back_to_a_plain_tunnel_unless_gre_is_required() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).gre(Some(1)).build()))[0].clone();
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].encap, Encap::IpIp);
    assert_eq!(gre_of(&pba(&out).options), None);

    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(GRE_MN).gre(Some(1)).build()))[0].clone();
    let out = h.pbu(MAG2, Pbu::new(GRE_MN).hnp(&s.hnps[0].to_string()).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, status::GRE_KEY_OPTION_REQUIRED);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG1));
}

#[test]
fn deregistration_without_gre_key_option_is_accepted_when_gre_is_required() {
    let mut h = H::with_lma(|l| l.gre = GrePolicy::Required);
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).gre(Some(1)).build()))[0].clone();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).lifetime(0).seq(2).build());
    assert_eq!(pba(&out).status, 0);
}

#[test]
fn uplink_key_goes_back_when_the_session_is_deleted() {
    let mut h = H::new();
    h.pbu(MAG1, Pbu::new(DUAL).gre(Some(1)).lifetime(1).build());
    assert_eq!(h.lma.keys.in_use(), 1);
    h.advance(secs(4));
    assert!(h.lma.sessions().next().is_none());
    assert_eq!(h.lma.keys.in_use(), 0);
}

#[test]
fn uplink_key_goes_back_when_a_handoff_drops_gre() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).gre(Some(1)).build()))[0].clone();
    h.pbu(MAG2, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(3)).seq(2).build());
    assert_eq!(h.lma.keys.in_use(), 0);
}
