//! RFC 4285 authentication and replay protection (PROTOCOLS.md §11.3).

use super::*;
use crate::proto::status;

#[test]
fn a_bu_from_a_mobile_node_without_a_security_association_is_dropped_silently() {
    let mut h = Harness::new();
    assert!(h.send(Bu::new(STRANGER_HOA, 1)).is_empty());
    let nai = MobilityOption::MnIdentifier { subtype: 1, id: b"nobody@anchor.test".to_vec() };
    assert!(h.send(Bu::new(MN_HOA, 1).option(nai)).is_empty());
    assert_eq!(h.ha.counters().no_security_association, 2);
}

#[test]
fn a_bad_authenticator_is_146_and_changes_nothing() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1));
    let before = h.ha.registration(v6(MN_HOA)).cloned();
    for a in [Auth::WrongKey, Auth::WrongSpi, Auth::MnAaa, Auth::None] {
        let out = h.send(Bu::new(MN_HOA, 2).via(Via::Ipv6 { coa: v6(COA2) }).auth(a));
        let b = ba(&out);
        assert_eq!((b.status, b.lifetime, b.seq), (status::MIPV6_AUTH_FAIL, 0, 2), "{a:?}");
        assert!(installs(&out).is_empty() && removes(&out).is_empty());
        assert_eq!(h.ha.registration(v6(MN_HOA)).cloned(), before);
    }
    assert_eq!(h.ha.counters().auth_failures, 4);
    // The same sequence number, authenticated, is still taken: nothing moved on.
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 2))).status, status::ACCEPTED);
}

#[test]
fn an_auth_option_followed_by_anything_is_146() {
    let mut h = Harness::new();
    let bu = Bu::new(MN_HOA, 1);
    let mut mh = bu.mh();
    // Padding after AUTH (Header Len one more, PadN 8), checksum fixed.
    mh.extend_from_slice(&[1, 6, 0, 0, 0, 0, 0, 0]);
    mh[1] += 1;
    let checksum = Checksum::Ipv6 { src: v6(MN_HOA), dst: v6(HA) };
    crate::proto::header::Packet::new_unchecked(&mut mh[..]).fill_checksum(checksum);
    let p = ipv6_packet_with_home_address(v6(COA), v6(HA), v6(MN_HOA), &mh);
    let out = h.ha.handle(&p, h.instant(), h.wall());
    assert_eq!(ba(&out).status, status::MIPV6_AUTH_FAIL);
}

#[test]
fn a_missing_mesg_id_is_145_when_required_and_accepted_when_not() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::None));
    let b = ba(&out);
    assert_eq!(b.status, status::MIPV6_MESG_ID_REQD);
    assert_eq!(mesg_id_of(&b), None);
    assert!(installs(&out).is_empty());
    let mut h = Harness::with(Ha6Config { require_mesg_id: false, ..config() });
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::None))).status, status::ACCEPTED);
}

#[test]
fn a_mesg_id_outside_the_tolerance_is_144_with_our_seconds_in_the_reply() {
    let mut h = Harness::new();
    let now = super::super::ntp_of(h.wall());
    for off in [8i64, -8] {
        let ts = now.wrapping_add((off << 32) as u64) | 0x1234;
        let out = h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::Value(ts)));
        let b = ba(&out);
        assert_eq!(b.status, status::MIPV6_ID_MISMATCH);
        assert_eq!(mesg_id_of(&b), Some((now & 0xffff_ffff_0000_0000) | (ts & 0xffff_ffff)));
        assert!(installs(&out).is_empty());
    }
    // Within 7 s: accepted.
    let ts = now.wrapping_add(7 << 32);
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::Value(ts)))).status, status::ACCEPTED);
    assert_eq!(h.ha.counters().replays, 2);
}

#[test]
fn a_replayed_mesg_id_is_144_even_after_deregistration() {
    let mut h = Harness::new();
    let ts = h.mesg_id();
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::Value(ts)))).status, status::ACCEPTED);
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 2).mesg_id(MesgId::Value(ts)))).status, status::MIPV6_ID_MISMATCH);
    assert_eq!(ba(&h.send(Bu::new(MN_HOA, 2).lifetime(0))).status, status::ACCEPTED);
    let out = h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::Value(ts)));
    assert_eq!(ba(&out).status, status::MIPV6_ID_MISMATCH);
    assert!(h.ha.registration(v6(MN_HOA)).is_none());
}

#[test]
fn the_ba_copies_the_mesg_id_and_carries_an_mn_ha_authenticator_the_mobile_node_can_verify() {
    let mut h = Harness::new();
    let ts = h.mesg_id();
    let out = h.send(Bu::new(MN_HOA, 1).mesg_id(MesgId::Value(ts)));
    let (_, _, b, mh) = bas(&out).remove(0);
    assert_eq!(mesg_id_of(&b), Some(ts));
    // AUTH last: MN-HA, the association's SPI, 12 octets, ending the message.
    let a = auth_option(&mh).unwrap();
    assert_eq!((a.subtype, a.spi, a.data.len(), a.offset + 19), (auth_subtype::MN_HA, SPI, 12, mh.len()));
    assert!(ba_authentic(&mh, &key_of(MN_HOA), auth_care_of(IpAddr::V6(v6(COA))), v6(MN_HOA)));
    assert!(!ba_authentic(&mh, &key_of(ANON_HOA), auth_care_of(IpAddr::V6(v6(COA))), v6(MN_HOA)));
    // A refusal is authenticated too.
    let (_, _, _, mh) = bas(&h.send(Bu::new(MN_HOA, 1))).remove(0);
    assert!(ba_authentic(&mh, &key_of(MN_HOA), auth_care_of(IpAddr::V6(v6(COA))), v6(MN_HOA)));
}

#[test]
fn over_ipv4_the_authenticator_covers_the_ipv4_mapped_care_of_address() {
    let mut h = Harness::new();
    let out = h.send(Bu::udp(MN_HOA, 1));
    let (_, _, b, mh) = bas(&out).remove(0);
    assert_eq!(b.status, status::ACCEPTED);
    let mapped = auth_care_of(IpAddr::V4(v4(COA4)));
    assert_eq!(mapped[..12], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    assert!(ba_authentic(&mh, &key_of(MN_HOA), mapped, v6(MN_HOA)));
    // A BU sealed over the NAT's address instead of the option's is refused.
    let mut bu = Bu::udp(MN_HOA, 2).via(Via::Udp4 { coa: Some(v4(COA4)), src: v4(NAT), port: NAT_PORT });
    bu.mesg_id = MesgId::Value(h.mesg_id());
    let mut mh = bu.mh();
    let checksum = Checksum::Ipv6 { src: v6(MN_HOA), dst: v6(HA) };
    auth::seal(&mut mh, &key_of(MN_HOA), auth_care_of(IpAddr::V4(v4(NAT))), v6(MN_HOA), checksum);
    let f = from_nat();
    let out = h.ha.handle(&udp4_packet(&f, &mh).unwrap(), h.instant(), h.wall());
    assert_eq!(ba(&out).status, status::MIPV6_AUTH_FAIL);
}
