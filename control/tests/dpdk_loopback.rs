//! The punt path on a real DPDK port: a `net_ring` loopback device (in DPDK
//! 22.11 only TX queue 0 loops back, to RX queue 0), real mbufs, a real
//! rte_ring. An echo request sent on queue 0 is received by the worker,
//! punted, answered by the control thread (here on queue 0 so that the reply
//! loops back) and read back from RX queue 0. At the end
//! every mbuf is back in the pool. Bursts on queues that do not exist are
//! refused, not undefined behaviour.
//!
//! One EAL per test binary: this file holds one test.

use std::sync::Arc;
use std::time::Instant;

use control::neigh::{NeighborConfig, Neighbors};
use dataplane::addrs::{Ipv4Cidr, PortAddrs};
use dataplane::counters::WorkerCounters;
use dataplane::pipeline::Worker;
use dataplane::port::dpdk::{Eal, EthPort, Mempool, PortSetup, Ring};
use dataplane::port::{PacketBuf, Port, QueueId};
use dataplane::wire::{ethernet, icmpv4, ipv4, MacAddr};

fn echo_request(dst_mac: MacAddr) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 8 + 4];
    ethernet::emit_header(&mut f, dst_mac, MacAddr([2, 0, 0, 0, 0, 2]), ethernet::ethertype::IPV4);
    let repr = ipv4::Ipv4Repr {
        src: [192, 0, 2, 2].into(),
        dst: [192, 0, 2, 1].into(),
        protocol: ipv4::protocol::ICMP,
        ttl: 64,
        tos: 0,
        payload_len: 12,
    };
    repr.emit(&mut f[14..]);
    let mut icmp = icmpv4::Packet::new_unchecked(&mut f[34..]);
    icmp.set_msg_type(icmpv4::TYPE_ECHO_REQUEST);
    icmp.set_echo_ident(1);
    icmp.set_echo_seq(1);
    icmp.payload_mut().copy_from_slice(b"ring");
    icmp.fill_checksum();
    f
}

#[test]
fn echo_request_on_a_dpdk_ring_port_is_answered_and_no_mbuf_leaks() {
    let prefix = format!("anchor-loopback-{}", std::process::id());
    let args: Vec<String> = [
        "test",
        "--no-huge",
        "-m",
        "128",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--file-prefix",
        &prefix,
        "-l",
        "0",
        "--vdev",
        "net_ring0",
        "--log-level",
        "error",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let eal = Eal::init(&args).expect("EAL init");
    assert!(matches!(Eal::init(&args), Err(dataplane::port::PortError::EalTwice)));
    {
        let pool = Arc::new(Mempool::new(&eal, "test-pool", 1023, 0, 0).expect("pool"));
        let setup = PortSetup { rx_queues: 1, tx_queues: 2, rx_desc: 256, tx_desc: 256, mtu: 1500 };
        let port = EthPort::open(&eal, "loop", "net_ring0", &setup, pool.clone()).expect("port");
        let ring = Ring::new(&eal, "test-punt", 64, 0).expect("ring");
        let ports = [port];
        let rings = [ring];
        let addrs =
            [PortAddrs::new(ports[0].mac(), vec![Ipv4Cidr { addr: [192, 0, 2, 1].into(), prefix_len: 24 }], vec![])];
        let (wc, cc) = (WorkerCounters::default(), WorkerCounters::default());

        // Loop the request into RX queue 0.
        let frame = echo_request(ports[0].mac());
        let mut m = pool.alloc().expect("mbuf");
        m.reset(frame.len()).unwrap().copy_from_slice(&frame);
        let mut one = [Some(m)];
        assert_eq!(ports[0].tx_burst(QueueId(7), &mut one), 0);
        assert_eq!(ports[0].tx_burst(QueueId(0), &mut one), 1);
        let mut none: [Option<dataplane::port::dpdk::Mbuf>; 4] = Default::default();
        assert_eq!(ports[0].rx_burst(QueueId(7), &mut none), 0);

        let (_fib_writer, fib) = dataplane::fib::new(1024, 1);
        let publisher = dataplane::route::StatePublisher::new(Default::default());
        let mut worker = Worker::new(&ports, &addrs, 0, 1, &rings[0], &wc, fib.clone(), publisher.reader(), 32);
        assert_eq!(worker.poll(), 1);
        assert_eq!(wc.snapshot(1).ports[0].punted, 1);

        let neigh = Neighbors::new(addrs.to_vec(), NeighborConfig::default());
        let mut cp = control::punt::ControlPlane::new(
            &ports,
            &addrs,
            &rings,
            QueueId(0),
            neigh,
            &cc,
            vec![],
            publisher,
            fib.clone(),
        );
        assert_eq!(cp.service_punts(Instant::now(), usize::MAX), 1);
        assert_eq!(cc.snapshot(1).ports[0].tx, 1);

        // The reply loops back to RX queue 0.
        let mut got: [Option<dataplane::port::dpdk::Mbuf>; 4] = Default::default();
        assert_eq!(ports[0].rx_burst(QueueId(0), &mut got), 1);
        let reply = got[0].take().unwrap();
        let eth = ethernet::Frame::new_checked(reply.data()).unwrap();
        let ip = ipv4::Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        let icmp = icmpv4::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!(icmp.msg_type(), icmpv4::TYPE_ECHO_REPLY);
        assert_eq!(icmp.payload(), b"ring");
        drop(reply);

        drop(cp);
        let [port] = ports;
        port.close();
        drop(rings);
        assert_eq!(pool.in_use(), 0, "every mbuf is back in the pool");
    }
    eal.cleanup();
    // The EAL makes its runtime directory even with --no-shconf.
    let _ = std::fs::remove_dir_all(format!("/var/run/dpdk/{prefix}"));
}
