//! The DSMIPv6 home agent's registrations through the session store's
//! records: saved, put back in a new home agent (a restart), expired ones
//! left out, the pool and the replay state as they were.

use std::net::IpAddr;
use std::time::Instant;

use super::super::tests::*;
use super::super::{Ha6Config, DSMIP6_PORT};
use super::*;
use crate::proto::status;

fn clock(h: &Harness) -> Clock {
    Clock::new(h.instant(), h.wall())
}

/// Every registration of `h` as saved.
fn saved_all(h: &Harness) -> Vec<SavedRegistration6> {
    let c = clock(h);
    let mut all: Vec<_> = h.ha.registrations().filter_map(|r| h.ha.saved(r.v6.id, c)).collect();
    all.sort_by_key(|s| s.id);
    all
}

/// A home agent started again on the same config, `later` after `h`'s
/// clock, with `saved` restored.
fn restarted(h: &Harness, saved: Vec<SavedRegistration6>, later: Duration) -> (Harness, Vec<Restored>) {
    let mut n = Harness::new();
    n.now = h.now + later;
    n.mesg_seq = h.mesg_seq;
    // Another monotonic origin, the same time of day.
    n.t0 = Instant::now() + Duration::from_secs(1000);
    let c = clock(&n);
    let r = saved.into_iter().map(|s| n.ha.restore(s, c)).collect();
    (n, r)
}

#[test]
fn every_committed_change_is_noted_once_changes_are_tracked() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1));
    assert!(h.ha.take_changed().is_empty(), "nothing noted before tracking starts");
    h.ha.track_changes();
    h.send(Bu::new(ANON_HOA, 1).ipv4_hoa("0.0.0.0"));
    let id = h.ha.registration(v6(ANON_HOA)).unwrap().v6.id;
    assert_eq!(h.ha.take_changed(), vec![id]);
    // A refused BU changes nothing.
    h.send(Bu::new(ANON_HOA, 1));
    assert!(h.ha.take_changed().is_empty());
    // A renewal, a handoff, a de-registration: each noted.
    h.send(Bu::new(ANON_HOA, 2).ipv4_hoa("0.0.0.0"));
    assert_eq!(h.ha.take_changed(), vec![id]);
    h.send(Bu::new(ANON_HOA, 3).lifetime(0));
    assert_eq!(h.ha.take_changed(), vec![id]);
    assert_eq!(h.ha.saved(id, clock(&h)), None, "gone: the store deletes it");
    // Expiry too.
    let mn = h.ha.registration(v6(MN_HOA)).unwrap().v6.id;
    h.advance(secs(401));
    assert_eq!(h.ha.take_changed(), vec![mn]);
}

#[test]
fn a_restored_registration_is_the_saved_one_with_its_lifetime_left_and_forwards_again() {
    let mut h = Harness::new();
    h.send(Bu::udp(MN_HOA, 7).ipv4_hoa("0.0.0.0"));
    h.send(Bu::new(ANON_HOA, 3));
    let before: Vec<Registration> = {
        let mut r: Vec<_> = h.ha.registrations().cloned().collect();
        r.sort_by_key(|r| r.v6.id);
        r
    };
    let saved = saved_all(&h);
    assert_eq!(saved.len(), 2);
    let (n, restored) = restarted(&h, saved, secs(100));
    for (r, old) in restored.iter().zip(&before) {
        let Restored::Active(r) = r else { panic!("not restored: {r:?}") };
        assert_eq!(
            (r.mn, r.seq, r.care_of, r.home, &r.v6, &r.v4),
            (old.mn, old.seq, old.care_of, old.home, &old.v6, &old.v4)
        );
        assert_eq!(r.lifetime, old.lifetime);
        let left = r.expires.saturating_duration_since(n.instant());
        assert!(left <= secs(300) && left >= secs(299), "lifetime left {left:?}");
    }
    let reg = n.ha.registration(v6(MN_HOA)).unwrap();
    let IpAddr::V4(a) = reg.v4.as_ref().unwrap().hoa else { panic!() };
    assert_eq!(n.ha.registration_by_ipv4(a).map(|r| r.mn), Some(reg.mn), "the IPv4 index is back");
    assert!(n.ha.pool().is_in_use(a), "the restored IPv4 home address is out of the pool");
}

#[test]
fn the_pool_never_hands_out_a_restored_ipv4_home_address() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let IpAddr::V4(held) = h.ha.registration(v6(MN_HOA)).unwrap().v4.as_ref().unwrap().hoa else { panic!() };
    let (mut n, _) = restarted(&h, saved_all(&h), secs(1));
    // Another node asks for any address: not the restored one.
    let out = n.send(Bu::new(ANON_HOA, 1).ipv4_hoa("0.0.0.0"));
    let (st, _, got) = ipv4_ack(&ba(&out)).unwrap();
    assert_eq!(st, 0);
    assert_ne!(got, held);
    // And asking for it by name is refused (another node's).
    let out = n.send(Bu::new(STATIC_HOA, 1).ipv4_hoa(&held.to_string()));
    assert_ne!(ipv4_ack(&ba(&out)).unwrap().0, 0);
}

#[test]
fn an_expired_registration_is_not_restored_and_holds_nothing() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let IpAddr::V4(a) = h.ha.registration(v6(MN_HOA)).unwrap().v4.as_ref().unwrap().hoa else { panic!() };
    let (n, restored) = restarted(&h, saved_all(&h), secs(401));
    assert_eq!(restored, vec![Restored::Expired]);
    assert_eq!(n.ha.registrations().count(), 0);
    assert!(!n.ha.pool().is_in_use(a));
}

#[test]
fn a_restored_registration_goes_on_with_its_sequence_number_and_replay_state() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 10));
    let last = h.mesg_seq;
    let (mut n, _) = restarted(&h, saved_all(&h), secs(1));
    // RFC 6275 §9.5.1: not newer than the restored 10 → 135 carrying 10.
    let b = ba(&n.send(Bu::new(MN_HOA, 10)));
    assert_eq!((b.status, b.seq), (status::SEQUENCE_NUMBER_OUT_OF_WINDOW, 10));
    // RFC 4285: the last accepted MESG-ID is remembered: the same again is 144.
    let old = crate::dsmip6::ntp_of(h.wall()) + last;
    let b = ba(&n.send(Bu::new(MN_HOA, 11).mesg_id(MesgId::Value(old))));
    assert_eq!(b.status, status::MIPV6_ID_MISMATCH);
    // A renewal is a renewal (same binding, nothing reinstalled).
    let out = n.send(Bu::new(MN_HOA, 12));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert!(installs(&out).is_empty(), "{out:?}");
    assert_eq!(n.ha.counters().renewals, 1);
}

#[test]
fn new_bindings_after_a_restore_get_ids_not_in_use() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let (mut n, _) = restarted(&h, saved_all(&h), secs(1));
    let out = n.send(Bu::new(ANON_HOA, 1).ipv4_hoa("0.0.0.0"));
    let reg = n.ha.registration(v6(MN_HOA)).unwrap();
    let old: Vec<u32> = std::iter::once(reg.v6.id).chain(reg.v4.as_ref().map(|b| b.id)).collect();
    for b in installs(&out) {
        assert!(!old.contains(&b.id), "id {} reused", b.id);
    }
}

#[test]
fn a_registration_of_a_node_no_longer_configured_or_renamed_is_a_conflict() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1));
    let mut saved = saved_all(&h);
    saved[0].mn_id = "other@anchor.test".into();
    let (_, r) = restarted(&h, saved.clone(), secs(1));
    assert_eq!(r, vec![Restored::Conflict("mobile node")]);
    saved[0].hoa = v6(STRANGER_HOA);
    let (_, r) = restarted(&h, saved, secs(1));
    assert_eq!(r, vec![Restored::Conflict("mobile node")]);
    // Twice the same: the second clashes.
    let twice = vec![saved_all(&h)[0].clone(), saved_all(&h)[0].clone()];
    let (_, r) = restarted(&h, twice, secs(1));
    assert!(matches!(r[0], Restored::Active(_)) && r[1] == Restored::Conflict("registration"));
}

#[test]
fn a_node_at_its_ipv4_home_is_restored_at_home() {
    let mut h = Harness::new();
    h.send(Bu::udp(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let IpAddr::V4(a) = h.ha.registration(v6(MN_HOA)).unwrap().v4.as_ref().unwrap().hoa else { panic!() };
    h.send(Bu::udp(MN_HOA, 2).via(Via::Udp4 { coa: Some(a), src: a, port: DSMIP6_PORT }).ipv4_hoa(&a.to_string()));
    assert_eq!(h.ha.registration(v6(MN_HOA)).unwrap().home, Home::Ipv4);
    let (n, r) = restarted(&h, saved_all(&h), secs(1));
    let Restored::Active(reg) = &r[0] else { panic!("{r:?}") };
    assert_eq!(reg.home, Home::Ipv4);
    assert!(reg.v6.tunnel.nested);
    assert_eq!(n.ha.registration(v6(MN_HOA)).unwrap().forwarded(), (None, Some(v6(MN_HOA))));
}

#[test]
fn a_deprecated_registration_is_restored_deprecated_and_deleted_at_its_time() {
    let mut h = Harness::with(Ha6Config { deregistration_delay: Some(secs(10)), ..config() });
    h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    h.send(Bu::new(MN_HOA, 2).lifetime(0));
    let saved = saved_all(&h);
    assert!(saved[0].deprecated);
    let (mut n, r) = restarted(&h, saved, secs(3));
    let Restored::Active(reg) = &r[0] else { panic!("{r:?}") };
    assert!(reg.deprecated);
    assert_eq!(reg.forwarded(), (None, None), "nothing to install");
    n.advance(secs(8));
    assert!(n.ha.registration(v6(MN_HOA)).is_none());
}
