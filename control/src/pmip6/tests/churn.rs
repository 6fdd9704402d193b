//! Whatever listed MAGs send, in any order: no panic, and the binding cache,
//! the pools and the GRE keys stay in step.

use std::collections::HashSet;

use super::super::gre;
use super::*;
use crate::proto::{br_flags, br_type, hb_flags};

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn random_pbu(rng: &mut Rng, h: &H) -> Pbu {
    let mn = rng.pick(&[DUAL, V4ONLY, V6ONLY, STATIC4, GRE_MN, "a@x", "b@y"]);
    let mut bu = Pbu::new(mn).seq(rng.below(65536) as u16).lifetime(rng.pick(&["0", "1", "5", "100"]).parse().unwrap());
    let existing: Vec<Session> = h.lma.sessions().cloned().collect();
    match rng.below(4) {
        0 => bu = bu.no_hnp(),
        1 => {
            if let Some(s) = existing.get(rng.below(existing.len().max(1) as u64) as usize) {
                let prefixes: Vec<String> = s.hnps.iter().map(|p| p.to_string()).collect();
                let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
                bu = bu.hnps(&refs);
            }
        }
        2 => bu = bu.hnps(&["::", "::"]),
        _ => {}
    }
    if rng.below(2) == 0 {
        let addr = match existing.get(rng.below(existing.len().max(1) as u64) as usize).and_then(|s| s.ipv4_hoa) {
            Some((a, _, _)) if rng.below(2) == 0 => a.to_string(),
            _ => rng.pick(&["0.0.0.0", "203.0.113.9", STATIC_HOA]).to_owned(),
        };
        bu = bu.v4(&addr);
    }
    bu = bu.hi(Some(rng.below(7) as u8)).att(Some(rng.below(9) as u8));
    if rng.below(3) == 0 {
        bu = bu.ll(&[0, 1, 2, 3, 4, rng.below(3) as u8]);
    }
    if rng.below(3) == 0 {
        bu = bu.gre(if rng.below(2) == 0 { None } else { Some(rng.below(1000) as u32) });
    }
    if rng.below(5) == 0 {
        bu = bu.flags(bu_flags::T | bu_flags::F);
    }
    bu
}

fn check(h: &H) {
    let sessions: Vec<&Session> = h.lma.sessions().collect();
    let prefixes: Vec<_> = sessions.iter().flat_map(|s| s.hnps.iter().copied()).collect();
    let unique: HashSet<_> = prefixes.iter().copied().collect();
    assert_eq!(unique.len(), prefixes.len(), "a prefix in two sessions");
    assert_eq!(h.lma.pools().0.in_use(), prefixes.len());
    let hoas: Vec<_> = sessions.iter().filter_map(|s| s.ipv4_hoa.map(|h| h.0)).collect();
    assert_eq!(hoas.iter().collect::<HashSet<_>>().len(), hoas.len(), "an IPv4 HoA in two sessions");
    assert_eq!(h.lma.pools().1.in_use(), hoas.len());
    let keys: Vec<u32> = sessions.iter().filter_map(|s| gre::uplink_key(&s.encap)).collect();
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len(), "an uplink key in two sessions");
    assert_eq!(h.lma.keys.in_use(), keys.len());
    for s in &sessions {
        assert!(s.hnps.iter().all(|p| h.lma.cache.by_hnp(*p) == Some(s.id)));
        assert!(s.ipv4_hoa.is_none_or(|(a, _, _)| h.lma.cache.by_hoa(a) == Some(s.id)));
    }
    // "Revocation in progress" and the outstanding BRIs agree.
    for b in h.lma.cache.iter() {
        if let Some(seq) = b.revoking {
            assert!(h.lma.bris.get(&seq).is_some_and(|bri| bri.sessions.contains(&b.session.id)), "{seq}");
        }
    }
    for (seq, bri) in &h.lma.bris {
        assert!(!bri.sessions.is_empty());
        assert!(bri.sessions.iter().all(|id| h.lma.cache.get(*id).is_some_and(|b| b.revoking == Some(*seq))));
    }
}

#[test]
fn random_signalling_never_panics_and_keeps_cache_pools_and_keys_in_step() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut h = H::with_lma(|l| {
        l.heartbeat_interval = Some(secs(30));
        l.on_peer_failure = anchor_config::PeerFailureAction::Remove;
        l.accept_forced_udp = true;
    });
    let mags = [MAG1, MAG2, MAG_TS, MAG4, MAG4B];
    for _ in 0..20_000 {
        let mag = rng.pick(&mags);
        match rng.below(20) {
            0..=13 => {
                let bu = random_pbu(&mut rng, &h);
                let bu = if mag == MAG_TS { bu.ts(h.ts()).build() } else { bu.build() };
                if mag.contains('.') {
                    h.pbu4(mag, 5436, bu);
                } else {
                    h.pbu(mag, bu);
                }
            }
            14 => {
                h.advance(millis(rng.below(5000)));
            }
            15 => {
                let br = BindingRevocation {
                    br_type: if rng.below(2) == 0 { br_type::BRI } else { br_type::BRA },
                    trigger_or_status: rng.below(256) as u8,
                    seq: rng.below(8) as u16,
                    flags: [0, br_flags::P, br_flags::P | br_flags::G, br_flags::P | br_flags::V]
                        [rng.below(4) as usize],
                    options: random_pbu(&mut rng, &h).build().options,
                };
                if !mag.contains('.') {
                    h.revocation(mag, br);
                }
            }
            16 => {
                let flags = [0, hb_flags::R, hb_flags::R | hb_flags::U][rng.below(3) as usize];
                let hb = Heartbeat {
                    flags,
                    seq: rng.below(4) as u32,
                    options: vec![MobilityOption::RestartCounter(rng.below(2) as u32)],
                };
                if !mag.contains('.') {
                    h.heartbeat(mag, hb);
                }
            }
            _ => {
                // Operator revocations: by MN-ID, of one session, of one
                // MAG's sessions (G = 1), of one IPv4 HoA (V = 1).
                let sessions: Vec<Session> = h.lma.sessions().cloned().collect();
                if let Some(s) = sessions.get(rng.below(sessions.len().max(1) as u64) as usize) {
                    let _ = match rng.below(4) {
                        0 => h.lma.revoke(&s.mn_id, h.now),
                        1 => h.lma.revoke(&s.id.to_string(), h.now),
                        2 => h.lma.revoke_mag(ip(mag), h.now),
                        _ => match s.ipv4_hoa {
                            Some((hoa, _, _)) => h.lma.revoke_ipv4_hoa(hoa, h.now),
                            None => h.lma.revoke_mn(&s.mn_id, h.now),
                        },
                    };
                }
            }
        }
        check(&h);
    }
    let c = h.lma.counters();
    assert!(c.sessions_created > 100 && c.handoffs > 0 && c.deregistrations > 0 && c.pbu_held > 0);
    assert!(c.sessions_expired > 0 && c.bri_sent > 0 && c.bra_sent > 0);
}
