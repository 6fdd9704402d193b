//! The worker's classifier on whole Ethernet frames, and the express paths
//! against the general ones (`dataplane::pipeline`, `dataplane::tunnel`):
//!
//! * `classify` and `express` never panic;
//! * what `express` accepts, `classify` treats the same way: a downlink at
//!   offset 14 to the same destination, or a GRE uplink with the same outer
//!   source, key, inner offset, inner source and outer ECN;
//! * a downlink encapsulated by the express node (when it accepts) is byte
//!   for byte what the general node writes, for GRE with a key over IPv4
//!   and over IPv6; an uplink decapsulated by the express node (when it
//!   accepts) likewise, and the express node accepts exactly when the
//!   general one succeeds.
//!
//! Seeds: the scapy-built tunnel goldens of dataplane/src/tunnel/testdata,
//! written by `fuzz/seeds.py`.

#![no_main]

use core::net::IpAddr;

use dataplane::addrs::{Ipv4Cidr, Ipv6Cidr, PortAddrs};
use dataplane::pipeline::classify::{classify, express, Express, ExpressAddrs, Verdict};
use dataplane::port::mem::MemBuf;
use dataplane::port::{PacketBuf, PortId};
use dataplane::tunnel::{decap, encap, Tunnel, TunnelKind, TunnelSpec};
use dataplane::wire::MacAddr;
use libfuzzer_sys::fuzz_target;

const US: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const PEER: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const CN: MacAddr = MacAddr([2, 0, 0, 0, 0, 3]);

fn addrs() -> PortAddrs {
    PortAddrs::new(
        US,
        vec![Ipv4Cidr { addr: [192, 0, 2, 1].into(), prefix_len: 24 }],
        vec![Ipv6Cidr { addr: "2001:db8:1::1".parse().expect("literal"), prefix_len: 64 }],
    )
}

fn tunnel(local: &str, remote: &str) -> Tunnel {
    let mut spec = TunnelSpec::new(TunnelKind::Gre, local.parse().expect("literal"), remote.parse().expect("literal"));
    (spec.key_in, spec.key_out) = (Some(100), Some(200));
    Tunnel::new(spec, US, Some(PEER))
}

fuzz_target!(|frame: &[u8]| {
    let a = addrs();
    let x = ExpressAddrs::new(&a).expect("two addresses fit");
    let verdict = classify(frame, &a);
    match express(frame, &x) {
        None => {}
        Some(Express::Down(dst)) => {
            assert_eq!(verdict, Verdict::Downlink { l3_off: 14, dst: IpAddr::V4(dst.into()) });
            down(frame, false);
        }
        Some(Express::Down6(dst)) => {
            assert_eq!(verdict, Verdict::Downlink { l3_off: 14, dst: IpAddr::V6(dst.into()) });
            down(frame, true);
        }
        Some(Express::Up(u)) => {
            let Verdict::Uplink(up) = verdict else { panic!("express uplink, classify {verdict:?}") };
            assert_eq!(up.kind, TunnelKind::Gre);
            assert_eq!(up.outer_src, IpAddr::V4(u.outer_src.into()));
            assert_eq!((up.key, up.inner_off, up.inner_v4), (u.key, usize::from(u.inner_off), true));
            assert_eq!((up.inner_src, up.outer_ecn), (IpAddr::V4(u.inner_src.into()), u.outer_ecn));
            let mut general = MemBuf::from_frame(PortId(0), frame);
            let want = decap::decapsulate(&mut general, &up, US, CN);
            let mut b = MemBuf::from_frame(PortId(0), frame);
            let took =
                decap::express_v4(&mut b, usize::from(u.inner_off), usize::from(u.inner_len), u.outer_ecn, US, CN);
            assert_eq!(took, want.is_ok(), "express decap accepts exactly what the general one does");
            if took {
                assert_eq!(b.data(), general.data());
            } else {
                assert_eq!(b.data(), frame, "a declined packet is unchanged");
            }
        }
    }
});

/// Both encapsulations of a downlink frame, over IPv4 and over IPv6.
fn down(frame: &[u8], inner_v6: bool) {
    for t in [tunnel("192.0.2.1", "192.0.2.2"), tunnel("2001:db8:1::1", "2001:db8:1::2")] {
        let x = t.express_header(inner_v6).expect("a next hop: an express header");
        let mut b = MemBuf::from_frame(PortId(0), frame);
        let (mut id_x, mut id_g) = (7u16, 7u16);
        if encap::express(&mut b, x, inner_v6, &mut id_x) {
            let mut general = MemBuf::from_frame(PortId(0), frame);
            let r = encap::encapsulate(&mut general, 14, &t, &mut id_g);
            assert_eq!(r, Ok(()), "the general node refuses what the express one took");
            assert_eq!(b.data(), general.data());
            assert_eq!(id_x, id_g);
        } else {
            assert_eq!(b.data(), frame, "a declined packet is unchanged");
        }
    }
}
