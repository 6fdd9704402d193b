//! `control::mip4::Ha` driven by a fuzzed sequence of events: Registration
//! Requests (raw, or re-sealed with the demo keys so that the fuzzer gets
//! past authentication), revocations, acknowledgements, RFC 3519
//! keepalives, DAD results, operator revocations and the passing of time.
//! Nothing a peer sends may panic it (STYLE.md), everything it sends must
//! encode as it is (`Extension::is_encodable`), and no two bindings may
//! hold one home address or one draft -01 IPv6 home address.
//!
//! Input: records `[ctl, len, len octets]` until the input runs out (a
//! short last record takes what is left). `ctl >> 3 = k` first moves both
//! clocks by `2^k / 2` ms and polls the timers; then `ctl & 7` picks the
//! event: 0..=2 the octets as a UDP 434 payload from [`PEERS`]; 3..=4 the
//! octets parsed as a message whose authentication extensions are sealed
//! again with the demo's keys (MN-HA by SPI, FA-HA of the sender), from
//! [`PEERS`]`[ctl & 1]`; 5 a keepalive from a peer for the home address in
//! the first 4 octets; 6 a DAD result for the home-link address ending in
//! the first octets (unique when the last octet is even); 7 `anchorctl
//! clear binding <octets as text>`.
//!
//! The configuration is `config/demo.toml` (draft -01 type 200), with the
//! home port marked as the home link and a default profile, room for 8
//! bindings.

#![no_main]

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Config, PortRole, Profile};
use control::mip4::auth;
use control::mip4::ext::Dialect;
use control::mip4::{wire, AuthKind, Extension, Ha, Message, Output, Received};
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let mut cfg = anchor_config::parse(anchor_config::DEMO_TOML).expect("demo.toml is valid");
    for p in cfg.ports.iter_mut().filter(|p| p.role == PortRole::Home) {
        p.home_link = true;
    }
    let ha = cfg.ha.as_mut().expect("demo.toml has an [ha]");
    ha.max_bindings = 8;
    cfg.profiles.default = Some(Profile { ipv6: true, ..Profile::default() });
    cfg
});

/// (source, destination, source port) of the payloads `ctl & 7` picks:
/// a mobile node at a co-located care-of address, the demo's first PMA,
/// and its second one to the subnet broadcast.
const PEERS: [(&str, &str, u16); 3] =
    [("192.0.2.10", "192.0.2.1", 434), ("192.0.2.2", "192.0.2.1", 434), ("192.0.2.3", "192.0.2.255", 1434)];

fn addr(text: &str) -> Ipv4Addr {
    text.parse().expect("a literal address")
}

/// The octets of `msg` with every MN-HA and FA-HA authenticator computed
/// again under the demo key of its SPI (from `src` for FA-HA).
fn sealed(mut msg: Message, src: Ipv4Addr) -> Vec<u8> {
    let ha = CONFIG.ha.as_ref().expect("an [ha]");
    let mut keys = Vec::new();
    for e in msg.extensions() {
        if let Extension::Auth { kind, spi, .. } = e {
            let key = match kind {
                AuthKind::MnHa => ha.mobile_nodes.iter().find(|m| m.spi == *spi).map(|m| (m.algorithm, &m.key)),
                AuthKind::FaHa => ha.fa(src).map(|f| (f.algorithm, &f.key)),
                AuthKind::MnFa => None,
            };
            if let Some((alg, key)) = key {
                keys.push(auth::SealKey { kind: *kind, spi: *spi, alg, key });
            }
        }
    }
    auth::seal(&mut msg, &keys);
    wire::emit(&msg)
}

fn check(ha: &Ha, out: &[Output]) {
    for o in out {
        if let Output::Send { msg, .. } = o {
            assert!(
                msg.extensions().iter().all(Extension::is_encodable),
                "the HA built an extension that does not encode: {msg:?}"
            );
        }
    }
    let mut hoas = HashSet::new();
    let mut v6 = HashSet::new();
    for b in ha.bindings() {
        assert!(hoas.insert(b.hoa), "two bindings hold {}", b.hoa);
        if let Some(a) = b.home_address6 {
            assert!(v6.insert(a), "two bindings hold {a}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(mut ha) = Ha::new(&CONFIG) else { unreachable!("the config has an [ha]") };
    let dialect = Dialect { dsmip4_draft01: Some(200) };
    let mut now = Instant::now();
    let mut wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut rest = data;
    while let [ctl, len, tail @ ..] = rest {
        let (body, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        let step = Duration::from_millis((1u64 << (ctl >> 3)) >> 1);
        now += step;
        wall += step;
        let out = ha.poll(now, wall);
        check(&ha, &out);
        let out = match ctl & 7 {
            i @ 0..=2 => {
                let (src, dst, src_port) = PEERS[usize::from(i)];
                ha.handle(Received { src: addr(src), dst: addr(dst), src_port, payload: body.to_vec() }, now, wall)
            }
            i @ 3..=4 => {
                let (src, dst, src_port) = PEERS[usize::from(i & 1)];
                match wire::parse_with_offsets_in(body, dialect) {
                    Ok(p) => {
                        let payload = sealed(p.message, addr(src));
                        ha.handle(Received { src: addr(src), dst: addr(dst), src_port, payload }, now, wall)
                    }
                    Err(_) => Vec::new(),
                }
            }
            5 => {
                let mut a = [0u8; 4];
                a.iter_mut().zip(body).for_each(|(o, b)| *o = *b);
                let port = body.get(4).map_or(434, |p| u16::from(*p) + 1024);
                ha.udp_keepalive(addr(PEERS[0].0), port, Ipv4Addr::from(a))
            }
            6 => {
                let mut a = Ipv6Addr::from(0x2001_0db8_0002_0000_0000_0000_0000_0000u128).octets();
                let n = body.len().min(8);
                a[16 - n..].copy_from_slice(&body[..n]);
                let unique = body.last().is_none_or(|b| b % 2 == 0);
                ha.dad_done(Ipv6Addr::from(a), unique, now, wall)
            }
            _ => ha.revoke(&String::from_utf8_lossy(body), now, wall).unwrap_or_default(),
        };
        check(&ha, &out);
    }
    // Let every timer run out: expiries, revocation retries, DAD waits.
    for _ in 0..3 {
        now += Duration::from_secs(86_400);
        wall += Duration::from_secs(86_400);
        let out = ha.poll(now, wall);
        check(&ha, &out);
    }
});
