//! §4.2–§4.5: IPv4 home address support (RFC 5844).

use super::*;
use crate::proto::{hoa_reply_status, status, MobilityOption};

fn router_of(options: &[MobilityOption]) -> Option<Ipv4Addr> {
    find(options, |o| match o {
        MobilityOption::Ipv4DefaultRouter(a) => Some(*a),
        _ => None,
    })
}

fn dhcp_of(options: &[MobilityOption]) -> Option<bool> {
    find(options, |o| match o {
        MobilityOption::Ipv4DhcpSupportMode { server } => Some(*server),
        _ => None,
    })
}

#[test]
fn ipv4_hoa_request_for_0_0_0_0_gets_an_address_with_the_home_prefix_length_and_default_router() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").build());
    let ba = pba(&out);
    assert_eq!(ba.status, 0);
    assert_eq!(reply_of(&ba.options), Some((hoa_reply_status::SUCCESS, 24, v4("203.0.113.2"))));
    assert_eq!(router_of(&ba.options), Some(v4("203.0.113.1")));
    assert_eq!(dhcp_of(&ba.options), Some(true));
    assert_eq!(installs(&out)[0].ipv4_hoa, Some((v4("203.0.113.2"), 24, v4("203.0.113.1"))));
}

#[test]
fn ipv4_only_pbu_gets_no_hnp_in_the_pba() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").build());
    assert!(hnps_of(&pba(&out).options).is_empty());
    assert!(installs(&out)[0].hnps.is_empty());
}

#[test]
fn rejected_ipv4_only_pbu_gets_no_hnp_and_a_failing_reply_with_the_requested_address() {
    let mut h = H::with(|c| c.profiles.default = None);
    let out = h.pbu(MAG1, Pbu::new("x@y").no_hnp().v4("203.0.113.9").build());
    let ba = pba(&out);
    assert_eq!(ba.status, 153);
    assert!(hnps_of(&ba.options).is_empty());
    assert_eq!(reply_of(&ba.options), Some((hoa_reply_status::FAILURE_REASON_UNSPECIFIED, 32, v4("203.0.113.9"))));
    assert_eq!(router_of(&ba.options), None);
}

#[test]
fn ipv4_hoa_request_without_ipv4_service_is_rejected_with_170_and_reply_129() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).v4("0.0.0.0").build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE);
    assert_eq!(reply_of(&ba.options).map(|r| r.0), Some(hoa_reply_status::ADMINISTRATIVELY_PROHIBITED));
}

#[test]
fn hnp_without_ipv6_service_is_rejected_with_172() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).v4("0.0.0.0").build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE);
}

#[test]
fn more_than_one_ipv4_hoa_request_is_rejected_with_173() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").v4("203.0.113.5").build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED);
    assert_eq!(reply_of(&ba.options), Some((128, 32, Ipv4Addr::UNSPECIFIED)));
    assert_eq!(h.count(), 0);
}

#[test]
fn ipv4_pool_exhaustion_is_rejected_with_130_and_reply_128() {
    let mut h = H::with(|c| {
        c.pools.ipv4[0].subnet = "203.0.113.0/30".parse().unwrap();
        c.pools.ipv4[0].exclude = Vec::new();
    });
    h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").build());
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::INSUFFICIENT_RESOURCES);
    assert_eq!(reply_of(&ba.options).map(|r| r.0), Some(hoa_reply_status::FAILURE_REASON_UNSPECIFIED));
    // The prefix taken for the dual-stack request went back.
    assert_eq!(h.lma.pools().0.in_use(), 0);
}

#[test]
fn requested_ipv4_hoa_not_authorised_for_the_mn_is_rejected_with_171_and_reply_129() {
    let mut h = H::new();
    // Another MN's static address, our router, and an address outside the pools.
    for addr in [STATIC_HOA, "203.0.113.1", "10.1.1.1"] {
        let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4(addr).build());
        let ba = pba(&out);
        assert_eq!(ba.status, status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS, "{addr}");
        assert_eq!(reply_of(&ba.options), Some((129, 32, v4(addr))));
    }
}

#[test]
fn requested_free_ipv4_hoa_of_the_pool_is_assigned() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("203.0.113.77").build());
    assert_eq!(reply_of(&pba(&out).options), Some((0, 24, v4("203.0.113.77"))));
}

#[test]
fn static_ipv4_hoa_is_assigned_to_its_owner_only() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(STATIC4).no_hnp().v4("0.0.0.0").build());
    assert_eq!(reply_of(&pba(&out).options), Some((0, 24, v4(STATIC_HOA))));
    // The owner cannot ask for another address.
    let out = h.pbu(MAG2, Pbu::new(STATIC4).no_hnp().v4("203.0.113.50").build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS);
}

#[test]
fn dual_stack_pbu_gets_both_families_in_one_session() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0];
    assert_eq!(s.hnps.len(), 1);
    assert!(s.ipv4_hoa.is_some());
    assert_eq!(h.count(), 1);
    let ba = pba(&out);
    assert_eq!(hnps_of(&ba.options).len(), 1);
    assert!(reply_of(&ba.options).is_some());
}

#[test]
fn ipv4_hoa_request_added_to_an_ipv6_session_assigns_an_address_in_the_same_bce() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).v4("0.0.0.0").seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let now = installs(&out)[0];
    assert_eq!((now.id, now.hnps.clone()), (s.id, s.hnps.clone()));
    assert!(now.ipv4_hoa.is_some());
    assert_eq!(h.count(), 1);
}

#[test]
fn re_registration_keeps_the_ipv4_hoa_and_refuses_another_one_with_171() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let (hoa, _, _) = s.ipv4_hoa.unwrap();
    let prefix = s.hnps[0].to_string();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).v4(&hoa.to_string()).seq(2).build());
    assert_eq!(reply_of(&pba(&out).options).map(|r| (r.0, r.2)), Some((0, hoa)));
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).v4("203.0.113.99").seq(3).build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS);
    assert_eq!(h.session(s.id).ipv4_hoa.unwrap().0, hoa);
}

#[test]
fn handoff_without_hnp_options_extends_only_the_ipv4_hoa_and_releases_the_prefixes() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let hoa = s.ipv4_hoa.unwrap().0.to_string();
    let out = h.pbu(MAG2, Pbu::new(DUAL).no_hnp().v4(&hoa).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let now = installs(&out)[0];
    assert!(now.hnps.is_empty());
    assert_eq!(now.ipv4_hoa, s.ipv4_hoa);
    assert_eq!(h.lma.pools().0.in_use(), 0);
}

#[test]
fn handoff_without_ipv4_hoa_request_keeps_ipv6_and_releases_the_ipv4_hoa() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let now = installs(&out)[0];
    assert_eq!((now.hnps.clone(), now.ipv4_hoa), (s.hnps.clone(), None));
    assert_eq!(h.lma.pools().1.in_use(), 0);
}

#[test]
fn selective_ipv4_deregistration_removes_only_the_ipv4_hoa() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let hoa = s.ipv4_hoa.unwrap().0;
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(&hoa.to_string()).lifetime(0).seq(2).build());
    let ba = pba(&out);
    assert_eq!((ba.status, ba.lifetime), (0, 0));
    assert!(hnps_of(&ba.options).is_empty());
    let now = installs(&out)[0];
    assert_eq!((now.state, now.hnps.clone(), now.ipv4_hoa), (super::super::SessionState::Active, s.hnps, None));
    assert!(!h.lma.pools().1.is_in_use(hoa));
}

#[test]
fn selective_ipv6_deregistration_removes_only_the_prefixes() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).lifetime(0).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let now = installs(&out)[0];
    assert!(now.hnps.is_empty());
    assert_eq!(now.ipv4_hoa, s.ipv4_hoa);
    assert_eq!(h.lma.pools().0.in_use(), 0);
}

#[test]
fn full_deregistration_of_a_dual_stack_session_carries_both_and_deprecates_it() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let hoa = s.ipv4_hoa.unwrap().0.to_string();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).v4(&hoa).lifetime(0).seq(2).build());
    assert_eq!(removes(&out), [s.id]);
    assert_eq!(reply_of(&pba(&out).options).map(|r| r.0), Some(0));
    h.advance(secs(10));
    assert_eq!(h.lma.pools().1.in_use(), 0);
}

#[test]
fn default_router_and_dhcp_support_mode_are_only_in_accepting_pbas() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).v4("0.0.0.0").build());
    assert_eq!((router_of(&pba(&out).options), dhcp_of(&pba(&out).options)), (None, None));
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    assert!(router_of(&pba(&out).options).is_some());
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).build());
    assert_eq!(router_of(&pba(&out).options), None);
}

#[test]
fn ipv4_hoa_of_an_expired_session_is_reusable() {
    let mut h = H::with(|c| {
        c.pools.ipv4[0].subnet = "203.0.113.0/30".parse().unwrap();
        c.pools.ipv4[0].exclude = Vec::new();
    });
    h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").lifetime(1).build());
    h.advance(secs(4));
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").build());
    assert_eq!(reply_of(&pba(&out).options).map(|r| r.2), Some(v4("203.0.113.2")));
}
