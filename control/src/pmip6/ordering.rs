//! Message ordering (RFC 5213 §5.5; PROTOCOLS.md §3.5): the Timestamp option
//! when the PBU carries one, RFC 6275 sequence numbers otherwise.

use std::time::Duration;

use crate::proto::status;

/// A Timestamp option value against the last accepted one of the session
/// and our time of day (both 48.16 fixed point). `Err` is 157 or 156.
///
/// 157 is checked first: a timestamp both stale and outside the window is
/// "lower than previously accepted" (§14 #17). A timestamp equal to the last
/// accepted one is not "greater than every previously accepted" but not
/// lower either: 156.
pub(super) fn check_timestamp(
    timestamp: u64,
    last: Option<u64>,
    now: u64,
    window: Duration,
    mn_generated: bool,
) -> Result<(), u8> {
    if last.is_some_and(|last| timestamp < last) {
        return Err(status::TIMESTAMP_LOWER_THAN_PREV_ACCEPTED);
    }
    if !mn_generated {
        let window = window.as_nanos().saturating_mul(65_536) / 1_000_000_000;
        if u128::from(timestamp.abs_diff(now)) > window {
            return Err(status::TIMESTAMP_MISMATCH);
        }
    }
    if last == Some(timestamp) {
        return Err(status::TIMESTAMP_MISMATCH);
    }
    Ok(())
}

/// Whether sequence number `x` is "greater" than the last accepted `last`
/// modulo 2^16: `(x − last) mod 65536 ∈ [1, 32767]` (§3.5).
pub(super) fn sequence_is_newer(x: u16, last: u16) -> bool {
    (1..=32_767).contains(&x.wrapping_sub(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_millis(300);

    fn ts(seconds: u64, fraction: u64) -> u64 {
        (seconds << 16) | fraction
    }

    #[test]
    fn timestamp_within_the_window_and_newer_than_the_last_is_valid() {
        assert_eq!(check_timestamp(ts(100, 0), None, ts(100, 0x4000), W, false), Ok(()));
        assert_eq!(check_timestamp(ts(100, 10), Some(ts(100, 9)), ts(100, 0), W, false), Ok(()));
    }

    #[test]
    fn timestamp_outside_the_300_ms_window_is_156() {
        // 0x5000 / 65536 s = 312.5 ms.
        assert_eq!(check_timestamp(ts(100, 0), None, ts(100, 0x5000), W, false), Err(156));
        assert_eq!(check_timestamp(ts(100, 0x5000), None, ts(100, 0), W, false), Err(156));
    }

    #[test]
    fn timestamp_lower_than_the_last_accepted_is_157_even_outside_the_window() {
        assert_eq!(check_timestamp(ts(99, 0), Some(ts(100, 0)), ts(100, 0), W, false), Err(157));
        assert_eq!(check_timestamp(ts(1, 0), Some(ts(100, 0)), ts(100, 0), W, false), Err(157));
    }

    #[test]
    fn timestamp_equal_to_the_last_accepted_is_156() {
        assert_eq!(check_timestamp(ts(100, 0), Some(ts(100, 0)), ts(100, 0), W, false), Err(156));
    }

    #[test]
    fn mobile_node_generated_timestamps_skip_the_window() {
        assert_eq!(check_timestamp(ts(5, 0), Some(ts(4, 0)), ts(100, 0), W, true), Ok(()));
        assert_eq!(check_timestamp(ts(3, 0), Some(ts(4, 0)), ts(100, 0), W, true), Err(157));
    }

    #[test]
    fn sequence_numbers_compare_modulo_65536_with_a_half_window() {
        // §3.5 example: L = 15 → 0…15 and 32783…65535 are refused.
        for x in (0..=15).chain(32_783..=65_535) {
            assert!(!sequence_is_newer(x, 15), "{x}");
        }
        for x in 16..=32_782 {
            assert!(sequence_is_newer(x, 15), "{x}");
        }
        assert!(sequence_is_newer(0, 65_535));
    }
}
