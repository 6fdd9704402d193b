//! §9.3: the draft-ietf-mip4-dsmipv4-01 compatibility mode
//! (`ha.dsmip4_draft01_type`): the draft's layout under a private type,
//! IPv6 home addresses on the home link with duplicate address detection,
//! reply codes 10 and 11.

use anchor_config::{PortConfig, PortDevice, PortRole};

use super::*;
use crate::mip4::ext::{draft01_code, prefix_code, Dialect};

/// The private type of these tests.
const DRAFT: u8 = 200;
/// The home link's IPv6 subnet (our address ::1 on it).
const HOME6: &str = "2001:db8:2::1/64";

/// A home agent in draft mode with a home-link port carrying [`HOME6`].
fn draft_ha() -> H {
    H::with_config(|c| {
        c.ha.as_mut().unwrap().dsmip4_draft01_type = Some(DRAFT);
        c.ports.push(PortConfig {
            name: "home".into(),
            role: PortRole::Home,
            device: PortDevice::Vdev("net_ring0".into()),
            ipv4: Vec::new(),
            ipv6: vec![HOME6.parse().unwrap()],
            mtu: 1500,
            home_link: true,
        });
    })
}

/// A draft -01 IPv6 Prefix Extension.
fn request(len: u8, prefix: &str) -> Extension {
    let ext = Extension::Ipv6PrefixRequest { prefix_len: len, prefix: v6(prefix) };
    Extension::Draft01 { ext_type: DRAFT, ext: Box::new(ext) }
}

/// The draft -01 replies of a reply: (code, length, prefix); an RFC 5454
/// reply in it fails the test.
fn draft_replies(exts: &[Extension]) -> Vec<(u8, u8, Ipv6Addr)> {
    exts.iter()
        .filter_map(|e| match e {
            Extension::Draft01 { ext_type: DRAFT, ext } => match **ext {
                Extension::Ipv6PrefixReply { code, prefix_len, prefix } => Some((code, prefix_len, prefix)),
                _ => None,
            },
            Extension::Ipv6PrefixReply { .. } => panic!("an RFC 5454 reply to a draft request: {exts:?}"),
            _ => None,
        })
        .collect()
}

fn dads(out: &[Output]) -> Vec<Ipv6Addr> {
    out.iter().filter_map(|o| if let Output::Dad { addr } = o { Some(*addr) } else { None }).collect()
}

#[test]
fn draft_extensions_are_read_under_the_private_type_and_answered_in_the_draft_layout() {
    let mut h = draft_ha();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(0, "::")));
    let r = rrp(&out);
    assert_eq!(r.code, 0);
    assert_eq!(draft_replies(&r.extensions), [(prefix_code::ACCEPTED_TO_HOA, 64, v6("2001:db8:100::"))]);
    // On the wire: type 200, Length 22 (the whole extension), before MN-HA.
    let bytes = wire::emit(reply_msg(&out));
    let parsed = wire::parse_with_offsets_in(&bytes, Dialect { dsmip4_draft01: Some(DRAFT) }).unwrap();
    let at = parsed.offsets[1];
    assert_eq!(bytes[at..at + 2], [DRAFT, 22]);
    assert_eq!(ext_types(parsed.message.extensions()), [131, DRAFT, 32]);
    let draft = Dialect { dsmip4_draft01: Some(DRAFT) };
    assert!(verifies_in(reply_msg(&out), AuthKind::MnHa, MN_SPI, &mn_key(DUAL), draft));
}

#[test]
fn without_the_mode_a_draft_extension_is_read_as_rfc_and_the_request_goes_unanswered() {
    let mut h = H::new();
    let id = h.id();
    // Its Length (the whole extension) read as an RFC TLV's runs two
    // octets into the MN-HA extension: nothing authenticates, no reply.
    let ext = Extension::Draft01 { ext_type: DRAFT, ext: Box::new(Extension::Ipv6TunnelingMode) };
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(ext));
    assert!(out.is_empty() && h.count() == 0, "{out:?}");
}

#[test]
fn rfc_5454_requests_keep_the_rfc_layout_in_the_mode() {
    let mut h = draft_ha();
    let id = h.id();
    let rfc = Extension::Ipv6PrefixRequest { prefix_len: 0, prefix: Ipv6Addr::UNSPECIFIED };
    let r = rrp(&h.send(Req::mn(DUAL).id(id).mn_ext(rfc))).clone();
    assert_eq!(ext_types(&r.extensions), [131, 152, 32]);
}

#[test]
fn a_home_address_on_the_home_link_is_granted_after_dad_finds_it_unique() {
    let mut h = draft_ha();
    let id = h.id();
    // ::IID/128: formed on the home subnet. The reply waits for DAD.
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "::42")));
    assert_eq!(dads(&out), [v6("2001:db8:2::42")]);
    assert!(rrps(&out).is_empty() && h.count() == 0, "{out:?}");
    let out = h.ha.dad_done(v6("2001:db8:2::42"), true, h.now, h.wall);
    let r = rrp(&out);
    assert_eq!(r.code, 0);
    assert_eq!(draft_replies(&r.extensions), [(prefix_code::ACCEPTED_TO_HOA, 128, v6("2001:db8:2::42"))]);
    assert_eq!(installs(&out)[0].home_address6, Some(v6("2001:db8:2::42")));
    // A renewal keeps it without another DAD.
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "::42")));
    assert!(dads(&out).is_empty());
    assert_eq!(draft_replies(&rrp(&out).extensions), [(0, 128, v6("2001:db8:2::42"))]);
    // A full address on the home subnet works the same way.
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(request(128, "2001:db8:2::77")));
    assert_eq!(dads(&out), [v6("2001:db8:2::77")]);
}

#[test]
fn dad_finding_the_address_in_use_is_code_11_and_the_ipv4_registration_stands() {
    let mut h = draft_ha();
    let id = h.id();
    h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "::42")));
    let out = h.ha.dad_done(v6("2001:db8:2::42"), false, h.now, h.wall);
    let r = rrp(&out);
    assert_eq!(r.code, 0);
    assert_eq!(draft_replies(&r.extensions), [(draft01_code::DAD_FAILED, 128, v6("::42"))]);
    assert_eq!(installs(&out)[0].home_address6, None);
    assert_eq!(h.ha.counters().dad_duplicates, 1);
}

#[test]
fn an_address_off_the_home_subnet_is_code_10_at_once() {
    let mut h = draft_ha();
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "2001:db8:99::5")));
    assert!(dads(&out).is_empty());
    assert_eq!(draft_replies(&rrp(&out).extensions), [(draft01_code::NOT_HOME_SUBNET, 128, v6("2001:db8:99::5"))]);
    // No home link at all: every address is off it.
    let mut h = H::with(|c| c.dsmip4_draft01_type = Some(DRAFT));
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "::42")));
    assert_eq!(draft_replies(&rrp(&out).extensions), [(draft01_code::NOT_HOME_SUBNET, 128, v6("::42"))]);
}

#[test]
fn another_nodes_address_or_ours_is_code_11_without_dad() {
    let mut h = draft_ha();
    let id = h.id();
    h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "::42")));
    h.ha.dad_done(v6("2001:db8:2::42"), true, h.now, h.wall);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(request(128, "2001:db8:2::42")));
    assert!(dads(&out).is_empty());
    assert_eq!(draft_replies(&rrp(&out).extensions), [(draft01_code::DAD_FAILED, 128, v6("2001:db8:2::42"))]);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).mn_ext(request(128, "::1")));
    assert_eq!(draft_replies(&rrp(&out).extensions), [(draft01_code::DAD_FAILED, 128, v6("::1"))]);
}

#[test]
fn a_retransmission_while_dad_runs_starts_nothing_and_a_silent_dad_drops_the_request() {
    let mut h = draft_ha();
    let id = h.id();
    let r = Req::mn(DUAL).id(id).mn_ext(request(128, "::42"));
    assert_eq!(dads(&h.send(r.clone())).len(), 1);
    assert!(h.send(r.clone()).is_empty());
    // No result within 10 s: dropped (the node retransmits).
    h.advance(secs(11));
    assert_eq!(h.ha.counters().dad_timeouts, 1);
    assert!(h.ha.dad_done(v6("2001:db8:2::42"), true, h.now, h.wall).is_empty());
    let id = h.id();
    assert_eq!(dads(&h.send(r.id(id))).len(), 1, "asked again after the drop");
}

#[test]
fn a_de_registration_answers_the_draft_requests_in_the_draft_layout() {
    let mut h = draft_ha();
    let id = h.id();
    h.send(Req::mn(DUAL).id(id).mn_ext(request(128, "::42")));
    h.ha.dad_done(v6("2001:db8:2::42"), true, h.now, h.wall);
    let id = h.id();
    let out = h.send(Req::mn(DUAL).id(id).lifetime(0).mn_ext(request(128, "::42")));
    assert_eq!(draft_replies(&rrp(&out).extensions), [(0, 128, v6("::42"))]);
    assert_eq!(h.count(), 0);
    // The address is free again: another node may have it (after DAD).
    let id = h.id();
    assert_eq!(dads(&h.send(Req::mn(MN).id(id).mn_ext(request(128, "::42")))), [v6("2001:db8:2::42")]);
}
