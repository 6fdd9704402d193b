//! Packet-path micro-benchmark: cost of the classify node per packet, on
//! pre-built frames (an echo request to us, a transit packet, ARP for us).
//! Run: `cargo run --release -p bench`. Figures are for comparison between
//! runs on one machine, never assertions.

use std::hint::black_box;
use std::time::Instant;

use dataplane::addrs::{Ipv4Cidr, PortAddrs};
use dataplane::pipeline::classify;
use dataplane::wire::MacAddr;

const ROUNDS: usize = 5;
const PACKETS: usize = 10_000_000;

fn ipv4_frame(dst_mac: [u8; 6], dst: [u8; 4], proto: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(64);
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 2];
    ip.extend_from_slice(&dst);
    let sum: u32 = ip.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    let folded = !(((sum & 0xffff) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&folded.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&[8, 0, 0xf7, 0xff, 0, 0, 0, 0]);
    f
}

fn main() {
    let mac = [0x02, 0, 0, 0, 0, 0x01];
    let addrs = PortAddrs::new(MacAddr(mac), vec![Ipv4Cidr { addr: [192, 0, 2, 1].into(), prefix_len: 24 }], vec![]);
    let cases = [
        ("echo to us (punt)", ipv4_frame(mac, [192, 0, 2, 1], 1)),
        ("transit (no route)", ipv4_frame(mac, [203, 0, 113, 9], 17)),
    ];
    println!("classify cost per packet, median of {ROUNDS} rounds of {PACKETS} packets");
    for (name, frame) in &cases {
        let mut ns: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..PACKETS {
                    black_box(classify(black_box(frame), black_box(&addrs)));
                }
                t.elapsed().as_nanos() as f64 / PACKETS as f64
            })
            .collect();
        ns.sort_by(f64::total_cmp);
        println!("  {name:<22} {:6.2} ns/packet", ns[ROUNDS / 2]);
    }
}
