//! Restore through the glue: pools of both roles, the forwarding table.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dataplane::port::mem::MemPort;

use super::*;
use crate::store::records::{SavedBinding, SavedEncap, SavedSession};
use crate::store::{Loaded, Store};

const LMA_HOA: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 60);
const LMA_HNP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0x60, 0, 0, 0, 0);
const HA_HOA: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 61);

fn demo() -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
    anchor_config::load(&path).expect("config/demo.toml loads")
}

fn session(expires_ms: u64) -> SavedSession {
    SavedSession {
        id: 4,
        mn_id: "dual@anchor.test".into(),
        mn_id_subtype: 1,
        mn_id_hex: false,
        active: true,
        att: 4,
        mn_ll_id: vec![0, 0],
        link_local: None,
        hnps: vec![LMA_HNP],
        ipv4_hoa: Some((LMA_HOA, 24, Ipv4Addr::new(203, 0, 113, 1))),
        proxy_coa: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2)),
        local: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
        encap: SavedEncap::IpIp,
        lifetime_ms: 60_000,
        expires_ms,
        timer_ms: expires_ms,
        last_seq: 1,
        last_timestamp: None,
        mag: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2)),
        mag_udp_port: None,
    }
}

fn binding(expires_ms: u64) -> SavedBinding {
    SavedBinding {
        id: 9,
        mn_id: "mip4@anchor.test".into(),
        role: "mip4".into(),
        hoa: HA_HOA,
        hoa_prefix_len: 24,
        default_router: Some(Ipv4Addr::new(203, 0, 113, 1)),
        coa: Ipv4Addr::new(192, 0, 2, 3),
        registered_from: (Ipv4Addr::new(192, 0, 2, 3), 434),
        tunnel_kind: "ipip".into(),
        tunnel_local: Ipv4Addr::new(192, 0, 2, 1),
        tunnel_remote: Ipv4Addr::new(192, 0, 2, 3),
        key_in: None,
        key_out: None,
        peer_port: 0,
        awaiting_keepalive: false,
        reverse_tunnel: false,
        prefixes: vec![],
        ipv6_to_coa: false,
        home_address6: None,
        lifetime_ms: 60_000,
        expires_ms,
        identification: 1,
        att: None,
        interface_id: None,
        device_id: None,
        subscriber_id: None,
        revocation: None,
    }
}

#[test]
fn restored_sessions_are_forwarded_and_their_addresses_held_in_both_roles_pools() {
    let config = demo();
    let dir = std::env::temp_dir().join(format!("anchor-restore-glue-{}", std::process::id()));
    let store = Store::open(&dir.join("s.db")).unwrap();
    let writer = Writer::spawn(store).unwrap();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let in_a_minute = Clock::new(now, wall).wall_ms(now + Duration::from_secs(60));
    let gone = Clock::new(now, wall).wall_ms(now) - 1000;
    let mut expired = binding(gone);
    expired.id = 10;
    expired.hoa = Ipv4Addr::new(203, 0, 113, 62);
    let loaded = Loaded {
        restart_counter: 6,
        lma: vec![session(in_a_minute)],
        ha: vec![binding(in_a_minute), expired],
        dsmip6: vec![],
    };
    let mut fwd = crate::signalling::testutil::forwarding(&config);
    let before = fwd.fib_usage().0;
    let mut s = Signalling::new(&config, now);
    let r = s.restore(Opened { loaded, restart_counter: 7, writer }, &mut fwd, &config, now, wall);
    assert_eq!(r, RestoreReport { lma: 1, ha: 1, dsmip6: 0, expired: 1, conflicts: 0 });
    assert_eq!(fwd.fib_usage().0 - before, 3, "the HNP and the IPv4 HoA of the session, the binding's HoA");
    assert!(s.installed.contains_key(&4));
    let (lma_prefixes, lma_hoas) = s.lma.as_ref().unwrap().pools();
    assert!(lma_hoas.is_in_use(LMA_HOA) && lma_prefixes.is_in_use(LMA_HNP));
    assert!(lma_hoas.is_in_use(HA_HOA), "the HA's binding is reserved at the LMA");
    assert!(!lma_hoas.is_in_use(Ipv4Addr::new(203, 0, 113, 62)), "the expired one holds nothing");
    let (ha_hoas, ha_prefixes) = s.ha.as_ref().unwrap().ha.pools();
    assert!(ha_hoas.is_in_use(HA_HOA));
    assert!(ha_hoas.is_in_use(LMA_HOA) && ha_prefixes.is_in_use(LMA_HNP), "the LMA's session is reserved at the HA");
    // The expired binding's deletion goes with the first batch.
    assert_eq!(s.store.as_ref().unwrap().dropped.ha, vec![(10, None)]);
    s.persist_final(Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_reply_is_held_until_the_batch_with_its_change_is_committed() {
    let config = demo();
    let rig = crate::signalling::testutil::Rig::new();
    let ports = &rig.ports;
    let mut cp = rig.cp();
    let mut fwd = crate::signalling::testutil::forwarding(&config);
    let dir = std::env::temp_dir().join(format!("anchor-held-reply-{}", std::process::id()));
    let writer = Writer::spawn(Store::open(&dir.join("s.db")).unwrap()).unwrap();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut s = Signalling::new(&config, now);
    s.restore(Opened { loaded: Loaded::default(), restart_counter: 1, writer }, &mut fwd, &config, now, wall);
    let sent = |ports: &[MemPort]| ports[0].take_tx().len();
    // Nothing changed: a reply goes at the end of the pass.
    s.send_reply(&mut cp, 0, vec![0xaa; 60]);
    assert_eq!(sent(ports), 0);
    s.persist(&mut cp, now);
    assert_eq!(sent(ports), 1);
    // A change (a session comes into the LMA) and its reply.
    let in_a_minute = Clock::new(now, wall).wall_ms(now + Duration::from_secs(60));
    let restored = s.lma.as_mut().unwrap().restore(session(in_a_minute), Clock::new(now, wall));
    assert!(matches!(restored, crate::pmip6::Restored::Active(_)));
    s.send_reply(&mut cp, 0, vec![0xbb; 60]);
    let later = now + Duration::from_millis(10);
    s.persist(&mut cp, later);
    // Handed to the writer, not committed yet: held.
    assert_eq!(sent(ports), 0);
    assert_eq!(s.store_stats_json()["replies_held"], 1);
    let mut waited = 0;
    while sent(ports) == 0 {
        assert!(waited < 1000, "the reply never went out");
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
        s.persist(&mut cp, later);
    }
    // By then the session is in the file.
    let store = s.store.take().unwrap().writer.finish().unwrap();
    assert_eq!(store.ids().unwrap(), (vec![4], vec![]));
    let _ = std::fs::remove_dir_all(dir);
}

const DS6_HOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x300, 0, 0, 0, 0, 0x10);
const DS6_HOA4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 70);
const DS6_KEY: [u8; 20] = [
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
    0x34,
];

fn registration6(expires_ms: u64) -> crate::store::SavedRegistration6 {
    use crate::store::records::{SavedCareOf6, SavedTunnel6};
    let coa = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
    let tunnel = SavedTunnel6 {
        kind: "ipip".into(),
        local: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
        remote: IpAddr::V6(coa),
        local_port: 0,
        peer_port: 0,
        nested: false,
    };
    crate::store::SavedRegistration6 {
        id: 3,
        mn_id: "ds6@anchor.test".into(),
        hoa: DS6_HOA,
        seq: 5,
        care_of: SavedCareOf6::Ipv6 { coa },
        home: "away".into(),
        v6_tunnel: tunnel.clone(),
        v4: Some((4, DS6_HOA4, 24, tunnel)),
        lifetime_ms: 60_000,
        expires_ms,
        last_mesg_id: Some(1),
        deprecated: false,
    }
}

#[test]
fn a_restored_dsmip6_registration_is_forwarded_and_its_ipv4_home_address_held_in_every_pool() {
    let config = demo();
    let dir = std::env::temp_dir().join(format!("anchor-restore-ds6-{}", std::process::id()));
    let writer = Writer::spawn(Store::open(&dir.join("s.db")).unwrap()).unwrap();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let in_a_minute = Clock::new(now, wall).wall_ms(now + Duration::from_secs(60));
    let mut expired = registration6(Clock::new(now, wall).wall_ms(now) - 1000);
    expired.id = 30;
    let loaded = Loaded { dsmip6: vec![registration6(in_a_minute), expired], ..Loaded::default() };
    let mut fwd = crate::signalling::testutil::forwarding(&config);
    let before = fwd.fib_usage().0;
    let mut s = Signalling::new(&config, now);
    let r = s.restore(Opened { loaded, restart_counter: 7, writer }, &mut fwd, &config, now, wall);
    assert_eq!(r, RestoreReport { lma: 0, ha: 0, dsmip6: 1, expired: 1, conflicts: 0 });
    assert_eq!(fwd.fib_usage().0 - before, 2, "the IPv6 and the IPv4 home address");
    let glue = s.dsmip6.as_ref().unwrap();
    assert!(glue.ha.pool().is_in_use(DS6_HOA4), "the home agent's pool");
    assert!(s.lma.as_ref().unwrap().pools().1.is_in_use(DS6_HOA4), "the LMA's pool");
    assert!(s.ha.as_ref().unwrap().ha.pools().0.is_in_use(DS6_HOA4), "the MIPv4 home agent's pool");
    assert_eq!(s.dsmip6_forwarded().len(), 2);
    assert_eq!(s.store_stats_json()["restored_dsmip6"], 1);
    assert_eq!(s.store.as_ref().unwrap().dropped.dsmip6, vec![(30, None)]);
    s.persist_final(Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_dsmip6_registration_held_by_a_mip4_binding_is_not_restored() {
    let config = demo();
    let dir = std::env::temp_dir().join(format!("anchor-restore-ds6-clash-{}", std::process::id()));
    let writer = Writer::spawn(Store::open(&dir.join("s.db")).unwrap()).unwrap();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let in_a_minute = Clock::new(now, wall).wall_ms(now + Duration::from_secs(60));
    let mut clash = registration6(in_a_minute);
    clash.v4 = clash.v4.map(|(id, _, len, t)| (id, HA_HOA, len, t));
    let loaded = Loaded { ha: vec![binding(in_a_minute)], dsmip6: vec![clash], ..Loaded::default() };
    let mut fwd = crate::signalling::testutil::forwarding(&config);
    let mut s = Signalling::new(&config, now);
    let r = s.restore(Opened { loaded, restart_counter: 7, writer }, &mut fwd, &config, now, wall);
    assert_eq!(r, RestoreReport { lma: 0, ha: 1, dsmip6: 0, expired: 0, conflicts: 1 });
    assert_eq!(s.store.as_ref().unwrap().dropped.dsmip6, vec![(3, None)]);
    s.persist_final(Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_binding_acknowledgement_is_held_until_its_registration_is_committed() {
    use crate::dsmip6::tests::{Bu, MesgId, Via};
    let config = demo();
    let rig = crate::signalling::testutil::Rig::new();
    let ports = &rig.ports;
    let mut cp = rig.cp();
    let mut fwd = crate::signalling::testutil::forwarding(&config);
    let dir = std::env::temp_dir().join(format!("anchor-held-ba-{}", std::process::id()));
    let writer = Writer::spawn(Store::open(&dir.join("s.db")).unwrap()).unwrap();
    let (now, wall) = (Instant::now(), SystemTime::now());
    let mut s = Signalling::new(&config, now);
    s.restore(Opened { loaded: Loaded::default(), restart_counter: 1, writer }, &mut fwd, &config, now, wall);
    // ds6@anchor.test of demo.toml registers from 2001:db8:1::2.
    let coa = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
    let mut bu = Bu::new("2001:db8:300::10", 1)
        .via(Via::Ipv6 { coa })
        .mesg_id(MesgId::Value(crate::dsmip6::ntp_of(SystemTime::now())));
    bu.key = DS6_KEY.to_vec();
    bu.spi = 8448;
    bu.ha = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
    let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd];
    frame.extend(bu.packet());
    s.receive(vec![(0, frame)], &mut cp, &mut fwd, &config, now);
    assert_eq!(s.dsmip6.as_ref().unwrap().ha.registrations().count(), 1, "registered");
    let sent = |ports: &[MemPort]| ports[0].take_tx().len();
    assert_eq!(sent(ports), 0, "the BA waits for the commit");
    let later = now + Duration::from_millis(10);
    s.persist(&mut cp, later);
    assert_eq!(s.store_stats_json()["replies_held"], 1);
    let mut waited = 0;
    while sent(ports) == 0 {
        assert!(waited < 1000, "the BA never went out");
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
        s.persist(&mut cp, later);
    }
    let store = s.store.take().unwrap().writer.finish().unwrap();
    assert_eq!(store.dsmip6_ids().unwrap().len(), 1, "by then the registration is in the file");
    let _ = std::fs::remove_dir_all(dir);
}
