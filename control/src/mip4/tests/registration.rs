//! §8.7 steps 5–9 and the outcomes: home agent address, home addresses,
//! lifetimes, de-registration, expiry, and the reply.

use super::*;
use crate::mip4::ext::dynamic_ha_subtype;
use crate::mip4::wire::rrq_flags;
use crate::mip4::{code, Role};

#[test]
fn first_registration_assigns_a_home_address_installs_the_binding_and_replies_from_port_434() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).from(COA, 40000));
    let r = rrp(&out);
    assert_eq!((r.code, r.lifetime), (0, 600));
    assert_eq!(r.home_address, v4("203.0.113.2"));
    assert_eq!(r.home_agent, v4(HA_ADDR));
    // Reply: from the request's destination to its source and port.
    let (src, dst, port, _) = sent(&out)[0];
    assert_eq!((src, dst, port), (v4(HA_ADDR), v4(COA), 40000));
    let b = installs(&out)[0];
    assert_eq!((b.hoa, b.hoa_prefix_len, b.default_router), (v4("203.0.113.2"), 24, Some(v4("203.0.113.1"))));
    assert_eq!((b.coa, b.tunnel.remote, b.tunnel.local), (v4(COA), v4(COA), v4(HA_ADDR)));
    assert_eq!((&*b.mn_id, b.role), (MN, Role::Mip4));
    assert_eq!(b.lifetime, secs(600));
    assert_eq!(h.ha.counters().bindings_created, 1);
    assert_eq!(h.ha.counters().rrp_sent.get(&0), Some(&1));
}

#[test]
fn the_reply_carries_the_requests_nai_before_mn_ha() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id));
    assert_eq!(rrp(&out).extensions[0], Extension::Nai(MN.as_bytes().to_vec()));
}

#[test]
fn a_renewal_keeps_the_home_address_and_extends_the_lifetime_without_reinstalling() {
    let mut h = H::new();
    let b = h.register(MN);
    h.advance(secs(300));
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).hoa(&b.hoa.to_string()));
    assert_eq!((rrp(&out).code, rrp(&out).home_address, rrp(&out).lifetime), (0, b.hoa, 600));
    assert!(installs(&out).is_empty());
    assert_eq!(h.ha.bindings().next().unwrap().expires, h.now + secs(600));
    assert_eq!(h.ha.counters().renewals, 1);
    // A renewal still asking for 0.0.0.0 gets the same address.
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id))).home_address, b.hoa);
}

#[test]
fn a_renewal_asking_for_another_home_address_is_refused_with_129() {
    let mut h = H::new();
    h.register(MN);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).hoa("203.0.113.77"))).code, code::HA_ADMINISTRATIVELY_PROHIBITED);
}

#[test]
fn a_requested_free_home_address_of_the_pool_is_granted() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).hoa("203.0.113.50"));
    assert_eq!((rrp(&out).code, rrp(&out).home_address), (0, v4("203.0.113.50")));
    // ... and not to a second node.
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).hoa("203.0.113.50"));
    assert_eq!(rrp(&out).code, code::HA_ADMINISTRATIVELY_PROHIBITED);
}

#[test]
fn a_home_address_the_home_agent_cannot_serve_is_refused_with_129() {
    let mut h = H::new();
    for hoa in ["10.1.1.1", "203.0.113.1", "203.0.113.255", STATIC_HOA] {
        let id = h.id();
        assert_eq!(rrp(&h.send(Req::mn(MN).id(id).hoa(hoa))).code, code::HA_ADMINISTRATIVELY_PROHIBITED, "{hoa}");
    }
}

#[test]
fn a_static_profile_gets_its_address_and_no_other() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(STATIC4).id(id));
    assert_eq!(rrp(&out).home_address, v4(STATIC_HOA));
    let mut h = H::new();
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(STATIC4).id(id).hoa("203.0.113.9"))).code, code::HA_ADMINISTRATIVELY_PROHIBITED);
}

#[test]
fn an_exhausted_pool_is_refused_with_130() {
    let mut h = H::with_config(|c| c.pools.ipv4[0].subnet = "203.0.113.0/30".parse().unwrap());
    assert_eq!(h.register(MN).hoa, v4("203.0.113.2"));
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(DUAL).id(id))).code, code::HA_INSUFFICIENT_RESOURCES);
}

#[test]
fn the_binding_limit_is_refused_with_130() {
    let mut h = H::with(|c| c.max_bindings = 1);
    h.register(MN);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(DUAL).id(id))).code, code::HA_INSUFFICIENT_RESOURCES);
    // A renewal of the existing binding is still fine.
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id))).code, 0);
}

#[test]
fn a_profile_without_mip4_or_without_ipv4_is_refused_with_129() {
    let mut h = H::new();
    for mn in [NO_MIP4, V6ONLY] {
        let id = h.id();
        assert_eq!(rrp(&h.send(Req::mn(mn).id(id))).code, code::HA_ADMINISTRATIVELY_PROHIBITED, "{mn}");
    }
    // A node with an association but no profile follows the defaults.
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(BARE).id(id))).code, 0);
}

#[test]
fn the_lifetime_granted_is_capped_by_the_home_agent_and_the_profile() {
    let mut h = H::with(|c| c.max_lifetime = secs(1000));
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).lifetime(5000))).lifetime, 1000);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).lifetime(0xffff))).lifetime, 1000);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(SHORT).id(id).lifetime(600))).lifetime, 40);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(DUAL).id(id).lifetime(30))).lifetime, 30);
}

#[test]
fn bindings_expire_silently_and_give_their_address_back() {
    let mut h = H::new();
    let b = h.register(MN);
    assert_eq!(h.ha.next_deadline(), Some(b.expires));
    assert!(h.advance(secs(599)).is_empty());
    let out = h.advance(secs(1));
    assert_eq!(removes(&out), [b.id]);
    assert!(sent(&out).is_empty(), "no reply on expiry");
    assert_eq!(h.count(), 0);
    assert_eq!(h.ha.counters().expired, 1);
    assert!(!h.ha.pools().0.is_in_use(b.hoa));
    assert_eq!(h.ha.next_deadline(), None);
}

#[test]
fn de_registration_with_care_of_equal_to_home_address_removes_the_binding() {
    let mut h = H::new();
    let b = h.register(MN);
    let id = h.id();
    let hoa = b.hoa.to_string();
    let out = h.send(Req::mn(MN).id(id).lifetime(0).hoa(&hoa).coa(&hoa).from(&hoa, MIP4_PORT));
    assert_eq!((rrp(&out).code, rrp(&out).lifetime, rrp(&out).home_address), (0, 0, b.hoa));
    assert_eq!(removes(&out), [b.id]);
    assert_eq!(h.count(), 0);
    assert!(!h.ha.pools().0.is_in_use(b.hoa));
    assert_eq!(h.ha.counters().deregistrations, 1);
    // The reply goes back to the node at home.
    assert_eq!(sent(&out)[0].1, b.hoa);
}

#[test]
fn de_registration_of_the_registered_care_of_address_removes_the_binding() {
    let mut h = H::new();
    let b = h.register(MN);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).lifetime(0).hoa(&b.hoa.to_string()));
    assert_eq!(removes(&out), [b.id]);
}

#[test]
fn de_registration_of_another_care_of_address_keeps_the_binding() {
    let mut h = H::new();
    let b = h.register(MN);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).lifetime(0).hoa(&b.hoa.to_string()).coa("198.51.100.55"));
    assert_eq!(rrp(&out).code, 0);
    assert!(removes(&out).is_empty());
    assert_eq!(h.count(), 1);
}

#[test]
fn de_registration_without_a_binding_is_accepted() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).lifetime(0).hoa("203.0.113.9"));
    assert_eq!((rrp(&out).code, rrp(&out).home_address), (0, v4("203.0.113.9")));
}

#[test]
fn a_move_to_another_care_of_address_reinstalls_the_tunnel_as_a_handoff() {
    let mut h = H::new();
    let b = h.register(MN);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).coa("198.51.100.21").from("198.51.100.21", MIP4_PORT));
    let moved = installs(&out)[0];
    assert_eq!((moved.id, moved.hoa, moved.tunnel.remote), (b.id, b.hoa, v4("198.51.100.21")));
    assert_eq!(h.ha.counters().handoffs, 1);
}

#[test]
fn simultaneous_bindings_are_not_supported_so_s_is_answered_with_code_1_and_replaces() {
    let mut h = H::new();
    h.register(MN);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).flags(rrq_flags::S).coa("198.51.100.21").from("198.51.100.21", MIP4_PORT));
    assert_eq!(rrp(&out).code, code::ACCEPTED_NO_SIMULTANEOUS_BINDINGS);
    assert_eq!(h.count(), 1);
    assert_eq!(h.ha.bindings().next().unwrap().coa, v4("198.51.100.21"));
}

#[test]
fn request_to_a_home_subnet_directed_broadcast_is_rejected_with_136_from_our_unicast_address() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).to("203.0.113.255"));
    assert_eq!(rrp(&out).code, code::HA_UNKNOWN_HOME_AGENT_ADDRESS);
    assert_eq!(rrp(&out).home_agent, v4(HA_ADDR));
    assert_eq!(sent(&out)[0].0, v4(HA_ADDR));
}

#[test]
fn a_home_agent_field_that_is_not_ours_is_rejected_with_136() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).home_agent("192.0.2.50"));
    assert_eq!((rrp(&out).code, rrp(&out).home_agent), (code::HA_UNKNOWN_HOME_AGENT_ADDRESS, v4(HA_ADDR)));
}

#[test]
fn a_dynamic_home_agent_request_is_accepted_with_our_address() {
    for any in ["0.0.0.0", "255.255.255.255"] {
        let mut h = H::new();
        let id = h.id();
        let out = h.send(Req::mn(MN).id(id).home_agent(any));
        assert_eq!((rrp(&out).code, rrp(&out).home_agent), (0, v4(HA_ADDR)), "{any}");
    }
}

#[test]
fn a_requested_ha_extension_naming_another_address_than_the_destination_is_rejected_with_136() {
    let mut h = H::new();
    let id = h.id();
    let ext = Extension::DynamicHa { subtype: dynamic_ha_subtype::REQUESTED_HA, addr: v4("192.0.2.50") };
    let out = h.send(Req::mn(MN).id(id).home_agent("0.0.0.0").mn_ext(ext));
    assert_eq!(rrp(&out).code, code::HA_UNKNOWN_HOME_AGENT_ADDRESS);
    let id = h.id();
    let ext = Extension::DynamicHa { subtype: dynamic_ha_subtype::REQUESTED_HA, addr: v4(HA_ADDR) };
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).home_agent("0.0.0.0").mn_ext(ext))).code, 0);
}

#[test]
fn a_full_home_agent_redirects_a_dynamic_ha_request_with_143_and_a_redirected_ha_extension() {
    let mut h = H::with(|c| {
        c.max_bindings = 1;
        c.redirect_to = Some(v4("192.0.2.9"));
    });
    h.register(MN);
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).home_agent("255.255.255.255"));
    let r = rrp(&out);
    assert_eq!((r.code, r.home_agent), (code::HA_REDIRECT, v4(HA_ADDR)));
    assert!(r.extensions.contains(&Extension::DynamicHa { subtype: 2, addr: v4("192.0.2.9") }));
    assert!(verifies(reply_msg(&out), AuthKind::MnHa, MN_SPI, &mn_key(DUAL)));
    // A request naming us is not redirected: 130.
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(DUAL).id(id))).code, code::HA_INSUFFICIENT_RESOURCES);
}

#[test]
fn a_critical_vendor_extension_is_not_understood_140_from_the_mn_and_141_from_the_fa() {
    let cvse = Extension::Cvse { vendor_id: 9, vendor_type: 1, value: vec![1] };
    let mut h = H::new();
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).id(id).mn_ext(cvse.clone()))).code, code::HA_CVSE_FROM_MN_NOT_UNDERSTOOD);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::mn(MN).via(FA1).id(id).fa_ext(cvse))).code, code::HA_CVSE_FROM_FA_NOT_UNDERSTOOD);
}

#[test]
fn normal_vendor_and_unknown_skippable_extensions_are_skipped() {
    let mut h = H::new();
    let id = h.id();
    let r = Req::mn(MN)
        .id(id)
        .mn_ext(Extension::Nvse { vendor_id: 9, vendor_type: 1, value: vec![1] })
        .mn_ext(Extension::Unknown { ext_type: 250, data: vec![1, 2, 3] })
        .mn_ext(Extension::EncapDeliveryStyle);
    assert_eq!(rrp(&h.send(r)).code, 0);
}

#[test]
fn an_unknown_non_skippable_extension_makes_the_request_silently_discarded() {
    let mut h = H::new();
    let id = h.id();
    let mut bytes = wire::emit(&Req::mn(MN).id(id).build());
    // Type 99 (0-127: non-skippable) inserted after the NAI.
    let at = 24 + 2 + MN.len();
    bytes.splice(at..at, [99u8, 2, 0, 0]);
    assert!(h.rx_bytes(COA, MIP4_PORT, HA_ADDR, bytes).is_empty());
    assert_eq!(h.ha.counters().malformed, 1);
}

#[test]
fn the_reserved_r_and_x_flag_bits_are_ignored() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).flags(rrq_flags::R_IGNORED | rrq_flags::X_IGNORED));
    assert_eq!(rrp(&out).code, 0);
}

#[test]
fn replies_and_tunnel_data_sent_to_the_home_agent_are_counted_and_ignored() {
    let mut h = H::new();
    let rrp = Message::Rrp(Rrp {
        code: 0,
        lifetime: 1,
        home_address: v4("203.0.113.2"),
        home_agent: v4(HA_ADDR),
        identification: 1,
        extensions: vec![],
    });
    assert!(h.rx_from(COA, MIP4_PORT, HA_ADDR, &rrp).is_empty());
    assert!(h.rx_bytes(COA, MIP4_PORT, HA_ADDR, vec![4, 4, 0, 0, 0x45]).is_empty());
    assert_eq!(h.ha.counters().unexpected, 2);
}
