//! §3.6: what a PBA carries.

use super::*;
use crate::proto::{ba_flags, status, MobilityOption};

#[test]
fn pba_goes_from_the_pbu_destination_to_its_source_with_p_set_and_the_sequence_copied() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).seq(31).build());
    let (src, dst, transport, _) = sent(&out)[0];
    assert_eq!((src, dst, transport), (ip(LMAA), ip(MAG1), Transport::Ipv6));
    let ba = pba(&out);
    assert_eq!(ba.flags, ba_flags::P);
    assert_eq!(ba.seq, 31);
}

#[test]
fn pba_always_carries_the_mn_id_hi_and_att_copied_from_the_pbu() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hi(Some(1)).att(Some(8)).build());
    let o = &pba(&out).options;
    assert_eq!(mn_id_of(o), Some((1, DUAL.as_bytes().to_vec())));
    assert!(o.contains(&MobilityOption::HandoffIndicator(1)));
    assert!(o.contains(&MobilityOption::AccessTechnology(8)));
}

#[test]
fn non_nai_mn_ids_are_echoed_with_their_subtype() {
    let mut h = H::new();
    let imsi = vec![0x21, 0x43, 0x65, 0x87, 0x09, 0x21, 0x43, 0xf5];
    let bu = Pbu::new(DUAL).no_mn_id().opt(MobilityOption::MnIdentifier { subtype: 3, id: imsi.clone() }).build();
    let out = h.pbu(MAG1, bu);
    assert_eq!(pba(&out).status, 0);
    assert_eq!(mn_id_of(&pba(&out).options), Some((3, imsi)));
    assert_eq!(&*installs(&out)[0].mn_id, "0x21436587092143f5");
}

#[test]
fn reject_copies_every_hnp_option_of_the_request() {
    let mut h = H::with(|c| c.profiles.default = None);
    let out = h.pbu(MAG1, Pbu::new("x@y").hnps(&["2001:db8:100:7::", "::"]).build());
    let ba = pba(&out);
    assert_eq!(ba.status, 153);
    assert_eq!(hnps_of(&ba.options), [(64, v6("2001:db8:100:7::")), (0, Ipv6Addr::UNSPECIFIED)]);
    assert_eq!(ba.lifetime, 0);
}

#[test]
fn accept_carries_one_hnp_per_assigned_prefix() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnps(&["::", "2001:db8:100:77::"]).build());
    let s = installs(&out)[0];
    assert_eq!(hnps_of(&pba(&out).options), s.hnps.iter().map(|p| (64, *p)).collect::<Vec<_>>());
    assert!(s.hnps.contains(&v6("2001:db8:100:77::")));
}

#[test]
fn mn_ll_id_is_echoed_only_when_the_pbu_had_one() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).ll(&[1, 2, 3, 4, 5, 6]).build());
    assert!(pba(&out).options.contains(&MobilityOption::MnLinkLayerId(vec![1, 2, 3, 4, 5, 6])));
    assert_eq!(installs(&out)[0].mn_ll_id, [1, 2, 3, 4, 5, 6]);
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).build());
    assert!(!pba(&out).options.iter().any(|o| matches!(o, MobilityOption::MnLinkLayerId(_))));
}

#[test]
fn all_zero_link_local_address_on_a_new_session_gets_a_generated_one_stored_in_the_bce() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).lla("::").build());
    let s = installs(&out)[0];
    let lla = lla_of(&pba(&out).options).unwrap();
    assert!(!lla.is_unspecified());
    assert_eq!(lla.segments()[0], 0xfe80);
    assert_eq!(s.link_local, Some(lla));
}

#[test]
fn all_zero_link_local_address_on_an_existing_session_returns_the_stored_one() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).lla("fe80::99").build());
    let s = installs(&out)[0].clone();
    let out = h.pbu(MAG2, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).hi(Some(2)).lla("::").seq(2).build());
    assert_eq!(lla_of(&pba(&out).options), Some(v6("fe80::99")));
}

#[test]
fn non_zero_link_local_address_is_echoed_and_stored() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).lla("fe80::1234").build());
    assert_eq!(lla_of(&pba(&out).options), Some(v6("fe80::1234")));
    assert_eq!(installs(&out)[0].link_local, Some(v6("fe80::1234")));
}

#[test]
fn link_local_address_is_copied_on_reject_and_absent_when_not_asked() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().lla("::").build());
    assert_eq!(pba(&out).status, status::MISSING_HOME_NETWORK_PREFIX_OPTION);
    assert_eq!(lla_of(&pba(&out).options), Some(Ipv6Addr::UNSPECIFIED));
    let out = h.pbu(MAG1, Pbu::new(DUAL).build());
    assert_eq!(lla_of(&pba(&out).options), None);
}

#[test]
fn rejected_pba_has_lifetime_zero_and_no_gre_or_ipv4_router_options() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(NO_PMIP).gre(Some(5)).v4("0.0.0.0").build());
    let ba = pba(&out);
    assert_eq!((ba.status, ba.lifetime), (152, 0));
    assert_eq!(gre_of(&ba.options), None);
    assert!(!ba.options.iter().any(|o| matches!(o, MobilityOption::Ipv4DefaultRouter(_))));
    assert_eq!(reply_of(&ba.options), Some((128, 32, Ipv4Addr::UNSPECIFIED)));
}

#[test]
fn pba_counters_count_each_status() {
    let mut h = H::new();
    h.pbu(MAG1, Pbu::new(DUAL).build());
    h.pbu(MAG1, Pbu::new(DUAL).no_hnp().build());
    h.pbu(MAG1, Pbu::new(DUAL).no_hnp().build());
    let c = h.lma.counters();
    assert_eq!((c.pba_sent.get(&0), c.pba_sent.get(&158)), (Some(&1), Some(&2)));
    assert_eq!(c.pbu_received, 3);
}
