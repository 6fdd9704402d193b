//! The LMA's restore rules: a saved session comes back as it was, with its
//! addresses and key taken from the pools; an expired one does not.

use std::time::Duration;

use super::super::tests::{installs, pba, Pbu, DUAL, GRE_MN, H, MAG1, V4ONLY, V6ONLY};
use super::super::Output;
use super::*;
use crate::store::records::Clock;

fn clock(h: &H) -> Clock {
    Clock::new(h.now, h.wall)
}

/// `mn` registered with a GRE key (downlink key 9), and an IPv4 home
/// address unless it is GRE_MN: the session.
fn attach_gre(h: &mut H, mn: &str) -> Session {
    let pbu = Pbu::new(mn).gre(Some(9));
    let pbu = match mn {
        GRE_MN => pbu,
        V4ONLY => pbu.v4("0.0.0.0").no_hnp(),
        _ => pbu.v4("0.0.0.0"),
    };
    let out = h.pbu(MAG1, pbu.build());
    assert_eq!(pba(&out).status, 0, "{out:?}");
    installs(&out)[0].clone()
}

/// The LMA `h` restarted `down` later: a fresh LMA with what `h` saved.
fn restart(h: &mut H, down: Duration) -> (H, Vec<Restored>) {
    let saved: Vec<SavedSession> = h.lma.sessions().filter_map(|s| h.lma.saved(s.id, clock(h))).collect();
    let mut again = H::new();
    again.now += down;
    again.wall = h.wall + down;
    let c = clock(&again);
    let restored = saved.into_iter().map(|s| again.lma.restore(s, c)).collect();
    (again, restored)
}

#[test]
fn a_saved_session_comes_back_active_with_its_addresses_key_and_remaining_lifetime() {
    let mut h = H::new();
    let s = attach_gre(&mut h, GRE_MN);
    let (again, restored) = restart(&mut h, Duration::from_secs(5));
    let Restored::Active(back) = &restored[0] else { panic!("{restored:?}") };
    assert_eq!(Session { expires: s.expires, ..back.clone() }, s);
    // 5 s passed: the lifetime left is 5 s shorter (to the millisecond).
    let left = back.expires.duration_since(again.now);
    assert_eq!(left.as_millis(), s.expires.duration_since(h.now).as_millis() - 5000);
    assert_eq!(again.lma.session(s.id), Some(back));
    let (prefixes, hoas) = again.lma.pools();
    assert!(s.hnps.iter().all(|p| prefixes.is_in_use(*p)));
    assert!(s.ipv4_hoa.is_none_or(|(a, _, _)| hoas.is_in_use(a)));
    assert!(matches!(s.encap, Encap::Gre { key_up: Some(_), .. }), "{:?}", s.encap);
}

#[test]
fn a_new_registration_after_restore_never_gets_a_restored_sessions_prefix_address_or_key() {
    let mut h = H::new();
    let old = attach_gre(&mut h, DUAL);
    assert!(!old.hnps.is_empty() && old.ipv4_hoa.is_some());
    let (mut again, _) = restart(&mut h, Duration::from_secs(1));
    let v6 = again.attach(MAG1, V6ONLY, 1);
    assert!(v6.hnps.iter().all(|p| !old.hnps.contains(p)), "{v6:?} {old:?}");
    let v4 = attach_gre(&mut again, V4ONLY);
    assert_ne!(v4.ipv4_hoa.map(|h| h.0), old.ipv4_hoa.map(|h| h.0));
    assert!(v4.ipv4_hoa.is_some());
    assert!(![v4.id, v6.id].contains(&old.id));
    let up = |s: &Session| match s.encap {
        Encap::Gre { key_up, .. } => key_up,
        _ => None,
    };
    assert!(up(&old).is_some() && up(&v4).is_some() && up(&v4) != up(&old));
}

#[test]
fn a_restored_session_is_renewed_by_its_mags_next_pbu_without_a_new_session() {
    let mut h = H::new();
    let s = h.attach(MAG1, DUAL, 1);
    let (mut again, _) = restart(&mut h, Duration::from_secs(2));
    let hnp = s.hnps[0].to_string();
    let out = again.pbu(MAG1, Pbu::new(DUAL).seq(2).hnp(&hnp).build());
    assert_eq!(pba(&out).status, 0, "{out:?}");
    assert_eq!(again.count(), 1);
    assert_eq!(again.session(s.id).hnps, s.hnps);
}

#[test]
fn a_session_whose_lifetime_ran_out_while_down_is_not_restored_and_frees_nothing() {
    let mut h = H::new();
    let s = h.attach(MAG1, V6ONLY, 1);
    let lifetime = s.lifetime;
    let (again, restored) = restart(&mut h, lifetime + Duration::from_secs(1));
    assert_eq!(restored, vec![Restored::Expired]);
    assert_eq!(again.count(), 0);
    assert!(!again.lma.pools().0.is_in_use(s.hnps[0]));
}

#[test]
fn a_restored_session_expires_at_its_saved_time() {
    let mut h = H::new();
    let s = h.attach(MAG1, V6ONLY, 1);
    let left = s.expires.duration_since(h.now);
    let (mut again, _) = restart(&mut h, Duration::from_secs(3));
    assert!(again.advance(left - Duration::from_secs(4)).is_empty());
    assert_eq!(again.count(), 1);
    let out = again.advance(Duration::from_secs(2));
    assert_eq!(out, vec![Output::Remove { id: s.id }]);
    assert_eq!(again.count(), 0);
}

#[test]
fn a_session_that_clashes_with_one_already_restored_is_left_out() {
    let mut h = H::new();
    let s = h.attach(MAG1, V6ONLY, 1);
    let saved = h.lma.saved(s.id, clock(&h)).unwrap();
    let mut again = H::new();
    let c = clock(&again);
    assert!(matches!(again.lma.restore(saved.clone(), c), Restored::Active(_)));
    assert_eq!(again.lma.restore(saved.clone(), c), Restored::Conflict("session id"));
    let other = SavedSession { id: saved.id + 1, ..saved };
    assert_eq!(again.lma.restore(other, c), Restored::Conflict("home network prefix"));
}

#[test]
fn changed_sessions_are_listed_once_tracking_is_on_created_renewed_and_deleted() {
    let mut h = H::new();
    let before = h.attach(MAG1, V6ONLY, 1);
    assert!(h.lma.take_changed().is_empty(), "nothing is noted before tracking starts");
    h.lma.track_changes();
    let s = h.attach(MAG1, DUAL, 1);
    assert_eq!(h.lma.take_changed(), vec![s.id]);
    let hnp = before.hnps[0].to_string();
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).seq(2).hnp(&hnp).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.lma.take_changed(), vec![before.id]);
    let out = h.pbu(MAG1, Pbu::new(V6ONLY).seq(3).hnp(&hnp).lifetime(0).build());
    assert_eq!(pba(&out).status, 0);
    assert_eq!(h.lma.take_changed(), vec![before.id]);
    assert!(h.lma.saved(before.id, clock(&h)).is_some_and(|s| !s.active), "deprecated, kept");
    h.advance(Duration::from_secs(30));
    assert_eq!(h.lma.take_changed(), vec![before.id]);
    assert_eq!(h.lma.saved(before.id, clock(&h)), None);
}
