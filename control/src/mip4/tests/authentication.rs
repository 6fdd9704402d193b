//! §8.5–§8.7 steps 2–4: authentication and replay protection.

use super::*;
use crate::mip4::code;

#[test]
fn request_with_a_valid_mn_ha_is_accepted_and_the_reply_carries_a_valid_mn_ha() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id));
    let r = rrp(&out);
    assert_eq!(r.code, code::ACCEPTED);
    assert!(verifies(reply_msg(&out), AuthKind::MnHa, MN_SPI, &mn_key(MN)));
    // §8.5: MN-HA is the last extension of a reply without a foreign agent.
    assert_eq!(ext_types(&r.extensions), [131, 32]);
}

#[test]
fn bad_mn_ha_authenticator_is_rejected_with_131_carrying_a_valid_mn_ha() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ha(MN_SPI, vec![0x55; 16]));
    assert_eq!(rrp(&out).code, code::HA_MN_FAILED_AUTHENTICATION);
    assert_eq!(rrp(&out).lifetime, 0);
    assert!(verifies(reply_msg(&out), AuthKind::MnHa, MN_SPI, &mn_key(MN)));
    assert_eq!(h.count(), 0);
    assert_eq!(h.ha.counters().auth_failures, 1);
}

#[test]
fn a_changed_octet_after_sealing_fails_authentication_with_131() {
    let mut h = H::new();
    let id = h.id();
    let mut bytes = wire::emit(&Req::mn(MN).id(id).build());
    bytes[3] ^= 1; // the lifetime
    let out = h.rx_bytes(COA, MIP4_PORT, HA_ADDR, bytes);
    assert_eq!(rrp(&out).code, code::HA_MN_FAILED_AUTHENTICATION);
}

#[test]
fn unknown_spi_for_a_known_mobile_node_is_rejected_with_131() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ha(0x9999, mn_key(MN)));
    assert_eq!(rrp(&out).code, code::HA_MN_FAILED_AUTHENTICATION);
    // The reply is sealed under the node's configured association.
    assert!(verifies(reply_msg(&out), AuthKind::MnHa, MN_SPI, &mn_key(MN)));
}

#[test]
fn request_from_a_mobile_node_without_a_security_association_is_silently_discarded() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn("stranger@anchor.test").id(id));
    assert!(out.is_empty());
    assert_eq!(h.ha.counters().no_security_association, 1);
}

#[test]
fn request_without_an_authorisation_enabling_extension_is_silently_discarded() {
    let mut h = H::new();
    let id = h.id();
    let mut r = Req::mn(MN).id(id);
    r.mn_ha = None;
    assert!(h.send(r).is_empty());
    assert_eq!(h.ha.counters().no_security_association, 1);
}

#[test]
fn a_request_without_nai_is_matched_by_the_static_home_address_of_a_profile() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(STATIC4).id(id).no_nai().hoa(STATIC_HOA));
    let r = rrp(&out);
    assert_eq!((r.code, r.home_address), (0, v4(STATIC_HOA)));
    // No NAI in the request: none in the reply.
    assert_eq!(ext_types(&r.extensions), [32]);
}

#[test]
fn identification_far_from_our_clock_is_rejected_with_133_and_our_time_in_the_high_bits() {
    let mut h = H::new();
    let stale = ntp_of(h.wall - secs(8)) | 0x0000_0000_1234_5678;
    let out = h.send(Req::mn(MN).id(stale));
    let r = rrp(&out);
    assert_eq!(r.code, code::HA_IDENTIFICATION_MISMATCH);
    assert_eq!(r.identification >> 32, ntp_of(h.wall) >> 32);
    assert_eq!(r.identification & 0xffff_ffff, 0x1234_5678);
    assert!(verifies(reply_msg(&out), AuthKind::MnHa, MN_SPI, &mn_key(MN)));
    assert_eq!(h.ha.counters().replays, 1);
    // Within the tolerance (7 s by default) it is fine.
    let ok = ntp_of(h.wall + secs(6)) | 1;
    assert_eq!(rrp(&h.send(Req::mn(MN).id(ok))).code, 0);
}

#[test]
fn the_replay_tolerance_is_configurable() {
    let mut h = H::with(|c| c.replay_tolerance = secs(20));
    let id = ntp_of(h.wall - secs(15)) | 1;
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id))).code, 0);
}

#[test]
fn identification_not_newer_than_the_last_accepted_is_rejected_with_133() {
    let mut h = H::new();
    let first = h.id();
    let second = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(second))).code, 0);
    // Older, within the window: a replay.
    let out = h.send(Req::mn(MN).id(first));
    assert_eq!(rrp(&out).code, code::HA_IDENTIFICATION_MISMATCH);
    assert_eq!(rrp(&out).identification & 0xffff_ffff, first & 0xffff_ffff);
}

#[test]
fn a_replayed_request_after_de_registration_is_still_refused_with_133() {
    let mut h = H::new();
    let reg = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(reg))).code, 0);
    let dereg = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(dereg).lifetime(0).coa(COA))).code, 0);
    assert_eq!(h.count(), 0);
    assert_eq!(rrp(&h.send(Req::mn(MN).id(reg))).code, code::HA_IDENTIFICATION_MISMATCH);
    assert_eq!(h.count(), 0);
}

#[test]
fn identification_low_bits_are_copied_to_every_reply() {
    let mut h = H::new();
    let id = h.id() | 0xdead;
    let r = h.send(Req::mn(MN).id(id));
    assert_eq!(rrp(&r).identification, id);
    let id = (h.id() | 0xbeef) + 0x1_0000;
    let r = h.send(Req::mn(MN).id(id).home_agent("192.0.2.77"));
    assert_eq!(rrp(&r).code, code::HA_UNKNOWN_HOME_AGENT_ADDRESS);
    assert_eq!(rrp(&r).identification, id);
}

#[test]
fn a_retransmitted_request_is_answered_again_without_extending_the_lifetime() {
    let mut h = H::new();
    let id = h.id();
    let first = h.send(Req::mn(MN).id(id));
    assert_eq!(rrp(&first).lifetime, 600);
    let b = h.ha.bindings().next().cloned().unwrap();
    h.advance(secs(100));
    let again = h.send(Req::mn(MN).id(id));
    assert_eq!(rrp(&again).code, 0);
    assert_eq!(rrp(&again).lifetime, 500);
    assert!(installs(&again).is_empty());
    assert_eq!(h.ha.bindings().next().unwrap().expires, b.expires);
    assert_eq!(h.ha.counters().retransmissions, 1);
}

#[test]
fn request_via_a_foreign_agent_with_an_association_needs_a_valid_fa_ha_else_132() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id));
    assert_eq!(rrp(&out).code, 0);
    // §8.5: the reply carries FA-HA too, last.
    assert!(verifies(reply_msg(&out), AuthKind::FaHa, FA1_SPI, &fa_key(FA1)));
    assert_eq!(*ext_types(&rrp(&out).extensions).last().unwrap(), 34);
    // A bad FA-HA, or none, is 132.
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ha(FA1_SPI, vec![0; 16]));
    assert_eq!(rrp(&out).code, code::HA_FA_FAILED_AUTHENTICATION);
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).no_fa_ha());
    assert_eq!(rrp(&out).code, code::HA_FA_FAILED_AUTHENTICATION);
    // Two FA-HA extensions: not exactly one → 132.
    let id = h.id();
    let twice = Req::mn(MN).via(FA1).id(id).fa_ext(Extension::Auth {
        kind: AuthKind::FaHa,
        spi: FA1_SPI,
        authenticator: vec![0; 16],
    });
    assert_eq!(rrp(&h.send(twice)).code, code::HA_FA_FAILED_AUTHENTICATION);
}

#[test]
fn a_de_registration_without_fa_ha_is_not_refused_for_that() {
    let mut h = H::new();
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).via(FA1).id(id))).code, 0);
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).no_fa_ha().lifetime(0));
    assert_eq!(rrp(&out).code, 0);
    assert_eq!(h.count(), 0);
}

#[test]
fn fa_ha_from_a_foreign_agent_without_an_association_is_silently_discarded() {
    let mut h = H::new();
    let id = h.id();
    let r = Req::mn(MN).via(FA_UNKNOWN).id(id).fa_ha(0x3000, vec![1; 16]);
    assert!(h.send(r).is_empty());
    // Without FA-HA the same foreign agent is fine (no association needed).
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).via(FA_UNKNOWN).id(id))).code, 0);
}

#[test]
fn extensions_after_the_last_authenticator_are_not_trusted() {
    let mut h = H::new();
    let id = h.id();
    let mut msg = Req::mn(MN).id(id).build();
    // Appended after MN-HA by nobody we share an association with.
    if let Message::Rrq(r) = &mut msg {
        r.extensions.push(Extension::GreKey(77));
    }
    let out = h.rx_from(COA, MIP4_PORT, HA_ADDR, &msg);
    assert_eq!(rrp(&out).code, 0);
    assert_eq!(installs(&out)[0].tunnel.kind, dataplane::tunnel::TunnelKind::IpIp);
}

#[test]
fn prefix_suffix_md5_associations_authenticate_too() {
    let mut h = H::with(|c| c.mobile_nodes[0].algorithm = AuthAlgorithm::PrefixSuffixMd5);
    let id = h.id();
    let mut msg = Req::mn(MN).id(id).build();
    let key = mn_key(MN);
    auth::seal(
        &mut msg,
        &[SealKey { kind: AuthKind::MnHa, spi: MN_SPI, alg: AuthAlgorithm::PrefixSuffixMd5, key: &key }],
    );
    let out = h.rx_from(COA, MIP4_PORT, HA_ADDR, &msg);
    assert_eq!(rrp(&out).code, 0);
    // HMAC-MD5 under the same key does not pass.
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id))).code, code::HA_MN_FAILED_AUTHENTICATION);
}
