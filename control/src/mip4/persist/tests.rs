//! The home agent's restore rules.

use super::super::tests::{Req, H, MN, STATIC4, STATIC_HOA};
use super::super::Output;
use super::*;
use crate::store::records::Clock;

fn restart(h: &H, down: Duration) -> (H, Vec<Restored>) {
    let c = Clock::new(h.now, h.wall);
    let saved: Vec<SavedBinding> = h.ha.bindings().filter_map(|b| h.ha.saved(b.id, c)).collect();
    let mut again = H::new();
    again.now += down;
    again.wall = h.wall + down;
    let c = Clock::new(again.now, again.wall);
    let restored = saved.into_iter().map(|s| again.ha.restore(s, c)).collect();
    (again, restored)
}

#[test]
fn a_saved_binding_comes_back_installed_with_its_home_address_held() {
    let mut h = H::new();
    let b = h.register(MN);
    let (again, restored) = restart(&h, Duration::from_secs(3));
    let Restored::Installed(back) = &restored[0] else { panic!("{restored:?}") };
    assert_eq!(Binding { expires: b.expires, ..back.clone() }, b);
    assert_eq!(again.ha.binding_by_hoa(b.hoa), Some(back));
    assert!(again.ha.pools().0.is_in_use(b.hoa));
}

#[test]
fn a_new_registration_after_restore_gets_another_home_address() {
    let mut h = H::new();
    let old = h.register(MN);
    let (mut again, _) = restart(&h, Duration::from_secs(1));
    let new = again.register(super::super::tests::DUAL);
    assert_ne!(new.hoa, old.hoa);
    assert_ne!(new.id, old.id);
}

#[test]
fn a_restored_static_home_address_stays_its_owners() {
    let mut h = H::new();
    let b = h.register(STATIC4);
    assert_eq!(b.hoa.to_string(), STATIC_HOA);
    let (again, restored) = restart(&h, Duration::from_secs(1));
    assert!(matches!(restored[0], Restored::Installed(_)));
    assert_eq!(again.ha.binding_by_hoa(b.hoa).map(|x| x.id), Some(b.id));
}

#[test]
fn a_binding_whose_lifetime_ran_out_while_down_is_not_restored() {
    let mut h = H::new();
    let b = h.register(MN);
    let (again, restored) = restart(&h, b.lifetime + Duration::from_secs(1));
    assert_eq!(restored, vec![Restored::Expired]);
    assert_eq!(again.count(), 0);
    assert!(!again.ha.pools().0.is_in_use(b.hoa));
}

#[test]
fn a_restored_binding_expires_silently_at_its_saved_time() {
    let mut h = H::new();
    let b = h.register(MN);
    let (mut again, _) = restart(&h, Duration::from_secs(2));
    let out = again.advance(b.lifetime);
    assert_eq!(out, vec![Output::Remove { id: b.id }]);
    assert_eq!(again.count(), 0);
}

#[test]
fn changed_bindings_are_listed_once_tracking_is_on() {
    let mut h = H::new();
    h.ha.track_changes();
    let b = h.register(MN);
    assert_eq!(h.ha.take_changed(), vec![b.id]);
    let id = h.id();
    let out = h.send(Req::mn(MN).id(id).lifetime(0));
    assert!(!out.is_empty());
    assert_eq!(h.ha.take_changed(), vec![b.id]);
    assert_eq!(h.ha.saved(b.id, Clock::new(h.now, h.wall)), None);
}
