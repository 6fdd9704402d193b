//! Robustness: random registrations and mutated packets, with the
//! indexes, the pool and the outputs checked after each (the fuzz target
//! `dsmip6_parse` does the same with libFuzzer's inputs).

use super::*;

/// xorshift64: deterministic pseudo-random numbers.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn pick<T: Copy>(x: &mut u64, from: &[T]) -> T {
    from[(next(x) % from.len() as u64) as usize]
}

fn check(h: &Harness, out: &[Output]) {
    bas(out);
    for reg in h.ha.registrations() {
        if let Some(IpAddr::V4(a)) = reg.v4.as_ref().map(|b| b.hoa) {
            assert_eq!(h.ha.registration_by_ipv4(a).map(|r| r.mn), Some(reg.mn));
            assert!(h.ha.pool().is_in_use(a));
        }
        assert!(reg.expires > h.instant(), "expired registrations are gone after poll");
    }
    let bound = h.ha.registrations().filter(|r| r.v4.is_some()).count();
    // The static address is reserved for good; every other address out is bound.
    let static_bound = h.ha.registration_by_ipv4(v4(STATIC_V4)).is_some();
    assert_eq!(h.ha.pool().in_use(), bound + usize::from(!static_bound));
}

#[test]
fn random_registrations_keep_the_registrations_the_ipv4_index_and_the_pool_in_step() {
    let mut h = Harness::new();
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut seqs = [0u16; 3];
    for _ in 0..3000 {
        let i = (next(&mut x) % 3) as usize;
        let hoa = [MN_HOA, ANON_HOA, STATIC_HOA][i];
        // Mostly newer sequence numbers, sometimes stale ones.
        seqs[i] = seqs[i].wrapping_add(pick(&mut x, &[1, 1, 1, 0, 0x9000]));
        let via = pick(
            &mut x,
            &[
                Via::Ipv6 { coa: v6(COA) },
                Via::Ipv6 { coa: v6(COA2) },
                Via::Ipv6 { coa: v6(hoa) },
                Via::Udp4 { coa: Some(v4(COA4)), src: v4(COA4), port: DSMIP6_PORT },
                Via::Udp4 { coa: Some(v4(COA4)), src: v4(NAT), port: NAT_PORT },
                Via::Udp4 { coa: None, src: v4(NAT), port: NAT_PORT },
            ],
        );
        let mut bu = Bu::new(hoa, seqs[i])
            .via(via)
            .lifetime(pick(&mut x, &[0, 1, 10, 100, 0xffff]))
            .flags(pick(&mut x, &[0xc000, 0x4000, 0xc100, 0x8000, 0xc200]))
            .auth(pick(&mut x, &[Auth::Good, Auth::Good, Auth::Good, Auth::WrongKey, Auth::None]));
        match next(&mut x) % 5 {
            0 => bu = bu.ipv4_hoa("0.0.0.0"),
            1 => bu = bu.ipv4_hoa(pick(&mut x, &["203.0.113.2", "203.0.113.3", STATIC_V4, "224.0.0.1"])),
            2 => {
                let p = next(&mut x).is_multiple_of(2);
                let prefix_len = pick(&mut x, &[0, 24, 32]);
                bu = bu.option(MobilityOption::Ipv4HomeAddress { prefix_len, p, addr: v4("0.0.0.0") })
            }
            _ => {}
        }
        let out = if next(&mut x).is_multiple_of(4) {
            // A mutated packet: flipped octets.
            let mut p = bu.packet();
            for _ in 0..1 + next(&mut x) % 3 {
                let at = (next(&mut x) % p.len() as u64) as usize;
                p[at] ^= 1 << (next(&mut x) % 8);
            }
            h.ha.handle(&p, h.instant(), h.wall())
        } else {
            h.send(bu)
        };
        check(&h, &out);
        let out = h.advance(Duration::from_millis(next(&mut x) % 60_000));
        check(&h, &out);
    }
    let c = h.ha.counters();
    assert!(c.registrations_created > 10 && c.deregistrations > 10 && c.expired > 0 && c.auth_failures > 10);
    assert!(c.malformed > 10 && c.nat_detected > 10);
}
