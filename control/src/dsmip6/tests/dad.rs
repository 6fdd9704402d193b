//! RFC 6275 §10.3.1: duplicate address detection of a home address on a
//! home link before the Binding Acknowledgement (134 when it fails).

use super::*;
use crate::dsmip6::Home;
use crate::proto::{ipv4_ack_status, status};

/// The test home agent with 2001:db8:100::/64 (every test node's IPv6 home
/// address) as a home link.
fn on_home_link() -> Harness {
    Harness::with(Ha6Config { home_links: vec![(v6("2001:db8:100::"), 64)], ..config() })
}

fn dads(out: &[Output]) -> Vec<Ipv6Addr> {
    out.iter()
        .filter_map(|o| match o {
            Output::Dad { addr } => Some(*addr),
            _ => None,
        })
        .collect()
}

/// The DAD result for `addr`, as the control loop reports it.
fn dad_done(h: &mut Harness, addr: &str, unique: bool) -> Vec<Output> {
    let (now, wall) = (h.instant(), h.wall());
    h.ha.dad_done(v6(addr), unique, now, wall)
}

#[test]
fn a_home_address_on_a_home_link_waits_for_dad_and_is_accepted_when_unique() {
    let mut h = on_home_link();
    let out = h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    // Nothing but the DAD request: no BA, nothing installed or owned yet.
    assert_eq!(out, vec![Output::Dad { addr: v6(MN_HOA) }]);
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
    assert!(h.ha.next_deadline().is_some(), "the wait has a deadline");
    h.now += secs(1);
    let out = dad_done(&mut h, MN_HOA, true);
    // Run again with the result: the MESG-ID it was accepted with is not
    // a replay of itself.
    let b = ba(&out);
    assert_eq!((b.status, b.seq), (status::ACCEPTED, 1));
    assert_eq!(ipv4_ack(&b).map(|a| a.0), Some(ipv4_ack_status::SUCCESS));
    assert_eq!(installs(&out).len(), 2);
    assert!(h.ha.registration(v6(MN_HOA)).is_some());
    assert_eq!(h.ha.counters().dad_started, 1);
    assert_eq!(h.ha.counters().registrations_created, 1);
}

#[test]
fn a_home_address_another_node_holds_is_134_and_nothing_is_installed() {
    let mut h = on_home_link();
    h.send(Bu::new(MN_HOA, 1).ipv4_hoa("0.0.0.0"));
    let in_use_before = h.ha.pool().in_use();
    let out = dad_done(&mut h, MN_HOA, false);
    let b = ba(&out);
    assert_eq!((b.status, b.seq, b.lifetime), (status::DUPLICATE_ADDRESS_DETECTION_FAILED, 1, 0));
    assert!(ipv4_ack(&b).is_none(), "no IPv4 part on a refusal");
    assert_eq!(out.len(), 1, "only the BA: {out:?}");
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
    assert_eq!(h.ha.pool().in_use(), in_use_before, "no IPv4 home address taken");
    assert_eq!(h.ha.counters().dad_duplicates, 1);
    // The node tries again: a new DAD.
    let out = h.send(Bu::new(MN_HOA, 2));
    assert_eq!(dads(&out), [v6(MN_HOA)]);
}

#[test]
fn a_renewal_or_a_move_of_a_defended_home_address_does_not_wait_for_dad() {
    let mut h = on_home_link();
    h.send(Bu::new(MN_HOA, 1));
    dad_done(&mut h, MN_HOA, true);
    let out = h.send(Bu::new(MN_HOA, 2));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    let out = h.send(Bu::new(MN_HOA, 3).via(Via::Ipv6 { coa: v6(COA2) }));
    assert_eq!(ba(&out).status, status::ACCEPTED);
    assert!(dads(&out).is_empty());
    assert_eq!(h.ha.counters().dad_started, 1);
}

#[test]
fn a_newer_binding_update_while_dad_runs_starts_no_second_dad_and_is_the_one_answered() {
    let mut h = on_home_link();
    assert_eq!(dads(&h.send(Bu::new(MN_HOA, 1))), [v6(MN_HOA)]);
    let out = h.send(Bu::new(MN_HOA, 2));
    assert!(out.is_empty(), "{out:?}");
    let b = ba(&dad_done(&mut h, MN_HOA, true));
    assert_eq!((b.status, b.seq), (status::ACCEPTED, 2));
    assert_eq!(h.ha.counters().dad_started, 1);
    // A second result for the same address finds nobody waiting.
    assert!(dad_done(&mut h, MN_HOA, true).is_empty());
}

#[test]
fn a_binding_update_waiting_for_dad_is_dropped_when_no_result_comes_in_time() {
    let mut h = on_home_link();
    h.send(Bu::new(MN_HOA, 1));
    assert!(h.advance(secs(11)).is_empty());
    assert_eq!(h.ha.counters().dad_timeouts, 1);
    assert!(dad_done(&mut h, MN_HOA, true).is_empty(), "nobody waits any more");
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
}

#[test]
fn a_de_registration_while_dad_runs_drops_the_waiting_binding_update() {
    let mut h = on_home_link();
    h.send(Bu::new(MN_HOA, 1));
    let b = ba(&h.send(Bu::new(MN_HOA, 2).lifetime(0)));
    assert_eq!(b.status, status::NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE);
    assert!(dad_done(&mut h, MN_HOA, true).is_empty());
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
}

#[test]
fn a_refused_binding_update_does_not_start_dad() {
    let mut h = on_home_link();
    let out = h.send(Bu::new(MN_HOA, 1).auth(Auth::WrongKey));
    assert_eq!(ba(&out).status, status::MIPV6_AUTH_FAIL);
    assert!(dads(&out).is_empty());
}

#[test]
fn a_home_address_off_the_home_links_is_accepted_at_once() {
    let mut h = Harness::with(Ha6Config { home_links: vec![(v6("2001:db8:999::"), 64)], ..config() });
    let out = h.send(Bu::new(MN_HOA, 1));
    assert!(dads(&out).is_empty());
    assert_eq!(ba(&out).status, status::ACCEPTED);
}

#[test]
fn a_node_at_its_ipv6_home_is_not_checked_it_holds_the_address_itself() {
    let mut h = on_home_link();
    let out = h.send(Bu::new(STATIC_HOA, 1).via(Via::Ipv6 { coa: v6(STATIC_HOA) }).ipv4_hoa(STATIC_V4));
    assert!(dads(&out).is_empty());
    assert_eq!(ba(&out).status, status::ACCEPTED);
    // Leaving home: the home agent starts defending the address, after DAD.
    let out = h.send(Bu::new(STATIC_HOA, 2).ipv4_hoa(STATIC_V4));
    assert_eq!(dads(&out), [v6(STATIC_HOA)]);
    let b = ba(&dad_done(&mut h, STATIC_HOA, true));
    assert_eq!(b.status, status::ACCEPTED);
    assert_eq!(h.ha.registration(v6(STATIC_HOA)).unwrap().home, Home::Away);
}
