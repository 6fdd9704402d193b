//! §10: Proxy Mobile IPv4 registrations by proxy mobility agents.

use dataplane::tunnel::TunnelKind;

use super::*;
use crate::mip4::code;
use crate::mip4::Role;

#[test]
fn a_per_node_authenticated_proxy_registration_is_accepted_and_answered_with_the_method_and_fa_ha() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::proxy(HOST, FA1).id(id).mn_ext(Extension::AccessTechnology(3)));
    let r = rrp(&out);
    assert_eq!(r.code, 0);
    // NAI, method, FA-HA: no MN-HA, and the ATT is not returned (§10.2).
    assert_eq!(ext_types(&r.extensions), [131, 47, 34]);
    assert!(verifies(reply_msg(&out), AuthKind::FaHa, FA1_SPI, &fa_key(FA1)));
    let b = installs(&out)[0];
    assert_eq!((b.role, b.coa, b.tunnel.kind, b.tunnel.remote), (Role::Pmip4, v4(FA1), TunnelKind::IpIp, v4(FA1)));
    assert_eq!(b.att, Some(3));
}

#[test]
fn a_proxy_registration_with_a_bad_fa_ha_is_refused_with_132() {
    let mut h = H::new();
    let id = h.id();
    let out = h.send(Req::proxy(HOST, FA1).id(id).fa_ha(FA1_SPI, vec![3; 16]));
    assert_eq!(rrp(&out).code, code::HA_FA_FAILED_AUTHENTICATION);
}

#[test]
fn a_per_node_registration_from_a_node_without_an_association_is_silently_discarded() {
    let mut h = H::new();
    let id = h.id();
    assert!(h.send(Req::proxy(HOST, FA_UNKNOWN).id(id)).is_empty());
}

#[test]
fn proxy_registrations_when_the_home_agent_has_them_off_are_149() {
    let mut h = H::with(|c| c.pmip4 = false);
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::proxy(HOST, FA1).id(id))).code, code::PMIP_UNSUPPORTED);
    // PMIPv4 extensions with per-MN authentication too.
    let id = h.id();
    let r = Req::mn(MN).via(FA1).id(id).mn_ext(Extension::InterfaceId(b"eth0".to_vec()));
    assert_eq!(rrp(&h.send(r)).code, code::PMIP_UNSUPPORTED);
}

#[test]
fn proxy_registrations_from_a_pma_not_allowed_them_are_150() {
    let mut h = H::new();
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::proxy(HOST, FA2).id(id))).code, code::PMIP_DISALLOWED);
}

#[test]
fn a_proxy_registration_for_an_nai_without_a_profile_is_129() {
    let mut h = H::new();
    let id = h.id();
    assert_eq!(rrp(&h.send(Req::proxy("nobody@anchor.test", FA1).id(id))).code, code::HA_ADMINISTRATIVELY_PROHIBITED);
}

#[test]
fn per_mn_authentication_through_a_pma_is_a_proxy_registration_too() {
    let mut h = H::new();
    let id = h.id();
    let r = Req::mn(MN).via(FA1).id(id).mn_ext(Extension::DeviceId { id_type: 1, id: vec![2, 0, 0, 0, 0, 1] });
    let out = h.send(r);
    assert_eq!(rrp(&out).code, 0);
    let b = installs(&out)[0];
    assert_eq!(b.role, Role::Pmip4);
    assert_eq!(b.device_id, Some((1, vec![2, 0, 0, 0, 0, 1])));
}

#[test]
fn the_identifiers_of_a_proxy_registration_are_stored_on_the_binding() {
    let mut h = H::new();
    let id = h.id();
    let r = Req::proxy(HOST, FA1)
        .id(id)
        .mn_ext(Extension::InterfaceId(b"ge-0/0/1".to_vec()))
        .mn_ext(Extension::DeviceId { id_type: 3, id: b"490154203237518".to_vec() })
        .mn_ext(Extension::SubscriberId { id_type: 1, id: b"001010123456789".to_vec() })
        .mn_ext(Extension::AccessTechnology(5));
    let out = h.send(r);
    let b = installs(&out)[0];
    assert_eq!(b.interface_id.as_deref(), Some(&b"ge-0/0/1"[..]));
    assert_eq!(b.device_id, Some((3, b"490154203237518".to_vec())));
    assert_eq!(b.subscriber_id, Some((1, b"001010123456789".to_vec())));
    assert_eq!(b.att, Some(5));
}

#[test]
fn bindings_are_looked_up_by_nai_and_a_registration_from_a_new_pma_is_a_handoff_keeping_the_address() {
    let mut h = H::with(|c| c.foreign_agents[1].proxy = true);
    let id = h.id();
    let first = installs(&h.send(Req::proxy(HOST, FA1).id(id))).first().copied().cloned().unwrap();
    let id = h.id();
    let out = h.send(Req::proxy(HOST, FA2).id(id));
    let r = rrp(&out);
    assert_eq!((r.code, r.home_address), (0, first.hoa));
    let moved = installs(&out)[0];
    assert_eq!((moved.id, moved.tunnel.remote), (first.id, v4(FA2)));
    assert_eq!(h.count(), 1);
    assert_eq!(h.ha.counters().handoffs, 1);
}

#[test]
fn a_multi_interface_device_gets_one_binding_per_access_technology() {
    let mut h = H::new();
    let id = h.id();
    let a = h.send(Req::proxy(HOST, FA1).id(id).mn_ext(Extension::AccessTechnology(2)));
    let id = h.id();
    let b = h.send(Req::proxy(HOST, FA1).id(id).mn_ext(Extension::AccessTechnology(5)));
    assert_eq!((rrp(&a).code, rrp(&b).code), (0, 0));
    assert_ne!(rrp(&a).home_address, rrp(&b).home_address);
    assert_eq!(h.count(), 2);
}

#[test]
fn stale_proxy_registrations_are_ignored_by_identification_order_133() {
    let mut h = H::with(|c| c.foreign_agents[1].proxy = true);
    let older = h.id();
    let newer = h.id();
    assert_eq!(rrp(&h.send(Req::proxy(HOST, FA2).id(newer))).code, 0);
    assert_eq!(rrp(&h.send(Req::proxy(HOST, FA1).id(older))).code, code::HA_IDENTIFICATION_MISMATCH);
    assert_eq!(h.ha.bindings().next().unwrap().tunnel.remote, v4(FA2));
}
