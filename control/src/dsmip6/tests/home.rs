//! PROTOCOLS.md §11.4, the home agent's side of the extended home link
//! (draft-premec-mext-extended-home-link-00 §5.2): a care-of address equal
//! to the home address of its family puts the node on that home link; that
//! family's binding stops forwarding (a shadow proxy binding takes over,
//! [`Output::AtHome`]) and the other family is tunnelled to that home
//! address (a nested tunnel).

use super::*;
use crate::dsmip6::Home;
use crate::proto::{ipv4_ack_status, status};

fn at_home(out: &[Output]) -> Vec<IpAddr> {
    out.iter()
        .filter_map(|o| match o {
            Output::AtHome { addr, .. } => Some(*addr),
            _ => None,
        })
        .collect()
}

/// The static node, away at the IPv4 care-of address COA4.
fn away_over_ipv4(h: &mut Harness) -> (u32, u32) {
    let out = h.send(Bu::udp(STATIC_HOA, 1).ipv4_hoa(STATIC_V4));
    assert_eq!(bas(&out)[0].2.status, status::ACCEPTED);
    assert_eq!(owned(&out), [(Some(v4(STATIC_V4)), Some(v6(STATIC_HOA)))]);
    let r = h.ha.registration(v6(STATIC_HOA)).unwrap();
    (r.v6.id, r.v4.as_ref().unwrap().id)
}

#[test]
fn an_ipv4_care_of_address_equal_to_the_ipv4_home_address_puts_the_node_on_its_ipv4_home_link() {
    let mut h = Harness::new();
    let (v6_id, v4_id) = away_over_ipv4(&mut h);
    // From its IPv4 home address, with it as the care-of address.
    let home = v4(STATIC_V4);
    let out = h.send(
        Bu::udp(STATIC_HOA, 2).via(Via::Udp4 { coa: Some(home), src: home, port: DSMIP6_PORT }).ipv4_hoa(STATIC_V4),
    );
    let (dst, _, ba, _) = bas(&out).remove(0);
    assert_eq!((ba.status, dst), (status::ACCEPTED, IpAddr::V4(home)));
    // The BA still acknowledges the IPv4 home address.
    assert_eq!(ipv4_ack(&ba), Some((ipv4_ack_status::SUCCESS, 24, home)));
    // The IPv4 binding stops; IPv6 goes in IPv4 to the home address, nested.
    assert_eq!(removes(&out), [v4_id]);
    let b = installs(&out);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].id, b[0].hoa), (v6_id, IpAddr::V6(v6(STATIC_HOA))));
    assert_eq!(
        (b[0].tunnel.kind, b[0].tunnel.local, b[0].tunnel.remote),
        (TunnelKind::IpIp, IpAddr::V4(v4(HA4)), IpAddr::V4(home))
    );
    assert!(b[0].tunnel.nested && b[0].tunnel.spec().nested);
    assert_eq!(at_home(&out), [IpAddr::V4(home)]);
    assert_eq!(owned(&out), [(None, Some(v6(STATIC_HOA)))]);
    let r = h.ha.registration(v6(STATIC_HOA)).unwrap();
    assert_eq!(r.home, Home::Ipv4);
    assert_eq!(r.forwarded(), (None, Some(v6(STATIC_HOA))));
    // A refresh from home changes nothing.
    let out = h.send(
        Bu::udp(STATIC_HOA, 3).via(Via::Udp4 { coa: Some(home), src: home, port: DSMIP6_PORT }).ipv4_hoa(STATIC_V4),
    );
    assert!(
        installs(&out).is_empty() && removes(&out).is_empty() && at_home(&out).is_empty() && owned(&out).is_empty()
    );
    // Leaving home: both bindings forward to the new care-of address again.
    let out = h.send(Bu::udp(STATIC_HOA, 4).ipv4_hoa(STATIC_V4));
    let b = installs(&out);
    assert_eq!(b.len(), 2);
    assert!(b.iter().all(|x| x.tunnel.remote == IpAddr::V4(v4(COA4)) && !x.tunnel.nested));
    assert_eq!(owned(&out), [(Some(home), Some(v6(STATIC_HOA)))]);
    assert_eq!(h.ha.registration(v6(STATIC_HOA)).unwrap().home, Home::Away);
}

#[test]
fn a_care_of_address_equal_to_the_ipv6_home_address_with_an_ipv4_request_puts_the_node_on_its_ipv6_home_link() {
    let mut h = Harness::new();
    let out = h.send(Bu::new(STATIC_HOA, 1).ipv4_hoa(STATIC_V4));
    assert_eq!(bas(&out)[0].2.status, status::ACCEPTED);
    let r = h.ha.registration(v6(STATIC_HOA)).unwrap().clone();
    let (v6_id, v4_id) = (r.v6.id, r.v4.as_ref().unwrap().id);
    // From the IPv6 home address itself.
    let out = h.send(Bu::new(STATIC_HOA, 2).via(Via::Ipv6 { coa: v6(STATIC_HOA) }).ipv4_hoa(STATIC_V4));
    let (_, _, ba, _) = bas(&out).remove(0);
    assert_eq!(ba.status, status::ACCEPTED);
    assert_eq!(ipv4_ack(&ba), Some((ipv4_ack_status::SUCCESS, 24, v4(STATIC_V4))));
    assert_eq!(removes(&out), [v6_id]);
    let b = installs(&out);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].id, b[0].hoa), (v4_id, IpAddr::V4(v4(STATIC_V4))));
    assert_eq!((b[0].tunnel.local, b[0].tunnel.remote), (IpAddr::V6(v6(HA)), IpAddr::V6(v6(STATIC_HOA))));
    assert!(b[0].tunnel.nested);
    assert_eq!(at_home(&out), [IpAddr::V6(v6(STATIC_HOA))]);
    assert_eq!(owned(&out), [(Some(v4(STATIC_V4)), None)]);
    assert_eq!(h.ha.registration(v6(STATIC_HOA)).unwrap().home, Home::Ipv6);
}

#[test]
fn a_care_of_address_equal_to_the_home_address_without_an_ipv4_request_still_de_registers() {
    let mut h = Harness::new();
    h.send(Bu::new(STATIC_HOA, 1).ipv4_hoa(STATIC_V4));
    let out = h.send(Bu::new(STATIC_HOA, 2).via(Via::Ipv6 { coa: v6(STATIC_HOA) }));
    assert_eq!(bas(&out)[0].2.status, status::ACCEPTED);
    assert_eq!(removes(&out).len(), 2);
    assert!(h.ha.registration(v6(STATIC_HOA)).is_none());
    // Nothing owned any more.
    assert_eq!(owned(&out), [(None, None)]);
}
