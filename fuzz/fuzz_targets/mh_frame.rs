//! `control::mh_io::receive` on arbitrary Ethernet frames: the Mobility
//! Header behind IPv6 (next header 135) or IPv4 | UDP 5436, the way punted
//! signalling reaches the LMA. What it accepts must satisfy the codec's
//! re-emit promises (`anchor_fuzz::check_reemit`), and framed back the way
//! the LMA sends (`mh_io::frame`) it must be received as the same message.

#![no_main]

use anchor_fuzz::{auth_last, check_reemit};
use control::mh_io;
use control::pmip6::{Received, Transport, PMIP6_CONTROL_PORT};
use dataplane::wire::MacAddr;
use libfuzzer_sys::fuzz_target;

const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

fuzz_target!(|data: &[u8]| {
    let Ok(rx) = mh_io::receive(data) else { return };
    if check_reemit(&rx.msg).is_none() {
        return; // emit cuts it: nothing to compare
    }
    // Sent back to port 5436 so that `receive` takes it again.
    let transport = match rx.transport {
        Transport::Ipv6 => Transport::Ipv6,
        Transport::Udp4 { .. } => Transport::Udp4 { src_port: PMIP6_CONTROL_PORT },
    };
    let frame = mh_io::frame(MAC, MAC, rx.src, rx.dst, transport, &rx.msg).expect("a received message frames back");
    let back = mh_io::receive(&frame).expect("a framed message is received");
    assert_eq!(back, Received { src: rx.src, dst: rx.dst, transport, msg: auth_last(&rx.msg) });
});
