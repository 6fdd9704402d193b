//! RFC 6275 §9.2, §9.3.1, §9.3.3: Binding Errors from the home agent —
//! status 2 for an unrecognized MH Type, status 1 for a Home Address option
//! (outside a Binding Update) for which there is no binding — sent to the
//! offending packet's source without a routing header, the Home Address
//! option's address in the message (rate limited by the control loop).

use super::*;
use crate::proto::dsmip6::{ipv6_packet_with_home_address, udp4_packet};
use crate::proto::header::Packet;
use crate::proto::{be_status, BindingError};

/// A Mobility Header of type `mh_type` (unknown to us) with its checksum
/// for `checksum`.
fn unknown_mh(mh_type: u8, checksum: Checksum) -> Vec<u8> {
    let mut mh = vec![0u8; 16];
    mh[0] = 59;
    mh[1] = 1;
    mh[2] = mh_type;
    Packet::new_checked(&mut mh[..]).unwrap().fill_checksum(checksum);
    mh
}

/// IPv6 from `coa` to the home agent with a Home Address option for `hoa`.
fn with_hao(coa: &str, hoa: &str, mh: &[u8]) -> Vec<u8> {
    ipv6_packet_with_home_address(v6(coa), v6(HA), v6(hoa), mh)
}

fn v6_checksum(hoa: &str) -> Checksum {
    Checksum::Ipv6 { src: v6(hoa), dst: v6(HA) }
}

/// The Binding Errors of `out`, parsed back: (destination, framing, message).
fn binding_errors(out: &[Output]) -> Vec<(IpAddr, Framing, BindingError)> {
    out.iter()
        .filter_map(|o| match o {
            Output::BindingError { dst, packet, status } => {
                let p = parse_packet(packet).expect("the Binding Error parses, checksum included");
                let MhMessage::BindingError(be) = p.msg else { panic!("not a Binding Error: {:?}", p.msg) };
                assert_eq!(be.status, *status);
                Some((*dst, p.framing, be))
            }
            _ => None,
        })
        .collect()
}

fn handle(h: &mut Harness, packet: &[u8]) -> Vec<Output> {
    let (now, wall) = (h.instant(), h.wall());
    h.ha.handle(packet, now, wall)
}

#[test]
fn an_unrecognized_mh_type_gets_binding_error_2_to_its_source_with_the_home_address() {
    let mut h = Harness::new();
    h.send(Bu::new(MN_HOA, 1));
    let out = handle(&mut h, &with_hao(COA, MN_HOA, &unknown_mh(99, v6_checksum(MN_HOA))));
    let be = binding_errors(&out);
    assert_eq!(be.len(), 1, "{out:?}");
    let (dst, framing, msg) = &be[0];
    // To the source (the care-of address), no routing header, from us.
    assert_eq!(*dst, IpAddr::V6(v6(COA)));
    assert_eq!(*framing, Framing::Ipv6 { src: v6(HA), dst: v6(COA), home_address: None, routing_home: None });
    assert_eq!(*msg, BindingError { status: be_status::UNRECOGNIZED_MH_TYPE, home_address: v6(MN_HOA) });
    assert_eq!(h.ha.counters().binding_errors.get(&2), Some(&1));
    // Nothing else changed.
    assert!(h.ha.registration(v6(MN_HOA)).is_some());
}

#[test]
fn an_unrecognized_mh_type_without_a_home_address_option_gets_status_2_with_the_unspecified_address() {
    let mut h = Harness::new();
    let mh = unknown_mh(1, Checksum::Ipv6 { src: v6(COA), dst: v6(HA) });
    let packet = crate::proto::dsmip6::ipv6_packet(v6(COA), v6(HA), None, &mh);
    // (Such a packet reaches the home agent only when the glue takes it
    // for DSMIPv6; the rule is the same.)
    let be = binding_errors(&handle(&mut h, &packet));
    assert_eq!(be.len(), 1);
    assert_eq!(be[0].2, BindingError { status: 2, home_address: Ipv6Addr::UNSPECIFIED });
}

#[test]
fn a_home_address_option_without_a_binding_gets_binding_error_1() {
    let mut h = Harness::new();
    // A Binding Refresh Request (not a Binding Update) with a Home Address
    // option for a home address nobody registered.
    let brr = emit(&MhMessage::BindingRefreshRequest, v6_checksum(MN_HOA));
    let be = binding_errors(&handle(&mut h, &with_hao(COA, MN_HOA, &brr)));
    assert_eq!(be.len(), 1);
    assert_eq!(be[0].0, IpAddr::V6(v6(COA)));
    assert_eq!(
        be[0].2,
        BindingError { status: be_status::UNKNOWN_BINDING_FOR_HOME_ADDRESS_DEST_OPTION, home_address: v6(MN_HOA) }
    );
    // The same from the care-of address the binding has: nothing to say.
    h.send(Bu::new(MN_HOA, 1));
    assert!(binding_errors(&handle(&mut h, &with_hao(COA, MN_HOA, &brr))).is_empty());
    // From another address than its care-of address: no binding for that.
    let be = binding_errors(&handle(&mut h, &with_hao(COA2, MN_HOA, &brr)));
    assert_eq!(be.iter().map(|b| b.2.status).collect::<Vec<_>>(), [1]);
}

#[test]
fn the_home_address_option_is_checked_before_the_mh_type() {
    let mut h = Harness::new();
    let be = binding_errors(&handle(&mut h, &with_hao(COA, MN_HOA, &unknown_mh(99, v6_checksum(MN_HOA)))));
    assert_eq!(be.iter().map(|b| b.2.status).collect::<Vec<_>>(), [1]);
}

#[test]
fn over_ipv4_udp_the_binding_error_goes_back_the_way_the_message_came() {
    let mut h = Harness::new();
    let f = from_nat();
    let packet = udp4_packet(&f, &unknown_mh(99, f.checksum())).unwrap();
    let be = binding_errors(&handle(&mut h, &packet));
    assert_eq!(be.len(), 1);
    assert_eq!(be[0].0, IpAddr::V4(v4(NAT)));
    assert_eq!(
        be[0].1,
        Framing::Udp4 {
            src: v4(HA4),
            dst: v4(NAT),
            src_port: DSMIP6_PORT,
            dst_port: NAT_PORT,
            inner_src: v6(HA),
            inner_dst: v6(MN_HOA),
        }
    );
    assert_eq!(be[0].2.status, be_status::UNRECOGNIZED_MH_TYPE);
}

#[test]
fn no_binding_error_for_a_packet_to_another_address_or_from_a_multicast_source() {
    let mut h = Harness::new();
    let mh = unknown_mh(99, Checksum::Ipv6 { src: v6(MN_HOA), dst: v6("2001:db8:100::2") });
    let other = ipv6_packet_with_home_address(v6(COA), v6("2001:db8:100::2"), v6(MN_HOA), &mh);
    assert!(binding_errors(&handle(&mut h, &other)).is_empty());
    let multicast =
        ipv6_packet_with_home_address(v6("ff02::1"), v6(HA), v6(MN_HOA), &unknown_mh(99, v6_checksum(MN_HOA)));
    assert!(binding_errors(&handle(&mut h, &multicast)).is_empty());
}

#[test]
fn a_binding_update_never_gets_a_binding_error() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(STRANGER_HOA, 1));
    assert!(binding_errors(&out).is_empty(), "no association: silently dropped");
    let out = h.send(Bu::new(MN_HOA, 1));
    assert!(binding_errors(&out).is_empty());
}
