//! §3.2: the PBU processing order and the statuses of its steps.

use super::*;
use crate::proto::{handoff, status, MobilityOption};

#[test]
fn pbu_from_an_unlisted_source_is_dropped_silently_and_counted() {
    let mut h = H::new();
    let out = h.pbu(UNLISTED, Pbu::new(DUAL).build());
    assert!(out.is_empty());
    assert_eq!(h.lma.counters().dropped_unlisted_peer, 1);
    assert_eq!(h.lma.counters().pbu_received, 0);
    assert_eq!(h.count(), 0);
}

#[test]
fn binding_update_without_the_p_flag_is_not_for_the_lma_and_is_dropped() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_p().build());
    assert!(out.is_empty());
    assert_eq!(h.lma.counters().not_proxy, 1);
}

#[test]
fn pbu_without_mn_id_is_rejected_with_160_and_a_zero_length_mn_id() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_mn_id().build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::MISSING_MN_IDENTIFIER_OPTION);
    assert_eq!(mn_id_of(&ba.options), Some((1, Vec::new())));
    assert_eq!(ba.lifetime, 0);
    assert_eq!(h.count(), 0);
}

#[test]
fn pbu_from_a_mag_the_profile_does_not_list_is_rejected_with_154() {
    let mut h = H::new();
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(MAG2_ONLY).build())).status, status::MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
    assert_eq!(pba(&h.pbu(MAG2, Pbu::new(MAG2_ONLY).build())).status, status::ACCEPTED);
}

#[test]
fn pbu_for_an_unknown_mn_without_a_default_profile_is_rejected_with_153() {
    let mut h = H::with(|c| c.profiles.default = None);
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new("stranger@x").build())).status, status::NOT_LMA_FOR_THIS_MOBILE_NODE);
    // A listed MN still registers.
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(DUAL).build())).status, status::ACCEPTED);
}

#[test]
fn pbu_for_an_unknown_mn_with_a_default_profile_is_accepted_under_that_profile() {
    let mut h = H::new();
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new("stranger@x").build())).status, status::ACCEPTED);
}

#[test]
fn pbu_for_an_mn_without_network_based_mobility_is_rejected_with_152() {
    let mut h = H::new();
    assert_eq!(pba(&h.pbu(MAG1, Pbu::new(NO_PMIP).build())).status, status::PROXY_REG_NOT_ENABLED);
}

#[test]
fn pbu_without_hnp_or_ipv4_hoa_request_is_rejected_with_158_and_one_all_zero_hnp() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::MISSING_HOME_NETWORK_PREFIX_OPTION);
    assert_eq!(hnps_of(&ba.options), [(0, Ipv6Addr::UNSPECIFIED)]);
}

#[test]
fn pbu_without_handoff_indicator_is_rejected_with_161_and_hi_zero_in_the_pba() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hi(None).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::MISSING_HANDOFF_INDICATOR_OPTION);
    assert!(ba.options.contains(&MobilityOption::HandoffIndicator(0)));
}

#[test]
fn pbu_without_access_technology_type_is_rejected_with_162_and_att_zero_in_the_pba() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).att(None).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::MISSING_ACCESS_TECH_TYPE_OPTION);
    assert!(ba.options.contains(&MobilityOption::AccessTechnology(0)));
}

#[test]
fn the_first_failing_step_decides_the_status() {
    let mut h = H::with(|c| c.profiles.default = None);
    // No MN-ID (step 4) before everything after it.
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_mn_id().no_hnp().hi(None).att(None).build());
    assert_eq!(pba(&out).status, 160);
    // MAG not authorised (5/6) before ordering and missing options.
    let out = h.pbu(MAG1, Pbu::new(MAG2_ONLY).no_hnp().hi(None).build());
    assert_eq!(pba(&out).status, 154);
    // Unknown MN (7) before missing options.
    let out = h.pbu(MAG1, Pbu::new("stranger@x").no_hnp().build());
    assert_eq!(pba(&out).status, 153);
    // Not enabled (8) before missing options.
    let out = h.pbu(MAG1, Pbu::new(NO_PMIP).no_hnp().build());
    assert_eq!(pba(&out).status, 152);
    // Missing HNP (10) before missing HI (11) before missing ATT (12).
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().hi(None).att(None).build());
    assert_eq!(pba(&out).status, 158);
    let out = h.pbu(MAG1, Pbu::new(DUAL).hi(None).att(None).build());
    assert_eq!(pba(&out).status, 161);
}

#[test]
fn ordering_is_checked_before_missing_options() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 10);
    let hnp = s.hnps[0].to_string();
    // Same session (Case A, same Proxy-CoA), stale sequence number, no HI.
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&hnp).seq(10).hi(None).build());
    assert_eq!(pba(&out).status, status::SEQUENCE_NUMBER_OUT_OF_WINDOW);
}

#[test]
fn pbu_with_a_duplicated_single_instance_option_is_rejected_with_128() {
    for dup in [
        MobilityOption::MnIdentifier { subtype: 1, id: b"dual@anchor.test".to_vec() },
        MobilityOption::HandoffIndicator(1),
        MobilityOption::AccessTechnology(4),
        MobilityOption::Timestamp(5),
        MobilityOption::MnLinkLayerId(vec![1, 2, 3, 4, 5, 6]),
        MobilityOption::LinkLocalAddress(v6("fe80::1")),
    ] {
        let mut h = H::new();
        let mut bu = Pbu::new(DUAL).opt(dup.clone());
        if !matches!(
            dup,
            MobilityOption::MnIdentifier { .. }
                | MobilityOption::HandoffIndicator(_)
                | MobilityOption::AccessTechnology(_)
        ) {
            bu = bu.opt(dup.clone());
        }
        let out = h.pbu(MAG1, bu.build());
        assert_eq!(pba(&out).status, status::REASON_UNSPECIFIED, "{dup:?}");
        assert_eq!(h.lma.counters().malformed, 1);
        assert_eq!(h.count(), 0);
    }
}

#[test]
fn repeated_hnp_options_are_allowed() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnps(&["::", "::"]).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(installs(&out)[0].hnps.len(), 2);
}

#[test]
fn vendor_specific_and_unknown_options_are_skipped() {
    let mut h = H::new();
    let bu = Pbu::new(DUAL)
        .opt(MobilityOption::VendorSpecific { vendor: 10415, subtype: 1, data: vec![1, 2] })
        .opt(MobilityOption::Unknown { option_type: 200, data: vec![0; 3] })
        .build();
    let out = h.pbu(MAG1, bu);
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.count(), 1);
}

#[test]
fn reserved_and_unknown_access_technology_types_are_stored_not_refused() {
    for att in [0, 13, 200] {
        let mut h = H::new();
        let out = h.pbu(MAG1, Pbu::new(DUAL).att(Some(att)).build());
        assert_eq!(pba(&out).status, 0);
        assert_eq!(installs(&out)[0].att, att);
        assert!(pba(&out).options.contains(&MobilityOption::AccessTechnology(att)));
    }
}

#[test]
fn reserved_handoff_indicator_values_are_accepted_as_a_new_attachment() {
    let mut h = H::new();
    for hi in [handoff::RESERVED, 6, 77] {
        let out = h.pbu(MAG1, Pbu::new(DUAL).hi(Some(hi)).build());
        assert_eq!(pba(&out).status, 0);
    }
    assert_eq!(h.count(), 3);
}

#[test]
fn first_pbu_creates_a_session_installs_it_and_is_accepted_with_the_assigned_prefix() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).seq(7).build());
    // Install before the PBA, so forwarding exists when the MAG sends data.
    assert!(matches!(out[0], Output::Install(_)));
    let s = installs(&out)[0].clone();
    assert_eq!(&*s.mn_id, DUAL);
    assert_eq!(s.hnps, [v6("2001:db8:100::")]);
    assert_eq!(s.proxy_coa, ip(MAG1));
    assert_eq!(s.local, ip(LMAA));
    assert_eq!(s.encap, super::super::Encap::IpIp);
    assert_eq!(s.att, 4);
    assert_eq!(s.mn_ll_id, [0, 0]);
    assert_eq!(s.lifetime, secs(400));
    assert_eq!(s.expires, h.now + secs(400));
    assert_eq!(s.last_seq, 7);
    let ba = pba(&out);
    assert_eq!((ba.status, ba.seq, ba.lifetime), (0, 7, 100));
    assert_eq!(hnps_of(&ba.options), [(64, v6("2001:db8:100::"))]);
    assert_eq!(h.lma.counters().pba_sent.get(&0), Some(&1));
    assert_eq!(h.lma.counters().sessions_created, 1);
}

#[test]
fn unexpected_messages_at_the_lma_are_counted_and_ignored() {
    let mut h = H::new();
    let ba = crate::proto::BindingAck { status: 0, flags: 0, seq: 1, lifetime: 0, options: Vec::new() };
    assert!(h.rx(MAG1, LMAA, Transport::Ipv6, MhMessage::BindingAck(ba)).is_empty());
    assert!(h.rx(MAG1, LMAA, Transport::Ipv6, MhMessage::BindingRefreshRequest).is_empty());
    assert_eq!(h.lma.counters().unexpected, 2);
}

#[test]
fn lma_is_none_without_an_lma_section() {
    let mut c = config();
    c.lma = None;
    assert!(Lma::new(&c).is_none());
}
