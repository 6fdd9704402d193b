//! Robustness: 20 000 random and mutated datagrams never panic the codec
//! or the home agent, and random signalling keeps the bindings, indexes,
//! pools and keys in step.

use std::collections::HashSet;

use super::*;
use crate::mip4::ext::tests::every_extension;
use crate::mip4::ext::udp_request_flags;
use crate::mip4::wire::rrq_flags;

/// xorshift64: deterministic pseudo-random numbers.
fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// Valid messages of every type to mutate.
fn seeds(h: &mut H) -> Vec<Vec<u8>> {
    let id = h.id();
    let mut all = vec![
        wire::emit(&Req::mn(MN).id(id).build()),
        wire::emit(&Req::mn(DUAL).via(FA1).id(id).fa_ext(Extension::GreKey(4)).build()),
        wire::emit(&Req::proxy(HOST, FA1).id(id).mn_ext(Extension::AccessTechnology(3)).build()),
    ];
    let mut r = Req::mn(MN).id(id);
    r.mn_ext = every_extension();
    all.push(wire::emit(&r.build()));
    all.push(vec![7, 0, 0x80, 0, 203, 0, 113, 2, 192, 0, 2, 1, 192, 0, 2, 2, 0, 0, 0, 9, 34, 20, 0, 0, 0x20, 0]);
    all.push(vec![15, 0, 0, 0, 203, 0, 113, 2, 0, 0, 0, 9, 34, 4, 0, 0, 0x20, 0]);
    all.push(vec![4, 4, 0, 0, 0x45, 0]);
    all
}

/// The codec never panics: random bytes, random bytes behind a valid type
/// octet, and valid messages with octets changed, cut or inserted. What
/// parses emits and parses back to the same message.
#[test]
fn twenty_thousand_random_and_mutated_payloads_never_panic_the_codec() {
    let mut h = H::new();
    let seeds = seeds(&mut h);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let types = [1u8, 3, 4, 7, 15];
    let ext_types = [0u8, 32, 33, 34, 36, 38, 44, 47, 48, 130, 131, 132, 134, 137, 139, 144, 147, 152, 99, 200];
    for i in 0..20_000 {
        let mut b: Vec<u8> = match i % 4 {
            0 => (0..xorshift(&mut x) % 120).map(|_| xorshift(&mut x) as u8).collect(),
            1 => {
                let mut b: Vec<u8> = (0..xorshift(&mut x) % 120).map(|_| xorshift(&mut x) as u8).collect();
                if let Some(first) = b.first_mut() {
                    *first = types[(xorshift(&mut x) % 5) as usize];
                }
                for j in (24..b.len()).step_by(7) {
                    if xorshift(&mut x).is_multiple_of(2) {
                        b[j] = ext_types[(xorshift(&mut x) % ext_types.len() as u64) as usize];
                    }
                }
                b
            }
            _ => {
                let mut b = seeds[(xorshift(&mut x) % seeds.len() as u64) as usize].clone();
                for _ in 0..1 + xorshift(&mut x) % 4 {
                    if b.is_empty() {
                        break;
                    }
                    let at = (xorshift(&mut x) % b.len() as u64) as usize;
                    match xorshift(&mut x) % 3 {
                        0 => b[at] = xorshift(&mut x) as u8,
                        1 => b.truncate(at),
                        _ => b.insert(at, xorshift(&mut x) as u8),
                    }
                }
                b
            }
        };
        if let Ok(p) = wire::parse_with_offsets(&b) {
            assert_eq!(p.offsets.len(), p.message.extensions().len());
            let again = wire::parse(&wire::emit(&p.message)).unwrap();
            // The Dynamic HA short layout is re-emitted in the long one.
            assert_eq!(again.extensions().len(), p.message.extensions().len());
        }
        b.push(0);
        let _ = wire::parse(&b);
    }
}

/// The home agent never panics on the same inputs, from every kind of
/// source.
#[test]
fn twenty_thousand_random_and_mutated_datagrams_never_panic_the_home_agent() {
    let mut h = H::new();
    let seeds = seeds(&mut h);
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let sources = [COA, FA1, FA2, FA_UNKNOWN, NAT, "203.0.113.2"];
    for i in 0..20_000u32 {
        let mut b = seeds[(xorshift(&mut x) % seeds.len() as u64) as usize].clone();
        if i % 3 != 0 {
            for _ in 0..1 + xorshift(&mut x) % 3 {
                let at = (xorshift(&mut x) % b.len().max(1) as u64) as usize;
                if let Some(o) = b.get_mut(at) {
                    *o = xorshift(&mut x) as u8;
                }
            }
        }
        let src = sources[(xorshift(&mut x) % sources.len() as u64) as usize];
        let _ = h.rx_bytes(src, (xorshift(&mut x) % 65536) as u16, HA_ADDR, b);
        if i % 500 == 0 {
            h.advance(secs(30));
        }
    }
}

/// Random registrations, renewals, moves, de-registrations, revocations,
/// keepalives and clock steps from every kind of peer; after each step no
/// home address, prefix or uplink key is held twice, and the pools, the
/// key allocator and the indexes agree with the bindings.
#[test]
fn random_signalling_keeps_bindings_pools_keys_and_indexes_in_step() {
    let mut h = H::with(|c| c.foreign_agents[1].proxy = true);
    let mut x: u64 = 0xdead_beef_cafe_f00d;
    let nodes = [MN, DUAL, STATIC4, SHORT, BARE];
    for step in 0..3_000u32 {
        let mn = nodes[(xorshift(&mut x) % nodes.len() as u64) as usize];
        let id = h.id();
        let roll = xorshift(&mut x) % 12;
        let mut r = match roll {
            0..=2 => Req::mn(mn).id(id),
            3 | 4 => Req::mn(mn).via(FA1).id(id).fa_ext(Extension::GreKey((xorshift(&mut x) % 3) as u32)),
            5 => Req::mn(mn).via(FA2).id(id).fa_ext(Extension::RevocationSupport { flags: 0, timestamp: 0 }),
            6 => Req::mn(mn).id(id).from(NAT, 40000 + (xorshift(&mut x) % 5) as u16).mn_ext(
                Extension::UdpTunnelRequest {
                    reserved1: 0,
                    flags: if xorshift(&mut x).is_multiple_of(2) { udp_request_flags::R } else { 0 },
                    encapsulation: 0,
                    reserved3: 0,
                },
            ),
            7 => Req::mn(mn).id(id).mn_ext(Extension::Ipv6PrefixRequest {
                prefix_len: if xorshift(&mut x).is_multiple_of(2) { 0 } else { 64 },
                prefix: if xorshift(&mut x).is_multiple_of(2) {
                    Ipv6Addr::UNSPECIFIED
                } else {
                    Ipv6Addr::new(0x2001, 0xdb8, 0x100, (xorshift(&mut x) % 4) as u16, 0, 0, 0, 0)
                },
            }),
            8 => Req::proxy(HOST, if xorshift(&mut x).is_multiple_of(2) { FA1 } else { FA2 })
                .id(id)
                .mn_ext(Extension::AccessTechnology((xorshift(&mut x) % 3) as u8))
                .fa_ext(Extension::RevocationSupport { flags: 0, timestamp: 0 }),
            9 => Req::mn(mn).id(id).lifetime(0),
            10 => Req::mn(mn).id(id).hoa(&format!("203.0.113.{}", 2 + xorshift(&mut x) % 5)),
            _ => Req::mn(mn).id(id).flags(rrq_flags::G | rrq_flags::T),
        };
        r.lifetime = if roll == 9 { 0 } else { (xorshift(&mut x) % 120) as u16 + 1 };
        h.send(r);
        match xorshift(&mut x) % 10 {
            0 => {
                let _ = h.ha.revoke(mn, h.now, h.wall);
            }
            1 => {
                let hoa = h.ha.bindings().next().map(|b| b.hoa);
                if let Some(hoa) = hoa {
                    h.ha.udp_keepalive(v4(NAT), 41000, hoa);
                }
            }
            2 | 3 => {
                h.advance(secs(xorshift(&mut x) % 40));
            }
            _ => {}
        }
        check(&h, step);
    }
    // Everything expires in the end and gives everything back.
    h.advance(secs(100_000));
    assert_eq!(h.count(), 0);
    assert_eq!(h.ha.pools().0.in_use(), 0);
    assert_eq!(h.ha.pools().1.in_use(), 0);
    assert_eq!(h.ha.keys.in_use(), 0);
}

fn check(h: &H, step: u32) {
    let mut hoas = HashSet::new();
    let mut prefixes = HashSet::new();
    let mut keys = HashSet::new();
    for b in h.ha.bindings() {
        assert!(hoas.insert(b.hoa), "step {step}: {} twice", b.hoa);
        for p in &b.prefixes {
            assert!(prefixes.insert(*p), "step {step}: {p} twice");
            assert!(h.ha.pools().1.is_in_use(*p), "step {step}: {p} not out");
        }
        if let Some(k) = b.tunnel.key_in {
            assert!(keys.insert(k), "step {step}: key {k} twice");
        }
        assert_eq!(h.ha.by_hoa.get(&b.hoa), Some(&b.id), "step {step}");
        assert_eq!(h.ha.by_mn.get(&(b.mn_id.to_string(), b.att)), Some(&b.id), "step {step}");
        assert!(h.ha.timers.contains(&(b.expires, super::super::Timer::Binding(b.id))), "step {step}");
        assert!(b.expires > h.now, "step {step}");
    }
    assert_eq!(h.ha.by_hoa.len(), h.count(), "step {step}");
    assert_eq!(h.ha.by_mn.len(), h.count(), "step {step}");
    assert_eq!(h.ha.pools().0.in_use(), hoas.len(), "step {step}");
    assert_eq!(h.ha.pools().1.in_use(), prefixes.len(), "step {step}");
    assert_eq!(h.ha.keys.in_use(), keys.len(), "step {step}");
}
