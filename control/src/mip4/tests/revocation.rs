//! §8.9: RFC 3543 registration revocation.

use super::*;
use crate::mip4::ext::REVOCATION_SUPPORT_I;
use crate::mip4::wire::{revocation_flags, RevocationAck, REVOCATION_ACK_I};
use crate::mip4::Revocation;

fn support() -> Extension {
    Extension::RevocationSupport { flags: 0, timestamp: 1 }
}

fn revocations(out: &[Output]) -> Vec<(Ipv4Addr, &Revocation)> {
    sent(out)
        .into_iter()
        .filter_map(|(_, dst, _, m)| match m {
            Message::Revocation(r) => Some((dst, r)),
            _ => None,
        })
        .collect()
}

fn ack(hoa: Ipv4Addr, id: u32, fa: &str) -> Message {
    let (spi, key) = if fa == FA1 { (FA1_SPI, fa_key(FA1)) } else { (FA2_SPI, fa_key(FA2)) };
    let mut m = Message::RevocationAck(RevocationAck {
        flags: 0,
        home_address: hoa,
        revocation_id: id,
        extensions: vec![Extension::Auth { kind: AuthKind::FaHa, spi, authenticator: vec![] }],
    });
    auth::seal(&mut m, &[SealKey { kind: AuthKind::FaHa, spi, alg: AuthAlgorithm::HmacMd5, key: &key }]);
    m
}

#[test]
fn revocation_support_from_a_foreign_agent_is_answered_only_when_it_was_asked() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(support()));
    let r = rrp(&out);
    assert_eq!(ext_types(&r.extensions), [131, 32, 137, 34]);
    let peer = installs(&out)[0].revocation.unwrap();
    assert_eq!((peer.addr, peer.via_fa, peer.i_bit), (v4(FA1), true, false));
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id));
    assert!(!ext_types(&rrp(&out).extensions).contains(&137));
    // With revocation off it is never answered.
    let mut h = H::with(|c| c.revocation = false);
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(support()));
    assert!(!ext_types(&rrp(&out).extensions).contains(&137));
    assert_eq!(installs(&out)[0].revocation, None);
}

#[test]
fn clear_binding_revokes_at_a_supporting_foreign_agent_with_fa_ha_and_removes_the_binding() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).via(FA1).id(id).fa_ext(support()));
    let b = installs(&out)[0].clone();
    let out = h.ha.revoke(MN, h.now, h.wall).unwrap();
    assert_eq!(removes(&out), [b.id]);
    let revs = revocations(&out);
    assert_eq!(revs.len(), 1);
    let (dst, rev) = revs[0];
    assert_eq!(dst, v4(FA1));
    assert_eq!(rev.flags, revocation_flags::A);
    assert_eq!((rev.home_address, rev.home_domain, rev.foreign_domain), (b.hoa, v4(HA_ADDR), v4(FA1)));
    let msg = &sent(&out)[0].3;
    assert!(verifies(msg, AuthKind::FaHa, FA1_SPI, &fa_key(FA1)));
    assert_eq!(h.count(), 0);
    // The acknowledgement ends it: no retransmission afterwards.
    let id = rev.revocation_id;
    assert!(h.rx_from(FA1, MIP4_PORT, HA_ADDR, &ack(b.hoa, id, FA1)).is_empty());
    assert_eq!(h.ha.counters().revocation_acks_received, 1);
    assert!(h.advance(secs(10)).is_empty());
}

#[test]
fn an_unacknowledged_revocation_is_retransmitted_with_backoff_then_given_up() {
    let mut h = H::new();
    let id = h.id();
    h.send(Req::mn(MN).via(FA1).id(id).fa_ext(support()));
    let out = h.ha.revoke(MN, h.now, h.wall).unwrap();
    let first = revocations(&out)[0].1.clone();
    let mut times = Vec::new();
    for t in 1..=20 {
        let out = h.advance(secs(1));
        for (_, r) in revocations(&out) {
            assert_eq!(*r, first);
            times.push(t);
        }
    }
    assert_eq!(times, [1, 3, 7]);
    assert_eq!(h.ha.counters().revocations_retransmitted, 3);
    assert_eq!(h.ha.next_deadline(), None);
}

#[test]
fn acks_that_match_nothing_or_fail_authentication_are_dropped() {
    let mut h = H::new();
    let id = h.id();
    let b = installs(&h.send(Req::mn(MN).via(FA1).id(id).fa_ext(support())))[0].clone();
    let out = h.ha.revoke(&b.hoa.to_string(), h.now, h.wall).unwrap();
    let rid = revocations(&out)[0].1.revocation_id;
    h.rx_from(FA1, MIP4_PORT, HA_ADDR, &ack(b.hoa, rid.wrapping_add(1), FA1));
    h.rx_from(FA1, MIP4_PORT, HA_ADDR, &ack(v4("203.0.113.99"), rid, FA1));
    h.rx_from(FA2, MIP4_PORT, HA_ADDR, &ack(b.hoa, rid, FA2));
    let mut forged = ack(b.hoa, rid, FA1);
    if let Message::RevocationAck(a) = &mut forged {
        a.flags = REVOCATION_ACK_I;
    }
    h.rx_from(FA1, MIP4_PORT, HA_ADDR, &forged);
    assert_eq!(h.ha.counters().revocation_acks_received, 0);
    assert_eq!(h.ha.counters().auth_failures, 1);
    // The revocation is still outstanding.
    assert_eq!(revocations(&h.advance(secs(1))).len(), 1);
}

#[test]
fn a_handoff_to_another_foreign_agent_revokes_the_binding_at_the_old_one() {
    let mut h = H::with(|c| c.foreign_agents[1].proxy = true);
    let id = h.id();
    h.send(Req::proxy(HOST, FA1).id(id).fa_ext(support()));
    let id = h.id();
    let out = h.send(Req::proxy(HOST, FA2).id(id).fa_ext(support()));
    assert_eq!(rrp(&out).code, 0);
    let revs = revocations(&out);
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].0, v4(FA1));
    assert_eq!(h.ha.bindings().next().unwrap().revocation.unwrap().addr, v4(FA2));
    // The old FA without support is not revoked.
    let mut h = H::with(|c| c.foreign_agents[1].proxy = true);
    let id = h.id();
    h.send(Req::proxy(HOST, FA1).id(id));
    let id = h.id();
    assert!(revocations(&h.send(Req::proxy(HOST, FA2).id(id))).is_empty());
}

#[test]
fn a_co_located_mobile_node_advertising_support_is_revoked_with_mn_ha() {
    let mut h = H::new();
    let id = h.id();
    let out =
        h.send(Req::mn(MN).id(id).mn_ext(Extension::RevocationSupport { flags: REVOCATION_SUPPORT_I, timestamp: 5 }));
    // Answered to the node, before MN-HA.
    assert_eq!(ext_types(&rrp(&out).extensions), [131, 137, 32]);
    let out = h.ha.revoke(MN, h.now, h.wall).unwrap();
    let (dst, rev) = revocations(&out)[0];
    assert_eq!((dst, rev.foreign_domain), (v4(COA), v4(COA)));
    assert!(verifies(sent(&out)[0].3, AuthKind::MnHa, MN_SPI, &mn_key(MN)));
}

#[test]
fn a_foreign_agent_revocation_removes_its_binding_and_is_acknowledged() {
    let mut h = H::new();
    let id = h.id();
    let b = installs(&h.send(Req::mn(MN).via(FA1).id(id).fa_ext(support())))[0].clone();
    let rev = |rid: u32, flags: u16| {
        let mut m = Message::Revocation(Revocation {
            flags,
            home_address: b.hoa,
            home_domain: v4(HA_ADDR),
            foreign_domain: v4(FA1),
            revocation_id: rid,
            extensions: vec![Extension::Auth { kind: AuthKind::FaHa, spi: FA1_SPI, authenticator: vec![] }],
        });
        let key = fa_key(FA1);
        auth::seal(&mut m, &[SealKey { kind: AuthKind::FaHa, spi: FA1_SPI, alg: AuthAlgorithm::HmacMd5, key: &key }]);
        m
    };
    // A reflection of our own (A = 1) is dropped.
    assert!(h.rx_from(FA1, MIP4_PORT, HA_ADDR, &rev(10, revocation_flags::A)).is_empty());
    let out = h.rx_from(FA1, 7000, HA_ADDR, &rev(10, 0));
    assert_eq!(removes(&out), [b.id]);
    let (_, dst, port, msg) = sent(&out)[0];
    assert_eq!((dst, port), (v4(FA1), 7000));
    let Message::RevocationAck(a) = msg else { panic!("{msg:?}") };
    assert_eq!((a.home_address, a.revocation_id), (b.hoa, 10));
    assert!(verifies(msg, AuthKind::FaHa, FA1_SPI, &fa_key(FA1)));
    // Replayed (not newer) → dropped.
    assert!(h.rx_from(FA1, 7000, HA_ADDR, &rev(10, 0)).is_empty());
    assert_eq!(h.ha.counters().revocations_received, 1);
}

#[test]
fn clear_binding_of_nothing_is_an_error_and_by_id_works() {
    let mut h = H::new();
    assert!(h.ha.revoke("nobody@anchor.test", h.now, h.wall).is_err());
    let b = h.register(MN);
    let out = h.ha.revoke(&b.id.to_string(), h.now, h.wall).unwrap();
    assert_eq!(removes(&out), [b.id]);
    assert!(revocations(&out).is_empty(), "no peer advertised support");
}
