//! De-registration where the home agent is also the LMA (the extended home
//! link, PROTOCOLS.md §11.4): "any de-registration (from MAG or MN): do not
//! delete immediately; mark deprecated and delete after
//! MinDelayBeforeBCEDelete unless a related mobility message arrives
//! first". Without the LMA, RFC 6275 §10.3.2 deletes at once
//! (`registration::lifetime_zero_deregisters_and_removes_both_bindings`).

use super::*;
use crate::proto::status;

/// The test home agent with MinDelayBeforeBCEDelete 10 s.
fn with_delay() -> Harness {
    Harness::with(Ha6Config { deregistration_delay: Some(secs(10)), ..config() })
}

/// A registration of MN_HOA with an IPv4 home address: its ids and address.
fn registered(h: &mut Harness) -> (u32, u32, Ipv4Addr) {
    h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let r = h.ha.registration(v6(MN_HOA)).unwrap();
    let b4 = r.v4.as_ref().unwrap();
    let IpAddr::V4(a) = b4.hoa else { panic!() };
    (r.v6.id, b4.id, a)
}

#[test]
fn a_deregistration_deprecates_the_registration_until_min_delay_before_bce_delete() {
    let mut h = with_delay();
    let (v6_id, v4_id, a) = registered(&mut h);
    let out = h.send(Bu::new(MN_HOA, 2).lifetime(0).ipv4_hoa("0.0.0.0"));
    let b = ba(&out);
    assert_eq!((b.status, b.lifetime), (status::ACCEPTED, 0));
    // Nothing forwards any more; the node holds no address for the LMA.
    let mut gone = removes(&out);
    gone.sort();
    let mut want = [v6_id, v4_id];
    want.sort();
    assert_eq!(gone, want);
    assert_eq!(owned(&out), [(None, None)]);
    let r = h.ha.registration(v6(MN_HOA)).unwrap();
    assert!(r.deprecated);
    assert_eq!(r.forwarded(), (None, None));
    // Its address stays the node's while deprecated.
    assert!(h.ha.pool().is_in_use(a));
    assert_eq!(h.ha.registration_by_ipv4(a).map(|r| r.mn), Some(r.mn));
    assert_eq!(h.ha.counters().deregistrations, 1);
    // Deleted after MinDelayBeforeBCEDelete, silently, the address freed.
    assert!(h.advance(secs(9)).is_empty());
    assert!(h.ha.registration(v6(MN_HOA)).is_some());
    h.advance(secs(2));
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
    assert!(!h.ha.pool().is_in_use(a));
    assert_eq!(h.ha.counters().deleted_after_delay, 1);
    assert_eq!(h.ha.counters().expired, 0);
}

#[test]
fn a_binding_update_within_the_delay_revives_the_registration_with_its_ids_and_address() {
    let mut h = with_delay();
    let (v6_id, v4_id, a) = registered(&mut h);
    h.send(Bu::new(MN_HOA, 2).lifetime(0));
    h.now += secs(5);
    let out = h.send(Bu::new(MN_HOA, 3).ipv4_hoa("0.0.0.0"));
    let b = ba(&out);
    assert_eq!(b.status, status::ACCEPTED);
    assert_eq!(ipv4_ack(&b).map(|x| x.2), Some(a));
    let mut ids: Vec<u32> = installs(&out).iter().map(|b| b.id).collect();
    ids.sort();
    let mut want = [v6_id, v4_id];
    want.sort();
    assert_eq!(ids, want, "both bindings forward again");
    assert_eq!(owned(&out), [(Some(a), Some(v6(MN_HOA)))]);
    let r = h.ha.registration(v6(MN_HOA)).unwrap();
    assert!(!r.deprecated);
    assert_eq!(h.ha.counters().revived, 1);
    // It lives by its new lifetime, not the deletion delay.
    h.advance(secs(20));
    assert!(h.ha.registration(v6(MN_HOA)).is_some());
}

#[test]
fn a_stale_binding_update_does_not_revive_a_deprecated_registration() {
    let mut h = with_delay();
    registered(&mut h);
    h.send(Bu::new(MN_HOA, 2).lifetime(0));
    let out = h.send(Bu::new(MN_HOA, 2));
    let b = ba(&out);
    assert_eq!((b.status, b.seq), (status::SEQUENCE_NUMBER_OUT_OF_WINDOW, 2));
    assert!(installs(&out).is_empty());
    assert!(h.ha.registration(v6(MN_HOA)).unwrap().deprecated);
}

#[test]
fn a_repeated_deregistration_is_answered_and_keeps_the_first_ones_deletion_time() {
    let mut h = with_delay();
    registered(&mut h);
    h.send(Bu::new(MN_HOA, 2).lifetime(0));
    h.now += secs(6);
    let out = h.send(Bu::new(MN_HOA, 3).lifetime(0));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert_eq!(out.len(), 1, "only the BA: {out:?}");
    assert_eq!(h.ha.counters().deregistrations, 1);
    h.advance(secs(5));
    assert!(h.ha.registration(v6(MN_HOA)).is_none(), "deleted 10 s after the first");
}

#[test]
fn a_care_of_address_equal_to_the_home_address_deprecates_too() {
    let mut h = with_delay();
    let (v6_id, _, _) = registered(&mut h);
    let out = h.send(Bu::new(MN_HOA, 2).via(Via::Ipv6 { coa: v6(MN_HOA) }));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert!(removes(&out).contains(&v6_id));
    assert!(h.ha.registration(v6(MN_HOA)).unwrap().deprecated);
}
