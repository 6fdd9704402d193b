//! §9.2: DSMIPv4 IPv6 prefixes bound to the IPv4 registration.

use super::*;
use crate::mip4::ext::prefix_code;
use crate::mip4::wire::rrq_flags;
use crate::mip4::Role;

fn request(len: u8, prefix: &str) -> Extension {
    Extension::Ipv6PrefixRequest { prefix_len: len, prefix: v6(prefix) }
}

fn replies(exts: &[Extension]) -> Vec<(u8, u8, Ipv6Addr)> {
    exts.iter()
        .filter_map(|e| match e {
            Extension::Ipv6PrefixReply { code, prefix_len, prefix } => Some((*code, *prefix_len, *prefix)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_zero_prefix_request_is_given_a_64_from_the_pool_tunnelled_to_the_home_address() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")));
    let r = rrp(&out);
    assert_eq!(r.code, 0);
    assert_eq!(replies(&r.extensions), [(prefix_code::ACCEPTED_TO_HOA, 64, v6("2001:db8:100::"))]);
    // §9.1: before MN-HA, covered by it.
    assert_eq!(ext_types(&r.extensions), [131, 152, 32]);
    let b = installs(&out)[0];
    assert_eq!((b.role, &b.prefixes[..], b.ipv6_to_coa), (Role::Dsmip4, &[v6("2001:db8:100::")][..], false));
}

#[test]
fn a_tunneling_mode_extension_from_a_co_located_node_tunnels_ipv6_to_the_care_of_address_code_1() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")).mn_ext(Extension::Ipv6TunnelingMode));
    assert_eq!(replies(&rrp(&out).extensions)[0].0, prefix_code::ACCEPTED_TO_COA);
    assert!(installs(&out)[0].ipv6_to_coa);
    // Through a foreign agent (D = 0) the extension is ignored: code 0.
    let mut h = H::new();
    let id = h.id();
    let r = Req::mn(DUAL).via(FA1).id(id).mn_ext(request(0, "::")).mn_ext(Extension::Ipv6TunnelingMode);
    assert_eq!(replies(&rrp(&h.send(r)).extensions)[0].0, prefix_code::ACCEPTED_TO_HOA);
}

#[test]
fn a_named_free_prefix_is_granted_and_a_taken_one_refused_with_9() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(64, "2001:db8:100:7::")));
    assert_eq!(replies(&rrp(&out).extensions), [(0, 64, v6("2001:db8:100:7::"))]);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(request(64, "2001:db8:100:7::")));
    assert_eq!(rrp(&out).code, 0, "the IPv4 registration still stands");
    assert_eq!(replies(&rrp(&out).extensions), [(prefix_code::REJECTED_ADMIN_PROHIBITED, 64, v6("2001:db8:100:7::"))]);
    // Outside the pool.
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(request(64, "2001:db8:999::")));
    assert_eq!(replies(&rrp(&out).extensions)[0].0, prefix_code::REJECTED_ADMIN_PROHIBITED);
}

#[test]
fn a_profile_without_ipv6_gets_every_prefix_refused_with_9() {
    let mut h = H::with_config(|c| c.profiles.mobile_nodes[1].ipv6 = false);
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")));
    assert_eq!(rrp(&out).code, 0);
    assert_eq!(replies(&rrp(&out).extensions), [(prefix_code::REJECTED_ADMIN_PROHIBITED, 0, v6("::"))]);
    assert!(installs(&out)[0].prefixes.is_empty());
}

#[test]
fn a_link_local_prefix_length_255_is_refused_with_8() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(255, "fe80::1")));
    assert_eq!(replies(&rrp(&out).extensions), [(prefix_code::REJECTED_UNSPECIFIED, 255, v6("fe80::1"))]);
}

#[test]
fn each_requested_prefix_gets_exactly_one_reply() {
    let mut h = H::new();
    let id = h.id();
    let p = request(64, "2001:db8:100:9::");
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(p.clone()).mn_ext(p).mn_ext(request(0, "::")));
    let got = replies(&rrp(&out).extensions);
    assert_eq!(got.len(), 2);
    assert_eq!(installs(&out)[0].prefixes.len(), 2);
}

#[test]
fn a_re_registration_keeps_named_prefixes_and_releases_the_ones_left_out() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")).mn_ext(request(64, "2001:db8:100:9::")));
    let first = installs(&out)[0].prefixes.clone();
    assert_eq!(first.len(), 2);
    // Renewal naming only the allocated one.
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(64, &first[0].to_string())));
    assert_eq!(replies(&rrp(&out).extensions), [(0, 64, first[0])]);
    assert_eq!(installs(&out)[0].prefixes, [first[0]]);
    assert!(!h.ha.pools().1.is_in_use(v6("2001:db8:100:9::")));
    // A renewal with no prefix at all leaves an IPv4-only binding.
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id));
    assert!(installs(&out)[0].prefixes.is_empty());
    assert!(!h.ha.pools().1.is_in_use(first[0]));
}

#[test]
fn de_registration_removes_the_prefixes_too() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")));
    let p = installs(&out)[0].prefixes[0];
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).lifetime(0).coa(COA).mn_ext(request(64, &p.to_string())));
    assert_eq!(rrp(&out).code, 0);
    assert_eq!(h.count(), 0);
    assert!(!h.ha.pools().1.is_in_use(p));
}

#[test]
fn with_dsmip4_off_prefix_requests_get_no_reply_at_all() {
    let mut h = H::with(|c| c.dsmip4 = false);
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")));
    assert_eq!(rrp(&out).code, 0);
    assert!(replies(&rrp(&out).extensions).is_empty());
    assert_eq!(installs(&out)[0].role, Role::Mip4);
}

#[test]
fn prefix_requests_placed_after_mn_ha_are_not_the_mobile_nodes_and_are_ignored() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).via(FA1).id(id).fa_ext(request(0, "::")));
    assert!(replies(&rrp(&out).extensions).is_empty());
    let _ = rrq_flags::D;
}
