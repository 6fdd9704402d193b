//! §3.4 registration outcomes and §3.7 lifetimes.

use super::super::{Encap, SessionState};
use super::*;
use crate::proto::status;

#[test]
fn initial_registration_allocates_one_unused_prefix_per_all_zero_hnp() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).hnps(&["::", "::"]).build());
    let b = installs(&out)[0].clone();
    assert_eq!(a.hnps, [v6("2001:db8:100::")]);
    assert_eq!(b.hnps, [v6("2001:db8:100:1::"), v6("2001:db8:100:2::")]);
    assert_eq!(hnps_of(&pba(&out).options), [(64, b.hnps[0]), (64, b.hnps[1])]);
}

#[test]
fn prefix_pool_exhaustion_is_rejected_with_130_and_nothing_is_kept() {
    let mut h = H::with(|c| c.pools.hnp = vec!["2001:db8:100::/63".parse().unwrap()]);
    h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).hnps(&["::", "::"]).build());
    assert_eq!(pba(&out).status, status::INSUFFICIENT_RESOURCES);
    // The one prefix taken before the pool ran dry went back.
    assert_eq!(h.lma.pools().0.in_use(), 1);
    assert_eq!(h.count(), 1);
}

#[test]
fn max_sessions_reached_is_rejected_with_130() {
    let mut h = H::with_lma(|l| l.max_sessions = 1);
    h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).build());
    assert_eq!(pba(&out).status, status::INSUFFICIENT_RESOURCES);
}

#[test]
fn requested_prefix_outside_the_pools_or_not_a_64_is_rejected_with_155() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp("2001:db8:999::").build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    let bu = Pbu::new(DUAL)
        .no_hnp()
        .opt(crate::proto::MobilityOption::HomeNetworkPrefix { prefix_len: 56, prefix: v6("2001:db8:100:100::") })
        .build();
    assert_eq!(pba(&h.pbu(MAG1, bu)).status, status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
}

#[test]
fn static_prefix_is_only_for_its_owner_who_gets_it_for_an_all_zero_hnp() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(STATIC_HNP).build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    let s = h.attach(MAG1, STATIC4, 1);
    assert_eq!(s.hnps, [v6(STATIC_HNP)]);
    // Dynamic allocation never hands it out.
    for seq in 0..3 {
        assert_ne!(h.attach(MAG2, DUAL, seq).hnps, [v6(STATIC_HNP)]);
    }
}

#[test]
fn lifetime_extension_from_the_same_mag_updates_lifetime_and_sequence_without_reinstalling() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    h.advance(secs(100));
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(5)).seq(2).lifetime(50).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(pba(&out).lifetime, 50);
    assert!(installs(&out).is_empty());
    let now = h.session(s.id);
    assert_eq!((now.lifetime, now.expires, now.last_seq), (secs(200), h.now + secs(200), 2));
}

#[test]
fn handoff_moves_the_session_to_the_new_mag_and_reinstalls_it() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let moved = installs(&out)[0];
    assert_eq!((moved.id, moved.proxy_coa, moved.hnps.clone()), (s.id, ip(MAG2), s.hnps.clone()));
    assert_eq!(sent(&out)[0].1, ip(MAG2));
    assert_eq!(h.lma.counters().handoffs, 1);
}

#[test]
fn alternate_care_of_address_is_the_proxy_coa_of_the_session() {
    let mut h = H::new();
    let bu = Pbu::new(DUAL).opt(crate::proto::MobilityOption::AlternateCareOf(v6("2001:db8:7::1"))).build();
    let out = h.pbu(MAG1, bu);
    assert_eq!(installs(&out)[0].proxy_coa, ip("2001:db8:7::1"));
    // The PBA still goes to the PBU's source.
    assert_eq!(sent(&out)[0].1, ip(MAG1));
}

#[test]
fn pbu_with_lifetime_zero_deregisters_and_arms_min_delay_timer() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let prefix = s.hnps[0].to_string();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).lifetime(0).seq(2).build());
    let ba = pba(&out);
    assert_eq!((ba.status, ba.lifetime), (0, 0));
    assert_eq!(hnps_of(&ba.options), [(64, s.hnps[0])]);
    assert_eq!(removes(&out), [s.id]);
    assert_eq!(h.session(s.id).state, SessionState::Deprecated);
    assert_eq!(h.lma.next_deadline(), Some(h.now + secs(10)));
    // The prefix stays the session's while deprecated.
    let out = h.pbu(MAG2, Pbu::new(V6ONLY).hnp(&prefix).build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    // Deleted after MinDelayBeforeBCEDelete, without a second Remove.
    assert!(h.advance(millis(9999)).is_empty());
    let out = h.advance(millis(1));
    assert!(out.is_empty());
    assert!(h.lma.session(s.id).is_none());
    assert_eq!(h.lma.counters().sessions_deleted, 1);
    assert_eq!(h.lma.counters().sessions_expired, 0);
    // The prefix is reusable.
    assert_eq!(pba(&h.pbu(MAG2, Pbu::new(V6ONLY).hnp(&prefix).build())).status, 0);
}

#[test]
fn deregistration_from_another_mag_than_the_sessions_is_ignored_silently() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    // HI = 2 ties it to the session (A.4) but the Proxy-CoA differs.
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(2)).lifetime(0).seq(2).build());
    assert!(out.is_empty());
    assert_eq!(h.session(s.id).state, SessionState::Active);
    assert_eq!(h.lma.counters().pbu_ignored, 1);
}

#[test]
fn new_pbu_during_min_delay_before_bce_delete_cancels_the_deletion() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let prefix = s.hnps[0].to_string();
    h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).lifetime(0).seq(2).build());
    h.advance(secs(5));
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix).hi(Some(3)).seq(3).build());
    assert_eq!(pba(&out).status, 0);
    let back = installs(&out)[0];
    assert_eq!((back.id, back.state, back.proxy_coa), (s.id, SessionState::Active, ip(MAG2)));
    h.advance(secs(10));
    assert_eq!(h.session(s.id).state, SessionState::Active);
}

#[test]
fn repeated_deregistration_is_answered_and_keeps_the_first_deletion_deadline() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let prefix = s.hnps[0].to_string();
    h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).lifetime(0).seq(2).build());
    h.advance(secs(6));
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).lifetime(0).seq(3).build());
    assert_eq!(pba(&out).status, 0);
    assert!(removes(&out).is_empty());
    h.advance(secs(4));
    assert!(h.lma.session(s.id).is_none());
}

#[test]
fn session_expires_when_its_lifetime_runs_out_without_a_pba() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    assert!(h.advance(secs(399)).is_empty());
    let out = h.advance(secs(1));
    assert_eq!(out, [Output::Remove { id: s.id }]);
    assert_eq!(h.lma.counters().sessions_expired, 1);
    assert_eq!(h.lma.pools().0.in_use(), 0);
}

#[test]
fn refreshed_session_does_not_expire_at_its_first_lifetime() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    h.advance(secs(300));
    h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(2).build());
    assert!(h.advance(secs(200)).is_empty());
    assert!(h.lma.session(s.id).is_some());
    assert_eq!(h.lma.next_deadline(), Some(h.now + secs(200)));
}

#[test]
fn granted_lifetime_is_capped_by_the_lma_and_profile_maximum() {
    let mut h = H::with_lma(|l| l.max_lifetime = secs(100));
    let out = h.pbu(MAG1, Pbu::new(DUAL).lifetime(1000).build());
    assert_eq!(pba(&out).lifetime, 25);
    assert_eq!(installs(&out)[0].lifetime, secs(100));
    let out = h.pbu(MAG1, Pbu::new(SHORT).lifetime(1000).build());
    assert_eq!(pba(&out).lifetime, 10);
    // Never more than asked.
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).lifetime(3).build());
    assert_eq!(pba(&out).lifetime, 3);
}

#[test]
fn session_ids_are_unique_and_never_zero() {
    let mut h = H::new();
    let ids: Vec<u32> = (0..5).map(|i| h.attach(MAG1, DUAL, i).id).collect();
    assert!(!ids.contains(&0));
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 5);
}

#[test]
fn sessions_are_plain_ip_in_ip_without_gre_or_udp() {
    let mut h = H::new();
    assert_eq!(h.attach(MAG1, DUAL, 1).encap, Encap::IpIp);
}

#[test]
fn next_deadline_is_the_earliest_timer() {
    let mut h = H::new();
    assert_eq!(h.lma.next_deadline(), None);
    h.attach(MAG1, DUAL, 1);
    h.pbu(MAG1, Pbu::new(V6ONLY).lifetime(10).build());
    assert_eq!(h.lma.next_deadline(), Some(h.now + secs(40)));
}
