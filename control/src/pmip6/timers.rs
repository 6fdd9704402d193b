//! The LMA's timers: one ordered set of (deadline, timer), so the next
//! deadline is the first element and arming or disarming one timer costs
//! O(log n) however many sessions there are.

use std::collections::BTreeSet;
use std::time::Instant;

/// What a deadline is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Timer {
    /// A session's lifetime expiry, or its deletion while deprecated.
    Session(u32),
    /// A shadow BCE not activated by now is revoked (§11.4).
    Shadow(u32),
    /// A PBU with HI = 4 held for MaxDelayBeforeNewBCEAssign.
    Hold(u64),
    /// Retransmission (or giving up) of the outstanding BRI with this
    /// sequence number.
    Bri(u16),
    /// The next round of heartbeat requests.
    Heartbeat,
}

#[derive(Debug, Default)]
pub(super) struct Timers {
    set: BTreeSet<(Instant, Timer)>,
}

impl Timers {
    pub fn arm(&mut self, timer: Timer, at: Instant) {
        self.set.insert((at, timer));
    }

    /// Removes the timer armed for `at` (a no-op when there is none).
    pub fn disarm(&mut self, timer: Timer, at: Instant) {
        self.set.remove(&(at, timer));
    }

    /// The earliest timer due at `now`, taken out.
    pub fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        let first = self.set.first()?;
        if first.0 > now {
            return None;
        }
        self.set.pop_first().map(|(_, timer)| timer)
    }

    pub fn next(&self) -> Option<Instant> {
        self.set.first().map(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timers_pop_in_deadline_order_and_only_when_due() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        t.arm(Timer::Session(2), t0 + Duration::from_secs(2));
        t.arm(Timer::Heartbeat, t0 + Duration::from_secs(1));
        t.arm(Timer::Bri(5), t0 + Duration::from_secs(3));
        t.disarm(Timer::Bri(5), t0 + Duration::from_secs(3));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(t.pop_due(t0), None);
        assert_eq!(t.pop_due(t0 + Duration::from_secs(5)), Some(Timer::Heartbeat));
        assert_eq!(t.pop_due(t0 + Duration::from_secs(5)), Some(Timer::Session(2)));
        assert_eq!(t.pop_due(t0 + Duration::from_secs(5)), None);
        assert_eq!(t.next(), None);
    }
}
