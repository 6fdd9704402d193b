//! §3.5: Timestamp and Sequence Number ordering as the LMA applies them.

use super::*;
use crate::proto::status;

/// 100 ms in Timestamp units (1/65536 s).
const MS100: u64 = 6554;

#[test]
fn valid_timestamp_is_accepted_echoed_and_stored_and_the_sequence_number_copied() {
    let mut h = H::new();
    let ts = h.ts() + MS100;
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).ts(ts).seq(4242).build());
    let ba = pba(&out);
    assert_eq!((ba.status, ba.seq), (0, 4242));
    assert_eq!(timestamp_of(&ba.options), Some(ts));
    assert_eq!(installs(&out)[0].last_timestamp, Some(ts));
}

#[test]
fn timestamp_outside_the_validity_window_is_rejected_with_156_and_our_time() {
    let mut h = H::new();
    let ts = h.ts() + 4 * MS100;
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).ts(ts).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::TIMESTAMP_MISMATCH);
    assert_eq!(timestamp_of(&ba.options), Some(h.ts()));
    assert_eq!(h.count(), 0);
}

#[test]
fn timestamp_lower_than_the_last_accepted_is_rejected_with_157_and_our_time() {
    let mut h = H::new();
    let s = installs(&h.pbu(MAG_TS, Pbu::new(DUAL).ts(h.ts()).build()))[0].clone();
    h.advance(secs(10));
    let prefix = s.hnps[0].to_string();
    // Lower than the last accepted and far outside the window: 157 first.
    let stale = s.last_timestamp.unwrap() - 1;
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).hnp(&prefix).ts(stale).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::TIMESTAMP_LOWER_THAN_PREV_ACCEPTED);
    assert_eq!(timestamp_of(&ba.options), Some(h.ts()));
    // A fresh one is fine.
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).hnp(&prefix).ts(h.ts()).build());
    assert_eq!(pba(&out).status, 0);
}

#[test]
fn timestamp_equal_to_the_last_accepted_is_rejected_with_156() {
    let mut h = H::new();
    let ts = h.ts();
    let s = installs(&h.pbu(MAG_TS, Pbu::new(DUAL).ts(ts).build()))[0].clone();
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).ts(ts).build());
    assert_eq!(pba(&out).status, status::TIMESTAMP_MISMATCH);
}

#[test]
fn mobile_node_generated_timestamps_skip_the_validity_window() {
    let mut h = H::with_lma(|l| l.mn_generated_timestamp = true);
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).ts(12345).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(timestamp_of(&pba(&out).options), Some(12345));
}

#[test]
fn the_validity_window_is_configurable() {
    let mut h = H::with_lma(|l| l.timestamp_validity_window = millis(1000));
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).ts(h.ts() + 8 * MS100).build());
    assert_eq!(pba(&out).status, 0);
}

#[test]
fn a_timestamp_option_is_checked_even_from_a_mag_configured_for_sequence_numbers() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).ts(h.ts() + 10 * MS100).build());
    assert_eq!(pba(&out).status, status::TIMESTAMP_MISMATCH);
}

#[test]
fn mag_configured_for_timestamps_sending_none_is_rejected_with_156_without_a_timestamp_option() {
    let mut h = H::new();
    let out = h.pbu(MAG_TS, Pbu::new(DUAL).build());
    let ba = pba(&out);
    assert_eq!(ba.status, status::TIMESTAMP_MISMATCH);
    assert_eq!(timestamp_of(&ba.options), None);
}

#[test]
fn sequence_number_out_of_window_is_rejected_with_135_carrying_the_last_accepted_number() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 15);
    let prefix = s.hnps[0].to_string();
    for seq in [15, 0, 14, 32783, 65535] {
        let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).seq(seq).build());
        let ba = pba(&out);
        assert_eq!((ba.status, ba.seq), (status::SEQUENCE_NUMBER_OUT_OF_WINDOW, 15), "{seq}");
    }
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&prefix).seq(32782).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.session(s.id).last_seq, 32782);
}

#[test]
fn sequence_number_wraps_modulo_65536() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 65535);
    let out = h.pbu(MAG1, Pbu::new(DUAL).hnp(&s.hnps[0].to_string()).seq(0).build());
    assert_eq!(pba(&out).status, 0);
}

#[test]
fn any_sequence_number_starts_a_new_session() {
    let mut h = H::new();
    h.attach(MAG1, DUAL, 0);
    h.attach(MAG1, V6ONLY, 40000);
    assert_eq!(h.count(), 2);
}

#[test]
fn pba_carries_no_timestamp_when_the_pbu_had_none() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).build());
    assert_eq!(timestamp_of(&pba(&out).options), None);
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().build());
    assert_eq!(timestamp_of(&pba(&out).options), None);
}

#[test]
fn the_sequence_number_of_a_rejected_pbu_is_copied_into_the_pba() {
    let mut h = H::new();
    let out = h.pbu(MAG1, Pbu::new(DUAL).no_hnp().seq(777).build());
    assert_eq!(pba(&out).seq, 777);
}
