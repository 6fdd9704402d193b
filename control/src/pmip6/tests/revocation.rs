//! §6: Binding Revocation (RFC 5846).

use super::*;
use crate::proto::{br_flags, br_type, bra_status, revocation_trigger, MobilityOption};

fn bri(trigger: u8, flags: u16, options: Vec<MobilityOption>) -> BindingRevocation {
    BindingRevocation { br_type: br_type::BRI, trigger_or_status: trigger, seq: 77, flags, options }
}

fn bra(seq: u16, status: u8) -> BindingRevocation {
    BindingRevocation { br_type: br_type::BRA, trigger_or_status: status, seq, flags: br_flags::P, options: Vec::new() }
}

fn mn(id: &str) -> MobilityOption {
    MobilityOption::MnIdentifier { subtype: 1, id: id.as_bytes().to_vec() }
}

fn hnp(prefix: Ipv6Addr) -> MobilityOption {
    MobilityOption::HomeNetworkPrefix { prefix_len: 64, prefix }
}

/// The BRA in `out`: (destination, message).
fn the_bra(out: &[Output]) -> (IpAddr, &BindingRevocation) {
    let b = bris(out);
    assert_eq!(b.len(), 1, "{out:?}");
    (b[0].1, b[0].3)
}

#[test]
fn revoke_sends_a_bri_with_trigger_1_p_and_the_mn_id_to_the_sessions_mag() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.lma.revoke(DUAL, h.now).unwrap();
    let b = bris(&out);
    assert_eq!(b.len(), 1);
    let (src, dst, transport, m) = b[0];
    assert_eq!((src, dst, transport), (ip(LMAA), ip(MAG1), Transport::Ipv6));
    assert_eq!(
        (m.br_type, m.trigger_or_status, m.flags),
        (br_type::BRI, revocation_trigger::ADMINISTRATIVE_REASON, br_flags::P)
    );
    assert_eq!(mn_id_of(&m.options), Some((1, DUAL.as_bytes().to_vec())));
    // Revoked by MN-ID: the MN-ID alone names all its bindings at the MAG.
    assert_eq!(m.options.len(), 1);
    // Forwarding stays until the revocation completes.
    assert!(removes(&out).is_empty());
    assert!(h.lma.session(s.id).is_some());
    assert_eq!(h.lma.counters().bri_sent, 1);
}

#[test]
fn revoke_names_the_session_by_its_hnps_when_the_mn_has_several() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    h.attach(MAG1, DUAL, 2);
    let out = h.lma.revoke(&a.hnps[0].to_string(), h.now).unwrap();
    let b = bris(&out);
    assert_eq!(b.len(), 1);
    assert_eq!(hnps_of(&b[0].3.options), [(64, a.hnps[0])]);
}

#[test]
fn bri_revoking_one_session_carries_the_mn_id_and_every_hnp_of_that_session() {
    // RFC 5846 §6.1 (PROTOCOLS.md §2.6): the HNP option is mandatory when a
    // BRI revokes one PMIPv6 BCE, even when it is the MN's only one; the
    // IPv4 HoA Request option belongs to V = 1 BRIs only.
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnps(&["::", "::"]).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    assert_eq!(s.hnps.len(), 2);
    let out = h.lma.revoke(&s.id.to_string(), h.now).unwrap();
    let b = bris(&out);
    assert_eq!(b.len(), 1);
    let m = b[0].3;
    assert_eq!(m.flags, br_flags::P);
    assert_eq!(mn_id_of(&m.options), Some((1, DUAL.as_bytes().to_vec())));
    assert_eq!(hnps_of(&m.options), [(64, s.hnps[0]), (64, s.hnps[1])]);
    assert_eq!(m.options.len(), 3);
    // Named by an address inside one of its prefixes: the same BRI content.
    let mut h = H::new();
    let s = h.attach(MAG1, V6ONLY, 1);
    let out = h.lma.revoke(&s.hnps[0].to_string(), h.now).unwrap();
    assert_eq!(hnps_of(&bris(&out)[0].3.options), [(64, s.hnps[0])]);
}

#[test]
fn bri_revoking_an_ipv4_only_session_names_it_by_its_ipv4_hoa_with_v_set() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(V4ONLY).no_hnp().v4("0.0.0.0").build()))[0].clone();
    let (hoa, len, _) = s.ipv4_hoa.unwrap();
    let out = h.lma.revoke(&hoa.to_string(), h.now).unwrap();
    let m = bris(&out)[0].3;
    assert_eq!(m.flags, br_flags::P | br_flags::V);
    assert_eq!(m.options, [mn(V4ONLY), MobilityOption::Ipv4HoaRequest { prefix_len: len, addr: hoa }]);
    assert_eq!(removes(&h.revocation(MAG1, bra(m.seq, 0))), [s.id]);
    assert_eq!(h.count(), 0);
}

#[test]
fn bri_for_a_non_nai_mn_id_echoes_the_identifier_as_received() {
    let mut h = H::new();
    let imsi = vec![0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0xf5];
    let bu = Pbu::new(DUAL).no_mn_id().opt(MobilityOption::MnIdentifier { subtype: 3, id: imsi.clone() }).build();
    let s = installs(&h.pbu(MAG1, bu))[0].clone();
    let out = h.lma.revoke(&s.id.to_string(), h.now).unwrap();
    assert_eq!(mn_id_of(&bris(&out)[0].3.options), Some((3, imsi)));
}

#[test]
fn revoke_mn_sends_one_bri_per_mag_with_the_mn_id_alone_and_its_bra_removes_the_mns_sessions_there() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG1, DUAL, 2);
    let c = h.attach(MAG2, DUAL, 1);
    let other = h.attach(MAG1, V6ONLY, 1);
    let out = h.lma.revoke_mn(DUAL, h.now).unwrap();
    let sent = bris(&out);
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].1, sent[1].1), (ip(MAG1), ip(MAG2)));
    for (_, _, _, m) in &sent {
        assert_eq!((m.trigger_or_status, m.flags), (revocation_trigger::ADMINISTRATIVE_REASON, br_flags::P));
        assert_eq!(m.options, [mn(DUAL)]);
    }
    let seq = sent[0].3.seq;
    let out = h.revocation(MAG1, bra(seq, bra_status::SUCCESS));
    assert_eq!(removes(&out), [a.id, b.id]);
    assert!(h.lma.session(c.id).is_some() && h.lma.session(other.id).is_some());
    assert!(h.lma.revoke_mn("nobody@x", h.now).is_err());
}

#[test]
fn revoke_mag_sends_one_global_bri_with_trigger_128_and_no_mn_id_and_its_bra_removes_every_covered_session() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG1, V6ONLY, 1);
    let c = h.attach(MAG2, DUAL, 1);
    let out = h.lma.revoke_mag(ip(MAG1), h.now).unwrap();
    let sent = bris(&out);
    assert_eq!(sent.len(), 1);
    let (src, dst, _, m) = sent[0];
    assert_eq!((src, dst), (ip(LMAA), ip(MAG1)));
    assert_eq!(
        (m.br_type, m.trigger_or_status, m.flags),
        (br_type::BRI, revocation_trigger::PER_PEER_POLICY, br_flags::P | br_flags::G)
    );
    assert!(m.options.is_empty());
    assert!(removes(&out).is_empty());
    let out = h.revocation(MAG1, bra(m.seq, bra_status::PARTIAL_SUCCESS));
    assert_eq!(removes(&out), [a.id, b.id]);
    assert!(h.lma.session(c.id).is_some());
    assert!(h.lma.revoke_mag(ip(MAG1), h.now).is_err());
}

#[test]
fn clear_binding_mag_revokes_the_mags_sessions_with_one_global_bri() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    h.attach(MAG1, V6ONLY, 1);
    let out = h.lma.revoke(&format!("mag {MAG1}"), h.now).unwrap();
    let sent = bris(&out);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].3.flags, br_flags::P | br_flags::G);
    assert!(h.lma.revoke("mag 2001:db8:1::9", h.now).is_err());
    assert!(h.lma.revoke("mag nowhere", h.now).is_err());
}

#[test]
fn global_bri_left_unanswered_removes_every_covered_session_after_the_last_retransmission() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    h.attach(MAG1, V6ONLY, 1);
    let first = h.lma.revoke_mag(ip(MAG1), h.now).unwrap();
    assert_eq!(bris(&first).len(), 1);
    assert_eq!(bris(&h.advance(secs(1))).len(), 1);
    let out = h.advance(secs(2));
    assert_eq!(removes(&out).len(), 2);
    assert_eq!(h.count(), 0);
}

#[test]
fn global_bri_names_a_proxy_coa_other_than_the_mags_address_with_an_alternate_care_of_address() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    h.pbu(MAG1, Pbu::new(V6ONLY).opt(MobilityOption::AlternateCareOf(v6("2001:db8:7::1"))).build());
    let out = h.lma.revoke_mag(ip(MAG1), h.now).unwrap();
    let sent = bris(&out);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|b| b.1 == ip(MAG1) && b.3.flags == br_flags::P | br_flags::G));
    assert!(sent[0].3.options.is_empty());
    assert_eq!(sent[1].3.options, [MobilityOption::AlternateCareOf(v6("2001:db8:7::1"))]);
}

#[test]
fn pbu_for_one_session_under_a_global_revocation_takes_only_that_session_out_of_it() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG1, V6ONLY, 1);
    let seq = bris(&h.lma.revoke_mag(ip(MAG1), h.now).unwrap())[0].3.seq;
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&a.hnps[0].to_string()).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    let out = h.revocation(MAG1, bra(seq, bra_status::SUCCESS));
    assert_eq!(removes(&out), [b.id]);
    assert!(h.lma.session(a.id).is_some());
    // Once every covered session is re-registered, the BRI is forgotten.
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    h.lma.revoke_mag(ip(MAG1), h.now).unwrap();
    h.pbu(MAG1, Pbu::new(DUAL).hnp(&a.hnps[0].to_string()).seq(2).build());
    for _ in 0..5 {
        assert!(h.advance(secs(1)).is_empty());
    }
    assert!(h.lma.bris.is_empty());
}

#[test]
fn revoke_ipv4_hoa_sends_a_bri_with_v_the_mn_id_and_an_ipv4_hoa_request_and_its_bra_takes_only_the_address() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build()))[0].clone();
    let (hoa, len, _) = s.ipv4_hoa.unwrap();
    let out = h.lma.revoke_ipv4_hoa(hoa, h.now).unwrap();
    let sent = bris(&out);
    assert_eq!(sent.len(), 1);
    let m = sent[0].3;
    assert_eq!(m.flags, br_flags::P | br_flags::V);
    assert_eq!(m.options, [mn(DUAL), MobilityOption::Ipv4HoaRequest { prefix_len: len, addr: hoa }]);
    let out = h.revocation(MAG1, bra(m.seq, bra_status::SUCCESS));
    let now = installs(&out)[0];
    assert_eq!((now.ipv4_hoa, now.hnps.clone()), (None, s.hnps));
    assert_eq!(h.lma.pools().1.in_use(), 0);
    assert!(h.lma.revoke_ipv4_hoa(hoa, h.now).is_err());
}

#[test]
fn operator_revocation_of_a_session_whose_ipv4_hoa_is_being_revoked_sends_a_bri_for_the_whole_session() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build()))[0].clone();
    let v = bris(&h.lma.revoke_ipv4_hoa(s.ipv4_hoa.unwrap().0, h.now).unwrap())[0].3.seq;
    let out = h.lma.revoke(&s.id.to_string(), h.now).unwrap();
    let whole = bris(&out)[0].3.clone();
    assert_eq!(whole.flags, br_flags::P);
    // The V = 1 BRI is forgotten; the whole session goes with the new BRA.
    assert!(h.revocation(MAG1, bra(v, 0)).is_empty());
    assert_eq!(removes(&h.revocation(MAG1, bra(whole.seq, 0))), [s.id]);
}

#[test]
fn revoke_by_mn_id_sends_one_bri_per_session_with_distinct_sequence_numbers() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    h.attach(MAG2, DUAL, 1);
    let out = h.lma.revoke(DUAL, h.now).unwrap();
    let b = bris(&out);
    assert_eq!(b.len(), 2);
    assert_ne!(b[0].3.seq, b[1].3.seq);
    assert_eq!((b[0].1, b[1].1), (ip(MAG1), ip(MAG2)));
}

#[test]
fn revoke_finds_sessions_by_ipv4_hoa_address_in_a_prefix_or_id_and_errs_on_nothing() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build());
    let s = installs(&out)[0].clone();
    assert_eq!(bris(&h.lma.revoke(&s.ipv4_hoa.unwrap().0.to_string(), h.now).unwrap()).len(), 1);
    let mut h2 = H::new();
    let s2 = h2.attach(MAG1, DUAL, 1);
    let inside = Ipv6Addr::from(u128::from(s2.hnps[0]) | 0x1234);
    assert_eq!(bris(&h2.lma.revoke(&inside.to_string(), h2.now).unwrap()).len(), 1);
    let mut h3 = H::new();
    let s3 = h3.attach(MAG1, DUAL, 1);
    assert_eq!(bris(&h3.lma.revoke(&s3.id.to_string(), h3.now).unwrap()).len(), 1);
    assert!(h3.lma.revoke("nobody@x", h3.now).is_err());
    assert!(h3.lma.revoke("203.0.113.250", h3.now).is_err());
}

#[test]
fn bri_is_retransmitted_once_after_init_min_delay_bris_and_the_session_removed_after_max_brack_timeout() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let first = h.lma.revoke(DUAL, h.now).unwrap();
    let msg = bris(&first)[0].3.clone();
    assert!(h.advance(millis(999)).is_empty());
    let out = h.advance(millis(1));
    assert_eq!(bris(&out).len(), 1);
    assert_eq!(bris(&out)[0].3, &msg);
    // Timeout doubled to 2 s (MAX_BRACK_TIMEOUT); then give up and clean up.
    assert!(h.advance(millis(1999)).is_empty());
    let out = h.advance(millis(1));
    assert_eq!(removes(&out), [s.id]);
    assert!(bris(&out).is_empty());
    assert!(h.lma.session(s.id).is_none());
    let c = h.lma.counters();
    assert_eq!((c.bri_retransmitted, c.bri_exhausted), (1, 1));
}

#[test]
fn bri_retransmissions_follow_bri_max_retries_and_never_wait_less_than_half_a_second() {
    let mut h = H::with_lma(|l| {
        l.bri_max_retries = 3;
        l.bri_initial_delay = millis(100);
    });
    h.attach(MAG1, DUAL, 1);
    h.lma.revoke(DUAL, h.now).unwrap();
    assert!(h.advance(millis(499)).is_empty());
    let mut times = Vec::new();
    let mut elapsed = 499;
    for _ in 0..6000 {
        let out = h.advance(millis(1));
        elapsed += 1;
        if !bris(&out).is_empty() {
            times.push(elapsed);
        }
        if !removes(&out).is_empty() {
            times.push(elapsed);
            break;
        }
    }
    // 0.5 s, then 1 s, 2 s, 2 s (capped), then give up after another 2 s.
    assert_eq!(times, [500, 1500, 3500, 5500]);
    assert_eq!(h.count(), 0);
}

#[test]
fn bra_success_removes_the_session_at_once() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let out = h.lma.revoke(DUAL, h.now).unwrap();
    let seq = bris(&out)[0].3.seq;
    let out = h.revocation(MAG1, bra(seq, bra_status::SUCCESS));
    assert_eq!(removes(&out), [s.id]);
    assert!(h.advance(secs(5)).is_empty());
    assert_eq!(h.lma.counters().bra_received, 1);
}

#[test]
fn bra_failure_for_an_operator_revocation_still_removes_the_session() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let seq = bris(&h.lma.revoke(DUAL, h.now).unwrap())[0].3.seq;
    let out = h.revocation(MAG1, bra(seq, bra_status::REVOCATION_FAILED_MN_IS_ATTACHED));
    assert_eq!(removes(&out), [s.id]);
}

#[test]
fn bra_with_an_unknown_sequence_number_or_from_another_mag_is_dropped() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let seq = bris(&h.lma.revoke(DUAL, h.now).unwrap())[0].3.seq;
    assert!(h.revocation(MAG1, bra(seq.wrapping_add(1), 0)).is_empty());
    assert!(h.revocation(MAG2, bra(seq, 0)).is_empty());
    assert_eq!(h.lma.counters().bra_unknown, 2);
    assert!(h.lma.session(s.id).is_some());
}

#[test]
fn pbu_for_a_session_under_revocation_is_accepted_and_clears_the_revocation() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    h.lma.revoke(DUAL, h.now).unwrap();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(2).build());
    assert_eq!(pba(&out).status, 0);
    // No retransmission, no clean-up.
    for _ in 0..5 {
        assert!(h.advance(secs(1)).is_empty());
    }
    assert!(h.lma.session(s.id).is_some());
}

#[test]
fn bri_over_ipv4_transport_uses_the_address_and_port_pair_of_the_last_pbu_swapped() {
    let mut h = H::new();
    h.pbu4(MAG4, 41000, Pbu::new(DUAL).v4("0.0.0.0").build());
    let out = h.lma.revoke(DUAL, h.now).unwrap();
    let (src, dst, transport, _) = bris(&out)[0];
    assert_eq!((src, dst, transport), (ip(LMAA4), ip(MAG4), Transport::Udp4 { src_port: 41000 }));
}

#[test]
fn bri_carries_the_proxy_coa_in_an_alternate_care_of_address_option_when_it_is_not_the_mags_address() {
    let mut h = H::new();
    h.pbu(MAG1, Pbu::new(DUAL).opt(MobilityOption::AlternateCareOf(v6("2001:db8:7::1"))).build());
    let out = h.lma.revoke(DUAL, h.now).unwrap();
    let (_, dst, _, m) = bris(&out)[0];
    assert_eq!(dst, ip(MAG1));
    assert!(m.options.contains(&MobilityOption::AlternateCareOf(v6("2001:db8:7::1"))));
}

#[test]
fn mag_bri_for_an_mn_removes_its_sessions_at_that_mag_and_gets_bra_0_with_the_bris_flags_and_sequence() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG2, DUAL, 1);
    let out =
        h.revocation(MAG1, bri(revocation_trigger::USER_INITIATED_SESSION_TERMINATION, br_flags::P, vec![mn(DUAL)]));
    let (dst, m) = the_bra(&out);
    assert_eq!(dst, ip(MAG1));
    assert_eq!((m.br_type, m.trigger_or_status, m.seq, m.flags), (br_type::BRA, bra_status::SUCCESS, 77, br_flags::P));
    assert_eq!(mn_id_of(&m.options), Some((1, DUAL.as_bytes().to_vec())));
    assert_eq!(removes(&out), [a.id]);
    assert!(h.lma.session(b.id).is_some());
}

#[test]
fn mag_bri_with_hnps_removes_those_bindings_and_reports_partial_success_for_missing_ones() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG1, DUAL, 2);
    let out = h.revocation(MAG1, bri(6, br_flags::P, vec![mn(DUAL), hnp(a.hnps[0])]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::SUCCESS);
    assert_eq!(removes(&out), [a.id]);
    let out = h.revocation(MAG1, bri(6, br_flags::P, vec![mn(DUAL), hnp(a.hnps[0]), hnp(b.hnps[0])]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::PARTIAL_SUCCESS);
    assert_eq!(h.count(), 0);
}

#[test]
fn mag_bri_for_an_unknown_binding_gets_128() {
    let mut h = H::new();
    h.attach(MAG2, DUAL, 1);
    let out = h.revocation(MAG1, bri(5, br_flags::P, vec![mn(DUAL)]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::BINDING_DOES_NOT_EXIST);
    let out = h.revocation(MAG1, bri(5, 0, vec![mn(DUAL)]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::BINDING_DOES_NOT_EXIST);
    assert_eq!(h.count(), 1);
}

#[test]
fn mag_bri_without_mn_id_gets_131() {
    let mut h = H::new();
    let out = h.revocation(MAG1, bri(5, br_flags::P, Vec::new()));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::REVOKED_MOBILE_NODES_IDENTITY_REQUIRED);
}

#[test]
fn mag_bri_with_an_unsupported_trigger_gets_133() {
    let mut h = H::new();
    for trigger in [8, 127, 130, 250] {
        let out = h.revocation(MAG1, bri(trigger, br_flags::P, vec![mn(DUAL)]));
        assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::REVOCATION_TRIGGER_NOT_SUPPORTED, "{trigger}");
    }
}

#[test]
fn mag_bri_mixing_global_and_per_mn_triggers_gets_134() {
    let mut h = H::new();
    let out = h.revocation(MAG1, bri(5, br_flags::P | br_flags::G, vec![mn("mag1")]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::REVOCATION_FUNCTION_NOT_SUPPORTED);
    let out = h.revocation(MAG1, bri(128, br_flags::P, vec![mn("mag1")]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::REVOCATION_FUNCTION_NOT_SUPPORTED);
}

#[test]
fn mag_global_bri_removes_every_binding_at_that_mag_and_needs_the_mags_identity() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG1, V6ONLY, 1);
    let c = h.attach(MAG2, DUAL, 1);
    let out = h.revocation(MAG1, bri(128, br_flags::P | br_flags::G, Vec::new()));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::GLOBAL_REVOCATION_NOT_AUTHORIZED);
    let out = h.revocation(MAG1, bri(128, br_flags::P | br_flags::G, vec![mn("mag1")]));
    let (_, m) = the_bra(&out);
    assert_eq!((m.trigger_or_status, m.flags), (bra_status::SUCCESS, br_flags::P | br_flags::G));
    assert_eq!(removes(&out), [a.id, b.id]);
    assert!(h.lma.session(c.id).is_some());
}

#[test]
fn mag_global_bri_for_a_realm_removes_only_that_realms_bindings() {
    let mut h = H::new();
    let a = h.attach(MAG1, DUAL, 1);
    let b = h.attach(MAG1, "x@foo.anchor.test", 1);
    let out = h.revocation(MAG1, bri(129, br_flags::P | br_flags::G, vec![mn("@anchor.test")]));
    assert_eq!(the_bra(&out).1.trigger_or_status, 0);
    assert_eq!(removes(&out), [a.id]);
    assert!(h.lma.session(b.id).is_some());
}

#[test]
fn mag_bri_with_v_removes_only_the_ipv4_hoa_and_needs_the_ipv4_hoa_request() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG1, Pbu::new(DUAL).v4("0.0.0.0").build()))[0].clone();
    let hoa = s.ipv4_hoa.unwrap().0;
    let out = h.revocation(MAG1, bri(5, br_flags::P | br_flags::V, vec![mn(DUAL)]));
    assert_eq!(the_bra(&out).1.trigger_or_status, bra_status::IPV4_HOME_ADDRESS_OPTION_REQUIRED);
    let req = MobilityOption::Ipv4HoaRequest { prefix_len: 32, addr: hoa };
    let out = h.revocation(MAG1, bri(5, br_flags::P | br_flags::V, vec![mn(DUAL), req]));
    let (_, m) = the_bra(&out);
    assert_eq!((m.trigger_or_status, m.flags), (0, br_flags::P | br_flags::V));
    let now = installs(&out)[0];
    assert_eq!((now.ipv4_hoa, now.hnps.clone()), (None, s.hnps));
}

#[test]
fn bri_or_bra_from_an_unlisted_source_is_dropped() {
    let mut h = H::new();
    assert!(h.revocation(UNLISTED, bri(5, br_flags::P, vec![mn(DUAL)])).is_empty());
    assert_eq!(h.lma.counters().dropped_unlisted_peer, 1);
}

#[test]
fn bri_from_a_multicast_source_is_dropped_without_a_bra() {
    let mut h =
        H::with_lma(|l| l.mags.push(MagPeer { name: "odd".into(), addr: ip("ff02::1"), ordering: Ordering::Sequence }));
    assert!(h.revocation("ff02::1", bri(5, br_flags::P, vec![mn(DUAL)])).is_empty());
}

#[test]
fn mag_bri_over_ipv4_is_answered_over_ipv4_to_its_port() {
    let mut h = H::new();
    let out = h.rx(
        MAG4,
        LMAA4,
        Transport::Udp4 { src_port: 5436 },
        MhMessage::BindingRevocation(bri(5, br_flags::P, vec![mn(DUAL)])),
    );
    let b = bris(&out);
    assert_eq!((b[0].0, b[0].1, b[0].2), (ip(LMAA4), ip(MAG4), Transport::Udp4 { src_port: 5436 }));
}
