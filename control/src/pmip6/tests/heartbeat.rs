//! §7: Heartbeat (RFC 5847).

use super::*;
use crate::proto::{be_status, hb_flags, BindingError, MobilityOption};
use anchor_config::PeerFailureAction;

fn request(seq: u32) -> Heartbeat {
    Heartbeat { flags: 0, seq, options: Vec::new() }
}

fn response(seq: u32, restart_counter: Option<u32>) -> Heartbeat {
    Heartbeat {
        flags: hb_flags::R,
        seq,
        options: restart_counter.map(MobilityOption::RestartCounter).into_iter().collect(),
    }
}

/// A session that outlives the test (lifetime capped at the LMA's 3600 s).
fn attach_long(h: &mut H, mag: &str, mn: &str) -> Session {
    let out = h.pbu(mag, Pbu::new(mn).lifetime(u16::MAX).build());
    installs(&out)[0].clone()
}

fn hb_lma(action: PeerFailureAction) -> H {
    H::with_lma(|l| {
        l.heartbeat_interval = Some(secs(60));
        l.on_peer_failure = action;
    })
}

#[test]
fn heartbeat_request_is_answered_with_the_same_sequence_and_our_restart_counter_even_without_sessions() {
    let mut h = H::new();
    h.lma.set_restart_counter(7);
    let out = h.heartbeat(MAG1, request(99));
    let hb = heartbeats(&out);
    assert_eq!(hb.len(), 1);
    let (src, dst, _, m) = hb[0];
    assert_eq!((src, dst), (ip(LMAA), ip(MAG1)));
    assert_eq!((m.flags, m.seq), (hb_flags::R, 99));
    assert_eq!(m.options, [MobilityOption::RestartCounter(7)]);
}

#[test]
fn heartbeat_from_an_unlisted_source_is_dropped() {
    let mut h = H::new();
    assert!(h.heartbeat(UNLISTED, request(1)).is_empty());
}

#[test]
fn heartbeat_requests_go_every_interval_only_to_mags_with_sessions_with_increasing_sequence_numbers() {
    let mut h = hb_lma(PeerFailureAction::Keep);
    h.attach(MAG1, DUAL, 1);
    assert!(heartbeats(&h.advance(secs(59))).is_empty());
    let out = h.advance(secs(1));
    let hb = heartbeats(&out);
    assert_eq!(hb.len(), 1);
    assert_eq!((hb[0].0, hb[0].1, hb[0].3.flags), (ip(LMAA), ip(MAG1), 0));
    let first = hb[0].3.seq;
    h.heartbeat(MAG1, response(first, Some(1)));
    let out = h.advance(secs(60));
    assert_eq!(heartbeats(&out)[0].3.seq, first + 1);
    assert_eq!(h.lma.counters().heartbeat_requests_sent, 2);
}

#[test]
fn heartbeat_requests_over_ipv4_transport_use_the_pbus_path() {
    let mut h = hb_lma(PeerFailureAction::Keep);
    h.pbu4(MAG4, 5500, Pbu::new(DUAL).v4("0.0.0.0").build());
    let out = h.advance(secs(60));
    let hb = heartbeats(&out);
    assert_eq!((hb[0].0, hb[0].1, hb[0].2), (ip(LMAA4), ip(MAG4), Transport::Udp4 { src_port: 5500 }));
}

#[test]
fn mag_missing_more_than_missing_heartbeats_allowed_is_declared_failed_and_its_sessions_removed() {
    let mut h = hb_lma(PeerFailureAction::Remove);
    let s = h.attach(MAG1, DUAL, 1);
    let other = h.attach(MAG2, DUAL, 1);
    // Requests at 60, 120, 180, 240 s go unanswered (misses counted at 120,
    // 180, 240); the fourth miss, at 300 s, exceeds 3.
    for _ in 0..4 {
        let out = h.advance(secs(60));
        for (_, dst, _, m) in heartbeats(&out) {
            if dst == ip(MAG2) {
                h.heartbeat(MAG2, response(m.seq, Some(1)));
            }
        }
        assert!(removes(&out).is_empty());
    }
    let out = h.advance(secs(60));
    assert_eq!(removes(&out), [s.id]);
    assert_eq!(h.lma.counters().heartbeat_peer_failures, 1);
    assert!(h.lma.session(other.id).is_some());
}

#[test]
fn keep_action_keeps_the_sessions_of_a_failed_mag() {
    let mut h = hb_lma(PeerFailureAction::Keep);
    let s = attach_long(&mut h, MAG1, DUAL);
    for _ in 0..6 {
        assert!(removes(&h.advance(secs(60))).is_empty());
    }
    assert_eq!(h.lma.counters().heartbeat_peer_failures, 1);
    assert!(h.lma.session(s.id).is_some());
}

#[test]
fn any_response_resets_the_miss_counter() {
    let mut h = hb_lma(PeerFailureAction::Remove);
    let s = attach_long(&mut h, MAG1, DUAL);
    for round in 0..10 {
        let out = h.advance(secs(60));
        // Answer every third request only: never more than 3 misses in a row.
        if round % 3 == 2 {
            let seq = heartbeats(&out)[0].3.seq;
            h.heartbeat(MAG1, response(seq, Some(1)));
        }
    }
    assert!(h.lma.session(s.id).is_some());
    assert_eq!(h.lma.counters().heartbeat_peer_failures, 0);
}

#[test]
fn changed_restart_counter_means_the_mag_restarted_and_lost_its_sessions() {
    let mut h = hb_lma(PeerFailureAction::Remove);
    let s = h.attach(MAG1, DUAL, 1);
    let seq = heartbeats(&h.advance(secs(60)))[0].3.seq;
    assert!(removes(&h.heartbeat(MAG1, response(seq, Some(5)))).is_empty());
    let seq = heartbeats(&h.advance(secs(60)))[0].3.seq;
    let out = h.heartbeat(MAG1, response(seq, Some(6)));
    assert_eq!(removes(&out), [s.id]);
    assert_eq!(h.lma.counters().heartbeat_peer_restarts, 1);
}

#[test]
fn unsolicited_response_with_a_new_restart_counter_also_means_a_restart() {
    let mut h = hb_lma(PeerFailureAction::Remove);
    let s = h.attach(MAG1, DUAL, 1);
    h.heartbeat(
        MAG1,
        Heartbeat { flags: hb_flags::U | hb_flags::R, seq: 0, options: vec![MobilityOption::RestartCounter(1)] },
    );
    let out = h.heartbeat(
        MAG1,
        Heartbeat { flags: hb_flags::U | hb_flags::R, seq: 0, options: vec![MobilityOption::RestartCounter(2)] },
    );
    assert_eq!(removes(&out), [s.id]);
}

#[test]
fn binding_error_2_in_reply_to_a_heartbeat_stops_heartbeats_to_that_mag() {
    let mut h = hb_lma(PeerFailureAction::Remove);
    let s = attach_long(&mut h, MAG1, DUAL);
    h.advance(secs(60));
    let be = BindingError { status: be_status::UNRECOGNIZED_MH_TYPE, home_address: Ipv6Addr::UNSPECIFIED };
    h.rx(MAG1, LMAA, Transport::Ipv6, MhMessage::BindingError(be));
    for _ in 0..6 {
        let out = h.advance(secs(60));
        assert!(heartbeats(&out).is_empty());
        assert!(removes(&out).is_empty());
    }
    assert!(h.lma.session(s.id).is_some());
}

#[test]
fn no_heartbeats_are_sent_when_the_interval_is_not_configured() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 1);
    assert!(heartbeats(&h.advance(secs(3600))).is_empty());
}

#[test]
fn first_poll_sends_unsolicited_heartbeat_responses_with_our_restart_counter_to_every_listed_mag() {
    let mut lma = Lma::new(&config()).unwrap();
    lma.set_restart_counter(3);
    let now = Instant::now();
    let out = lma.poll(now, SystemTime::UNIX_EPOCH);
    let hb = heartbeats(&out);
    let dsts: Vec<IpAddr> = hb.iter().map(|x| x.1).collect();
    assert_eq!(dsts, [ip(MAG1), ip(MAG2), ip(MAG_TS), ip(MAG4), ip(MAG4B)]);
    for (src, dst, transport, m) in hb {
        assert_eq!((m.flags, m.options.clone()), (hb_flags::U | hb_flags::R, vec![MobilityOption::RestartCounter(3)]));
        match dst {
            IpAddr::V4(_) => assert_eq!((src, transport), (ip(LMAA4), Transport::Udp4 { src_port: 5436 })),
            IpAddr::V6(_) => assert_eq!((src, transport), (ip(LMAA), Transport::Ipv6)),
        }
    }
    assert!(heartbeats(&lma.poll(now, SystemTime::UNIX_EPOCH)).is_empty());
}
