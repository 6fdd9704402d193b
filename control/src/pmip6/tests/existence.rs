//! §3.3 (and §4.5): the BCE existence test, including the HI = 4 hold.

use super::*;
use crate::proto::{br_flags, br_type, bra_status, revocation_trigger, status};

const LL: &[u8] = &[0, 0x11, 0x22, 0x33, 0x44, 0x55];
const LL2: &[u8] = &[0, 0x11, 0x22, 0x33, 0x44, 0x66];

fn prefix(s: &Session) -> String {
    s.hnps[0].to_string()
}

#[test]
fn case_a_free_prefix_of_the_pool_is_a_new_session_with_that_prefix() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp("2001:db8:100:42::").build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].hnps, [v6("2001:db8:100:42::")]);
    assert_eq!(hnps_of(&pba(&out).options), [(64, v6("2001:db8:100:42::"))]);
}

#[test]
fn case_a_prefix_owned_by_another_mn_is_rejected_with_155() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(V6ONLY).hnp(&prefix(&s)).build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    assert_eq!(h.count(), 1);
}

#[test]
fn case_a_prefix_set_different_from_the_sessions_is_rejected_with_159() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnps(&["::", "::"]).build());
    let s = installs(&out)[0].clone();
    // One of the two prefixes only.
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(2).build());
    assert_eq!(pba(&out).status, status::BCE_PBU_PREFIX_SET_DO_NOT_MATCH);
    // The two plus an ALL_ZERO one.
    let both: Vec<String> = s.hnps.iter().map(|p| p.to_string()).collect();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnps(&[&both[0], &both[1], "::"]).seq(3).build());
    assert_eq!(pba(&out).status, status::BCE_PBU_PREFIX_SET_DO_NOT_MATCH);
    // The same two (in another order) match.
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnps(&[&both[1], &both[0]]).seq(4).build());
    assert_eq!(pba(&out).status, 0);
}

#[test]
fn case_a_same_proxy_coa_and_att_updates_the_session() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix(&s)).hi(Some(5)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 1);
    assert_eq!(h.session(s.id).last_seq, 2);
}

#[test]
fn case_a_same_mn_ll_id_and_att_from_another_mag_is_a_handoff() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).ll(LL).build());
    let s = installs(&out)[0].clone();
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix(&s)).ll(LL).hi(Some(1)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG2));
    assert_eq!(h.count(), 1);
}

#[test]
fn case_a_hi_2_from_another_mag_is_a_handoff_even_with_another_att() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix(&s)).hi(Some(2)).att(Some(8)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let now = h.session(s.id);
    assert_eq!((now.proxy_coa, now.att), (ip(MAG2), 8));
}

#[test]
fn case_a_hi_3_without_mn_ll_id_and_the_same_att_is_a_handoff() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix(&s)).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG2));
}

#[test]
fn case_a_without_a_matching_rule_is_a_new_session_which_cannot_take_the_prefix() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    // HI = 3 but another ATT: no rule of A.4 holds → new session, whose
    // requested prefix belongs to the existing one → 155.
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix(&s)).hi(Some(3)).att(Some(8)).build());
    assert_eq!(pba(&out).status, status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG1));
}

#[test]
fn case_b_matching_mn_id_att_and_mn_ll_id_is_the_existing_session() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).ll(LL).build()))[0].clone();
    let out = h.pbu(MAG2, Pbu::new(DUAL).ll(LL).hi(Some(3)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 1);
    let now = h.session(s.id);
    assert_eq!((now.proxy_coa, now.hnps.clone()), (ip(MAG2), s.hnps.clone()));
    // The prefixes the session keeps are in the PBA.
    assert_eq!(hnps_of(&pba(&out).options), [(64, s.hnps[0])]);
}

#[test]
fn case_b_hi_2_with_the_only_session_of_the_mn_is_that_session() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).ll(LL).build()))[0].clone();
    let out = h.pbu(MAG2, Pbu::new(DUAL).ll(LL2).att(Some(8)).hi(Some(2)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 1);
    assert_eq!(h.session(s.id).mn_ll_id, LL2);
}

#[test]
fn case_b_without_a_match_is_a_new_session() {
    let mut h = H::new();
    h.pbu(MAG1, Pbu::new(DUAL).ll(LL).build());
    let out = h.pbu(MAG2, Pbu::new(DUAL).ll(LL2).hi(Some(3)).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 2);
}

#[test]
fn case_c_hi_2_or_3_with_the_only_session_of_the_mn_is_that_session() {
    for hi in [2, 3] {
        let mut h = H::new();
        let s = h.attach(MAG1, DUAL, 1);
        let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(hi)).seq(2).build());
        assert_eq!(pba(&out).status, 0);
        assert_eq!(h.count(), 1);
        assert_eq!(h.session(s.id).proxy_coa, ip(MAG2));
    }
}

#[test]
fn case_c_hi_1_or_5_is_a_new_session() {
    for hi in [1, 5] {
        let mut h = H::new();
        h.attach(MAG1, DUAL, 1);
        let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(hi)).build());
        assert_eq!(pba(&out).status, 0);
        assert_eq!(h.count(), 2);
    }
}

#[test]
fn case_c_with_two_sessions_of_the_mn_makes_hi_3_a_new_session() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    h.attach(MAG1, DUAL, 2);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(3)).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 3);
}

#[test]
fn lifetime_zero_pbu_not_tied_to_a_session_is_ignored_silently() {
    let mut h = H::new();
    // Case C, no session.
    assert!(h.pbu(MAG1, Pbu::new(DUAL).lifetime(0).build()).is_empty());
    // Case A, unknown prefix.
    assert!(h.pbu(MAG1, Pbu::new(DUAL).hnp("2001:db8:100:9::").lifetime(0).build()).is_empty());
    // Case B, no match.
    assert!(h.pbu(MAG1, Pbu::new(DUAL).ll(LL).lifetime(0).build()).is_empty());
    assert_eq!(h.lma.counters().pbu_ignored, 3);
}

#[test]
fn hi_4_pbu_is_held_and_a_bri_with_trigger_4_goes_to_the_old_mag() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).build());
    assert!(pbas(&out).is_empty());
    let b = bris(&out);
    assert_eq!(b.len(), 1);
    let (src, dst, _, bri) = b[0];
    assert_eq!((src, dst), (ip(LMAA), ip(MAG1)));
    assert_eq!(bri.trigger_or_status, revocation_trigger::INTER_MAG_HANDOVER_UNKNOWN);
    assert_eq!(h.lma.counters().pbu_held, 1);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG1));
    // The first timer is the BRI's retransmission (InitMINDelayBRIs).
    assert_eq!(h.lma.next_deadline(), Some(h.now + millis(1000)));
}

#[test]
fn retransmissions_of_a_held_pbu_are_absorbed() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).build());
    h.advance(millis(1000));
    assert!(h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).build()).is_empty());
    assert_eq!(h.lma.counters().pbu_absorbed, 1);
    // One answer when the hold ends.
    let out = h.advance(millis(500));
    assert_eq!(pbas(&out).len(), 1);
}

#[test]
fn held_pbu_becomes_a_new_session_after_max_delay_before_new_bce_assign() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).seq(9).build());
    assert!(pbas(&h.advance(millis(1499))).is_empty());
    let out = h.advance(millis(1));
    let ba = pba(&out);
    assert_eq!((ba.status, ba.seq), (0, 9));
    let new = installs(&out)[0];
    assert_ne!(new.id, s.id);
    assert_eq!(new.proxy_coa, ip(MAG2));
    assert_ne!(new.hnps, s.hnps);
    assert_eq!(h.count(), 2);
}

#[test]
fn old_mags_deregistration_during_the_hold_turns_the_held_pbu_into_a_handoff() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).seq(5).build());
    h.advance(millis(300));
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix(&s)).lifetime(0).seq(2).build());
    let answers = sent(&out);
    // The old MAG's de-registration is accepted, then the held PBU.
    let p = pbas(&out);
    assert_eq!(p.len(), 2);
    assert_eq!((answers[0].1, p[0].status, p[0].lifetime), (ip(MAG1), 0, 0));
    assert_eq!((p[1].status, p[1].seq, p[1].lifetime), (0, 5, 100));
    assert!(sent(&out).iter().any(|(_, dst, _, m)| *dst == ip(MAG2) && matches!(m, MhMessage::BindingAck(_))));
    let now = h.session(s.id);
    assert_eq!((now.proxy_coa, now.state, now.hnps.clone()), (ip(MAG2), super::super::SessionState::Active, s.hnps));
    assert_eq!(h.count(), 1);
    // The hold timer is gone: nothing more happens at 1.5 s.
    assert!(pbas(&h.advance(millis(1500))).is_empty());
}

fn bra(seq: u16, status: u8) -> BindingRevocation {
    BindingRevocation { br_type: br_type::BRA, trigger_or_status: status, seq, flags: br_flags::P, options: Vec::new() }
}

#[test]
fn bra_success_for_the_hi_4_bri_turns_the_held_pbu_into_a_handoff() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).build());
    let seq = bris(&out)[0].3.seq;
    let out = h.revocation(MAG1, bra(seq, bra_status::SUCCESS));
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG2));
    assert_eq!(h.count(), 1);
}

#[test]
fn bra_132_for_the_hi_4_bri_gives_the_held_pbu_a_new_session_and_keeps_the_old_one() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).build());
    let seq = bris(&out)[0].3.seq;
    let out = h.revocation(MAG1, bra(seq, bra_status::REVOCATION_FAILED_MN_IS_ATTACHED));
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 2);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG1));
    // No more BRI retransmissions for the old session.
    assert!(bris(&h.advance(secs(5))).is_empty());
    assert!(h.lma.session(s.id).is_some());
}

#[test]
fn zero_max_delay_before_new_bce_assign_creates_the_session_at_once_for_hi_4() {
    let mut h = H::with_lma(|l| l.max_delay_before_new_bce_assign = Duration::ZERO);
    h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hi(Some(4)).build());
    assert_eq!(pba(&out).status, 0);
    assert!(bris(&out).is_empty());
    assert_eq!(h.count(), 2);
}

#[test]
fn case_a_hi_4_hold_ends_in_a_handoff_because_the_prefixes_are_the_sessions() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&prefix(&s)).att(Some(8)).hi(Some(4)).build());
    assert!(pbas(&out).is_empty());
    let out = h.advance(millis(1500));
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 1);
    assert_eq!(h.session(s.id).proxy_coa, ip(MAG2));
}

#[test]
fn case_b_hi_4_with_the_only_session_of_the_mn_holds() {
    let mut h = H::new();
    h.pbu(MAG1, Pbu::new(DUAL).ll(LL).build());
    let out = h.pbu(MAG2, Pbu::new(DUAL).ll(LL2).hi(Some(4)).build());
    assert!(pbas(&out).is_empty());
    assert_eq!(h.lma.counters().pbu_held, 1);
}

#[test]
fn hi_4_from_the_sessions_own_mag_does_not_wait() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    let out = h.pbu(MAG1, Pbu::new(DUAL).hi(Some(4)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.lma.counters().pbu_held, 0);
}

#[test]
fn ipv4_hoa_key_of_another_mn_is_rejected_with_171_and_reply_129() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().v4("0.0.0.0").build());
    let hoa = installs(&out)[0].ipv4_hoa.unwrap().0;
    let out = h.pbu(MAG2, Pbu::new(V4ONLY).no_hnp().v4(&hoa.to_string()).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS);
    assert_eq!(reply_of(&ba.options), Some((129, 32, hoa)));
}

#[test]
fn ipv4_hoa_key_of_the_same_mn_from_the_same_mag_updates_the_session() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    let hoa = s.ipv4_hoa.unwrap().0;
    let out = h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4(&hoa.to_string()).hi(Some(5)).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 1);
    assert_eq!(h.session(s.id).last_seq, 2);
}
