//! §11.4: shadow BCEs of the extended home link
//! (draft-premec-mext-extended-home-link-00 §4.2, §5.2), the LMA side.
//!
//! The mobile node `DUAL` has a DSMIPv6 registration of its own holding
//! [`OWN4`] and [`OWN6`]; as the daemon does, the tests tell the LMA so and
//! hold [`OWN4`] in its pool for that registration.

use super::*;
use crate::pmip6::{Encap, SessionState};
use crate::proto::{br_flags, br_type, bra_status, hoa_reply_status, revocation_trigger};

/// The mobile node's own IPv4 home address (inside the LMA's pool subnet).
const OWN4: &str = "203.0.113.50";
/// The mobile node's own IPv6 home address, and its /64 (outside pools.hnp,
/// as the configuration requires of DSMIPv6 home addresses).
const OWN6: &str = "2001:db8:300::10";
const OWN_PREFIX: &str = "2001:db8:300::";

/// `h`'s LMA learns that `DUAL`'s own registration holds both addresses,
/// and the pool holds [`OWN4`] for it (the daemon's reservation).
fn owning(h: &mut H) {
    h.lma.set_mn_owned(DUAL, Some(v4(OWN4)), Some(v6(OWN6)));
    assert!(h.lma.pools_mut().1.reserve(v4(OWN4)));
}

fn owned_lma() -> H {
    let mut h = H::new();
    owning(&mut h);
    h
}

/// The IPv4-only home link walk-through (draft §4.2): the MAG asks for an
/// IPv4 home address only.
fn v4_pbu(seq: u16) -> BindingUpdate {
    Pbu::new(DUAL).no_hnp().v4("0.0.0.0").seq(seq).build()
}

/// The IPv6-only home link walk-through: the MAG asks for a prefix only.
fn v6_pbu(seq: u16) -> BindingUpdate {
    Pbu::new(DUAL).seq(seq).build()
}

/// The one session of `h`.
fn only(h: &H) -> Session {
    let all: Vec<Session> = h.lma.sessions().cloned().collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

/// Lets BRI retransmissions run out (InitMINDelayBRIs 1 s, then 2 s).
fn settle(h: &mut H) {
    for _ in 0..4 {
        h.advance(secs(1));
    }
}

fn bra(seq: u16, status: u8) -> BindingRevocation {
    BindingRevocation { br_type: br_type::BRA, trigger_or_status: status, seq, flags: br_flags::P, options: Vec::new() }
}

#[test]
fn shadow_state_is_named_shadow_and_counted_among_the_states() {
    assert_eq!(SessionState::Shadow.name(), "shadow");
    assert!(SessionState::ALL.contains(&SessionState::Shadow));
}

#[test]
fn pbu_for_an_ipv4_hoa_the_mn_holds_itself_creates_a_shadow_bce_with_that_address() {
    // Draft §4.2, IPv4-only home: v6HoA → v4HoA (by the MN), and the MAG's
    // PBU for an IPv4 home address gets the MN's own one, in a shadow BCE.
    let mut h = owned_lma();
    let out = h.pbu(MAG1, v4_pbu(1));
    let s = only(&h);
    assert_eq!(s.state, SessionState::Shadow);
    assert_eq!(s.ipv4_hoa, Some((v4(OWN4), 24, v4("203.0.113.1"))));
    assert!(s.hnps.is_empty());
    assert_eq!(s.proxy_coa, ip(MAG1));
    let ba = pba(&out);
    assert_eq!(ba.status, 0);
    assert_eq!(reply_of(&ba.options), Some((hoa_reply_status::SUCCESS, 24, v4(OWN4))));
    assert_eq!(h.lma.counters().shadows_created, 1);
}

#[test]
fn pbu_naming_the_mns_own_ipv4_hoa_creates_a_shadow_bce() {
    let mut h = owned_lma();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(reply_of(&pba(&out).options).map(|r| r.2), Some(v4(OWN4)));
    assert_eq!(only(&h).state, SessionState::Shadow);
}

#[test]
fn pbu_for_an_all_zero_hnp_creates_a_shadow_bce_with_the_mns_own_prefix() {
    // Draft §4.2, IPv6-only home: v4HoA → v6HoA (by the MN), and the MAG's
    // PBU for a prefix gets the /64 of the MN's own IPv6 home address.
    let mut h = owned_lma();
    let out = h.pbu(MAG1, v6_pbu(1));
    let s = only(&h);
    assert_eq!((s.state, s.hnps.clone(), s.ipv4_hoa), (SessionState::Shadow, vec![v6(OWN_PREFIX)], None));
    let ba = pba(&out);
    assert_eq!(ba.status, 0);
    assert_eq!(hnps_of(&ba.options), [(64, v6(OWN_PREFIX))]);
}

#[test]
fn pbu_naming_the_mns_own_prefix_creates_a_shadow_bce() {
    let mut h = owned_lma();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(OWN_PREFIX).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(hnps_of(&pba(&out).options), [(64, v6(OWN_PREFIX))]);
    assert_eq!(only(&h).state, SessionState::Shadow);
}

#[test]
fn shadow_bce_for_one_family_gets_the_other_family_from_the_pools() {
    // The MN holds only an IPv4 home address itself: a dual-stack PBU gets
    // it copied and a prefix from the pool, in one shadow BCE.
    let mut h = H::new();
    h.lma.set_mn_owned(DUAL, Some(v4(OWN4)), None);
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = only(&h);
    assert_eq!(s.state, SessionState::Shadow);
    assert_eq!(s.ipv4_hoa.map(|a| a.0), Some(v4(OWN4)));
    assert_eq!(s.hnps, [v6("2001:db8:100::")]);
    assert_eq!(hnps_of(&pba(&out).options), [(64, v6("2001:db8:100::"))]);
}

#[test]
fn pba_for_a_shadow_bce_is_the_pba_of_an_ordinary_registration_of_that_address() {
    // The MAG cannot tell: the same PBU, answered by an LMA where the MN
    // holds its static IPv4 home address itself and by one where it does
    // not, gets the same PBA.
    let pbu = Pbu::new(STATIC4).no_hnp().v4("0.0.0.0").build();
    let mut plain = H::new();
    let ordinary = plain.pbu(MAG1, pbu.clone());
    assert_eq!(installs(&ordinary).len(), 1);
    let mut h = H::new();
    h.lma.set_mn_owned(STATIC4, Some(v4(STATIC_HOA)), None);
    let shadow = h.pbu(MAG1, pbu);
    assert_eq!(only(&h).state, SessionState::Shadow);
    assert_eq!(pba(&shadow), pba(&ordinary));
    assert_eq!(sent(&shadow), sent(&ordinary));
}

#[test]
fn shadow_bce_is_not_forwarded() {
    let mut h = owned_lma();
    let out = h.pbu(MAG1, v4_pbu(1));
    assert!(installs(&out).is_empty(), "{out:?}");
    assert!(removes(&out).is_empty());
    let out = h.pbu(MAG2, v6_pbu(1));
    assert!(installs(&out).is_empty(), "{out:?}");
    assert_eq!(h.lma.sessions().filter(|s| s.state == SessionState::Shadow).count(), 2);
}

#[test]
fn shadow_bce_takes_its_address_from_the_mns_binding_not_from_the_pools() {
    let mut h = owned_lma();
    let in_use = |h: &H| (h.lma.pools().0.in_use(), h.lma.pools().1.in_use());
    let before = in_use(&h);
    h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    assert_eq!(in_use(&h), before);
    // Nor does it give the address back when it goes while the MN holds it.
    h.lma.revoke(DUAL, h.now).unwrap();
    settle(&mut h);
    assert_eq!(h.count(), 0);
    assert!(h.lma.pools().1.is_in_use(v4(OWN4)));
    assert_eq!(in_use(&h), before);
}

#[test]
fn refresh_of_a_shadow_bce_keeps_it_shadow_and_is_answered_normally() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    h.advance(secs(30));
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(2).build());
    let ba = pba(&out);
    assert_eq!((ba.status, ba.seq, ba.lifetime), (0, 2, 100));
    assert_eq!(reply_of(&ba.options).map(|r| r.2), Some(v4(OWN4)));
    assert!(installs(&out).is_empty() && removes(&out).is_empty(), "{out:?}");
    let s = only(&h);
    assert_eq!((s.state, s.last_seq), (SessionState::Shadow, 2));
    assert_eq!(s.expires, h.now + secs(400));
    // A handoff to another MAG keeps it a shadow too.
    let out = h.pbu(MAG2, Pbu::new(DUAL).no_hnp().v4(OWN4).hi(Some(2)).seq(3).build());
    assert_eq!(pba(&out).status, 0);
    assert!(installs(&out).is_empty(), "{out:?}");
    assert_eq!((only(&h).state, only(&h).proxy_coa), (SessionState::Shadow, ip(MAG2)));
}

#[test]
fn activate_shadow_makes_the_ipv4_shadow_bce_active_and_installs_it_towards_its_mag() {
    // Draft §4.2 end state: v4HoA → MAG Proxy-CoA (proxy, activated shadow).
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    let id = only(&h).id;
    let out = h.lma.activate_shadow(ip(OWN4), h.now, h.wall);
    let i = installs(&out);
    assert_eq!(i.len(), 1, "{out:?}");
    assert_eq!((i[0].id, i[0].state), (id, SessionState::Active));
    assert_eq!((i[0].proxy_coa, i[0].local, i[0].encap), (ip(MAG1), ip(LMAA), Encap::IpIp));
    assert_eq!(i[0].ipv4_hoa.map(|a| a.0), Some(v4(OWN4)));
    assert!(sent(&out).is_empty());
    assert_eq!(h.session(id).state, SessionState::Active);
    assert_eq!(h.lma.counters().shadows_activated, 1);
    // A refresh after that is an ordinary one: active, nothing to install.
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert!(installs(&out).is_empty());
    assert_eq!(h.session(id).state, SessionState::Active);
}

#[test]
fn activate_shadow_makes_the_ipv6_shadow_bce_active_by_any_address_of_its_prefix() {
    // Draft §4.2 IPv6-only end state: v6HoA/HNP → MAG (proxy).
    // Over IPv4 transport this time (RFC 5844), to a MAG with an IPv4
    // Proxy-CoA.
    let mut h = owned_lma();
    let out = h.pbu4(MAG4, 5436, v6_pbu(1));
    assert_eq!(pba(&out).status, 0);
    assert!(installs(&out).is_empty());
    let out = h.lma.activate_shadow(ip(OWN6), h.now, h.wall);
    let i = installs(&out);
    assert_eq!(i.len(), 1, "{out:?}");
    assert_eq!((i[0].hnps.clone(), i[0].proxy_coa), (vec![v6(OWN_PREFIX)], ip(MAG4)));
    assert_eq!(i[0].state, SessionState::Active);
}

#[test]
fn activate_shadow_for_another_address_does_nothing() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    for other in ["203.0.113.51", OWN6, "2001:db8:100::1"] {
        assert!(h.lma.activate_shadow(ip(other), h.now, h.wall).is_empty(), "{other}");
    }
    assert_eq!(only(&h).state, SessionState::Shadow);
    // Nor does activating an ordinary session's address.
    let s = h.attach(MAG2, V6ONLY, 1);
    assert!(h.lma.activate_shadow(IpAddr::V6(s.hnps[0]), h.now, h.wall).is_empty());
    // Once active it is no shadow any more: a second call does nothing.
    assert_eq!(installs(&h.lma.activate_shadow(ip(OWN4), h.now, h.wall)).len(), 1);
    assert!(h.lma.activate_shadow(ip(OWN4), h.now, h.wall).is_empty());
}

#[test]
fn shadow_bce_not_activated_within_shadow_timeout_is_revoked_with_a_bri_and_dropped_on_the_bra() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    let id = only(&h).id;
    assert!(bris(&h.advance(secs(89))).is_empty());
    let out = h.advance(secs(1));
    let b = bris(&out);
    assert_eq!(b.len(), 1, "{out:?}");
    let (src, dst, transport, m) = b[0];
    assert_eq!((src, dst, transport), (ip(LMAA), ip(MAG1), Transport::Ipv6));
    // The per-session BRI: MN-ID, and for an IPv4-only session V = 1 with
    // its IPv4 HoA Request; trigger 1 (the LMA's policy).
    assert_eq!(
        (m.br_type, m.trigger_or_status, m.flags),
        (br_type::BRI, revocation_trigger::ADMINISTRATIVE_REASON, br_flags::P | br_flags::V)
    );
    assert_eq!(mn_id_of(&m.options), Some((1, DUAL.as_bytes().to_vec())));
    assert!(m.options.contains(&MobilityOption::Ipv4HoaRequest { prefix_len: 24, addr: v4(OWN4) }));
    assert_eq!(h.lma.counters().shadows_revoked, 1);
    assert!(h.lma.session(id).is_some());
    // The MAG acknowledges: the shadow BCE goes (never installed: no Remove).
    let out = h.revocation(MAG1, bra(m.seq, bra_status::SUCCESS));
    assert!(removes(&out).is_empty(), "{out:?}");
    assert_eq!(h.count(), 0);
    assert_eq!(h.lma.counters().bra_received, 1);
}

#[test]
fn shadow_bce_is_dropped_after_its_bri_whatever_the_mag_answers_or_if_it_never_does() {
    let mut h = owned_lma();
    h.pbu(MAG1, v6_pbu(1));
    let out = h.advance(secs(90));
    let m = bris(&out)[0].3.clone();
    assert_eq!(hnps_of(&m.options), [(64, v6(OWN_PREFIX))]);
    h.revocation(MAG1, bra(m.seq, bra_status::BINDING_DOES_NOT_EXIST));
    assert_eq!(h.count(), 0);
    // No answer: one retransmission (BRIMaxRetriesNumber), then it goes.
    let mut h = owned_lma();
    h.pbu(MAG1, v6_pbu(1));
    h.advance(secs(90));
    assert_eq!(bris(&h.advance(secs(1))).len(), 1);
    h.advance(secs(2));
    assert_eq!(h.count(), 0);
    assert_eq!(h.lma.counters().bri_exhausted, 1);
}

#[test]
fn shadow_timeout_comes_from_the_configuration() {
    let mut h = H::with_lma(|l| l.shadow_timeout = secs(5));
    owning(&mut h);
    h.pbu(MAG1, v4_pbu(1));
    assert!(bris(&h.advance(secs(4))).is_empty());
    assert_eq!(bris(&h.advance(secs(1))).len(), 1);
}

#[test]
fn activated_shadow_bce_is_not_revoked_at_the_timeout() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    h.advance(secs(60));
    h.lma.activate_shadow(ip(OWN4), h.now, h.wall);
    assert!(bris(&h.advance(secs(60))).is_empty());
    assert_eq!(only(&h).state, SessionState::Active);
}

#[test]
fn shadow_bce_refreshed_while_its_bri_is_out_is_revoked_again() {
    // A refresh clears a revocation in progress (§6.1): a shadow past its
    // time gets a new BRI instead of living on unforwarded.
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    h.advance(secs(90));
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(bris(&out).len(), 1, "{out:?}");
    // Being revoked for its timeout, it is not activated any more.
    assert!(h.lma.activate_shadow(ip(OWN4), h.now, h.wall).is_empty());
}

#[test]
fn deregistration_of_a_shadow_bce_deprecates_it_until_min_delay_before_bce_delete() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(2).lifetime(0).build());
    assert_eq!((pba(&out).status, pba(&out).lifetime), (0, 0));
    assert!(removes(&out).is_empty(), "never installed: {out:?}");
    assert_eq!(only(&h).state, SessionState::Deprecated);
    h.advance(millis(9_999));
    assert_eq!(h.count(), 1);
    h.advance(millis(1));
    assert_eq!(h.count(), 0);
}

#[test]
fn deregistration_of_an_activated_shadow_bce_removes_its_forwarding_and_deletes_it_after_min_delay() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    let id = only(&h).id;
    h.lma.activate_shadow(ip(OWN4), h.now, h.wall);
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(2).lifetime(0).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(removes(&out), [id]);
    assert_eq!(only(&h).state, SessionState::Deprecated);
    h.advance(secs(10));
    assert_eq!(h.count(), 0);
}

#[test]
fn deprecated_shadow_bce_revived_by_a_pbu_is_a_shadow_again() {
    let mut h = owned_lma();
    h.pbu(MAG1, v4_pbu(1));
    h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(2).lifetime(0).build());
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4(OWN4).seq(3).build());
    assert_eq!(pba(&out).status, 0);
    assert!(installs(&out).is_empty(), "{out:?}");
    assert_eq!(only(&h).state, SessionState::Shadow);
}

#[test]
fn pbu_for_an_address_the_mn_does_not_hold_itself_is_handled_as_before() {
    // The MN holds only an IPv6 home address: its IPv4-only PBU gets a pool
    // address and forwarding; another MN is not affected at all.
    let mut h = H::new();
    h.lma.set_mn_owned(DUAL, None, Some(v6(OWN6)));
    let out = h.pbu(MAG1, v4_pbu(1));
    assert_eq!(reply_of(&pba(&out).options).map(|r| r.2), Some(v4("203.0.113.2")));
    assert_eq!(installs(&out)[0].state, SessionState::Active);
    let s = h.attach(MAG2, V6ONLY, 1);
    assert_eq!(s.state, SessionState::Active);
    // A prefix other than its own is not the MN's to take (155 as before).
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp("2001:db8:301::").build());
    assert_eq!(pba(&out).status, crate::proto::status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    assert_eq!(h.lma.counters().shadows_created, 0);
}

#[test]
fn clear_mn_owned_makes_later_pbus_ordinary() {
    let mut h = owned_lma();
    h.lma.clear_mn_owned(DUAL);
    let out = h.pbu(MAG1, v4_pbu(1));
    assert_eq!(pba(&out).status, 0);
    let i = installs(&out);
    assert_eq!(i.len(), 1);
    assert_eq!(i[0].state, SessionState::Active);
    assert_eq!(i[0].ipv4_hoa.map(|a| a.0), Some(v4("203.0.113.2")));
    // set_mn_owned with nothing is the same.
    let mut h = owned_lma();
    h.lma.set_mn_owned(DUAL, None, None);
    assert_eq!(installs(&h.pbu(MAG1, v6_pbu(1))).len(), 1);
}

#[test]
fn address_of_an_activated_shadow_stays_reserved_when_the_mns_binding_lets_it_go() {
    // A pool of five: .2 to .6. The MN's own binding holds .3; once the
    // shadow BCE is activated and the daemon ends the binding's reservation
    // (in either order), no other MN gets .3.
    let small = |c: &mut anchor_config::Config| c.pools.ipv4[0].subnet = "203.0.113.0/29".parse().unwrap();
    for release_first in [false, true] {
        let mut h = H::with(small);
        h.lma.set_mn_owned(DUAL, Some(v4("203.0.113.3")), None);
        assert!(h.lma.pools_mut().1.reserve(v4("203.0.113.3")));
        h.pbu(MAG1, v4_pbu(1));
        if release_first {
            h.lma.pools_mut().1.release(v4("203.0.113.3"));
            h.lma.activate_shadow(ip("203.0.113.3"), h.now, h.wall);
        } else {
            h.lma.activate_shadow(ip("203.0.113.3"), h.now, h.wall);
            h.lma.pools_mut().1.release(v4("203.0.113.3"));
        }
        let mut got = Vec::new();
        for (i, mn) in ["a@x", "b@x", "c@x", "d@x", "e@x"].iter().enumerate() {
            let out = h.pbu(MAG2, Pbu::new(mn).no_hnp().v4("0.0.0.0").seq(i as u16 + 1).build());
            got.push(reply_of(&pba(&out).options).map(|r| (pba(&out).status, r.2)));
        }
        let addrs: Vec<_> = got.iter().flatten().filter(|(st, _)| *st == 0).map(|(_, a)| *a).collect();
        assert_eq!(addrs, [v4("203.0.113.2"), v4("203.0.113.4"), v4("203.0.113.5"), v4("203.0.113.6")]);
        assert!(h.lma.pools().1.is_in_use(v4("203.0.113.3")));
        // When the session goes, the address goes back to the pool.
        h.lma.revoke("203.0.113.3", h.now).unwrap();
        settle(&mut h);
        assert!(!h.lma.pools().1.is_in_use(v4("203.0.113.3")), "release_first {release_first}");
    }
}

#[test]
fn shadow_bce_is_not_kept_by_the_session_store_until_it_is_activated() {
    // The mobile node's own DSMIPv6 binding is not kept across a restart, so
    // neither is the shadow that depends on it; activated, it is an
    // ordinary session and is kept.
    let mut h = owned_lma();
    h.lma.track_changes();
    h.pbu(MAG1, v4_pbu(1));
    let id = only(&h).id;
    let clock = crate::store::records::Clock::new(h.now, h.wall);
    assert_eq!(h.lma.take_changed(), [id]);
    assert!(h.lma.saved(id, clock).is_none());
    h.lma.activate_shadow(ip(OWN4), h.now, h.wall);
    assert_eq!(h.lma.take_changed(), [id]);
    assert!(h.lma.saved(id, clock).is_some_and(|s| s.active));
}
