//! `control::pmip6::Lma` driven by a fuzzed sequence of events: Mobility
//! Header messages from listed and unlisted peers, operator revocations and
//! the passing of time. Nothing a peer sends may panic it (STYLE.md), and
//! everything it asks to send must encode completely and frame for its
//! transport (`proto::emit`: "messages the anchor builds always encode").
//!
//! Input: records `[ctl, len, len octets]` until the input runs out (a
//! short last record takes what is left). `ctl >> 3 = k` first moves both
//! clocks by `2^k / 2` ms (0 ms up to about 12 days) and polls the timers;
//! then `ctl & 7` picks the event: 0..=6 a message from [`PEERS`] (parsed
//! with no checksum; what does not parse is dropped before the LMA, as
//! the daemon does), 7 an operator or home-agent call by the first octet:
//! `+ x id…` the MN-ID `id…` holds 203.0.113.x and 2001:db8:300:x::/64
//! through its own DSMIPv6 registration (`set_mn_owned`, so its PBUs make
//! shadow BCEs), `- id…` it holds nothing (`clear_mn_owned`), `^ x` it came
//! home (`activate_shadow` of 203.0.113.x, or of 2001:db8:300:x::1 when x
//! is odd), anything else `anchorctl clear binding <octets as text>`.
//!
//! The configuration is `config/demo.toml` with a default profile (so any
//! MN-ID registers), two of its MAGs ordering by sequence number instead of
//! timestamps, and room for 8 sessions. The time of day starts at Unix
//! 1700000000.5 s, the Timestamp option of the golden PBUs.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Config, Ordering, Profile};
use control::mh_io;
use control::pmip6::{Lma, Output, Received, Transport, PMIP6_CONTROL_PORT};
use control::proto::{self, Checksum};
use dataplane::wire::MacAddr;
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let mut cfg = anchor_config::parse(anchor_config::DEMO_TOML).expect("demo.toml is valid");
    let lma = cfg.lma.as_mut().expect("demo.toml has an [lma]");
    for mag in &mut lma.mags {
        if mag.name.starts_with("mag2") {
            mag.ordering = Ordering::Sequence;
        }
    }
    lma.max_sessions = 8;
    cfg.profiles.default = Some(Profile::default());
    cfg
});

/// Source, destination and transport of the messages `ctl & 7` picks.
const PEERS: [(&str, &str, Transport); 7] = [
    ("2001:db8:1::2", "2001:db8:1::1", Transport::Ipv6), // mag1, timestamps
    ("2001:db8:1::3", "2001:db8:1::1", Transport::Ipv6), // mag2, sequence numbers
    ("192.0.2.2", "192.0.2.1", Transport::Udp4 { src_port: PMIP6_CONTROL_PORT }), // mag1-v4, timestamps
    ("192.0.2.3", "192.0.2.1", Transport::Udp4 { src_port: 49152 }), // mag2-v4, sequence numbers
    ("2001:db8:1::99", "2001:db8:1::1", Transport::Ipv6), // not on the allow-list
    ("2001:db8:1::2", "2001:db8:2::1", Transport::Ipv6), // mag1 to our other address
    ("192.0.2.2", "192.0.2.1", Transport::Udp4 { src_port: 1024 }), // mag1-v4, another port
];

const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

fn check(out: &[Output]) {
    for o in out {
        if let Output::Send { src, dst, transport, msg } = o {
            if let Err(e) = proto::try_emit(msg, Checksum::None) {
                panic!("the LMA built a message that does not encode: {e} ({msg:?})");
            }
            assert!(mh_io::frame(MAC, MAC, *src, *dst, *transport, msg).is_some(), "cannot frame {o:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(mut lma) = Lma::new(&CONFIG) else { unreachable!("the config has an [lma]") };
    lma.set_restart_counter(1);
    let mut now = Instant::now();
    let mut wall = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
    check(&lma.poll(now, wall));
    let mut rest = data;
    while let [ctl, len, tail @ ..] = rest {
        let (body, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        let step = Duration::from_millis((1u64 << (ctl >> 3)) >> 1);
        now += step;
        wall += step;
        check(&lma.poll(now, wall));
        match usize::from(ctl & 7) {
            7 => match body {
                [b'+', x, id @ ..] => {
                    let prefix = Ipv6Addr::new(0x2001, 0xdb8, 0x300, u16::from(*x), 0, 0, 0, 0);
                    lma.set_mn_owned(&String::from_utf8_lossy(id), Some(Ipv4Addr::new(203, 0, 113, *x)), Some(prefix));
                }
                [b'-', id @ ..] => lma.clear_mn_owned(&String::from_utf8_lossy(id)),
                [b'^', x, ..] => {
                    let addr = if x % 2 == 1 {
                        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x300, u16::from(*x), 0, 0, 0, 1))
                    } else {
                        IpAddr::V4(Ipv4Addr::new(203, 0, 113, *x))
                    };
                    check(&lma.activate_shadow(addr, now, wall));
                }
                _ => {
                    if let Ok(out) = lma.revoke(&String::from_utf8_lossy(body), now) {
                        check(&out);
                    }
                }
            },
            i => {
                let (src, dst, transport) = PEERS[i];
                let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
                if let Ok(msg) = proto::parse(body, Checksum::None) {
                    check(&lma.handle(Received { src, dst, transport, msg }, now, wall));
                }
            }
        }
    }
    // Let every timer run out: expiries, deletions, BRI retries, heartbeats.
    for _ in 0..3 {
        now += Duration::from_secs(86_400);
        wall += Duration::from_secs(86_400);
        check(&lma.poll(now, wall));
    }
});
