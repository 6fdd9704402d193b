use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::records::SavedEncap;
use super::*;

/// A fresh directory under the system's temporary one, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("anchor-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Dir(d)
    }

    fn file(&self) -> PathBuf {
        self.0.join("sub").join("anchord.db")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn session(id: u32) -> SavedSession {
    SavedSession {
        id,
        mn_id: format!("mn{id}@anchor.test"),
        mn_id_subtype: 1,
        mn_id_hex: false,
        active: true,
        att: 4,
        mn_ll_id: vec![0, 0],
        link_local: None,
        hnps: vec![Ipv6Addr::new(0x2001, 0xdb8, 0x100, id as u16, 0, 0, 0, 0)],
        ipv4_hoa: Some((Ipv4Addr::new(203, 0, 113, 10), 24, Ipv4Addr::new(203, 0, 113, 1))),
        proxy_coa: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2)),
        local: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
        encap: SavedEncap::Gre { key_up: Some(7), key_down: None },
        lifetime_ms: 40_000,
        expires_ms: 2_000_000_000_000,
        timer_ms: 2_000_000_000_000,
        last_seq: 9,
        last_timestamp: Some(1 << 40),
        mag: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2)),
        mag_udp_port: None,
    }
}

fn binding(id: u32) -> SavedBinding {
    SavedBinding {
        id,
        mn_id: "mip4@anchor.test".into(),
        role: "mip4".into(),
        hoa: Ipv4Addr::new(203, 0, 113, 20),
        hoa_prefix_len: 24,
        default_router: Some(Ipv4Addr::new(203, 0, 113, 1)),
        coa: Ipv4Addr::new(192, 0, 2, 3),
        registered_from: (Ipv4Addr::new(192, 0, 2, 3), 434),
        tunnel_kind: "mip-udp".into(),
        tunnel_local: Ipv4Addr::new(192, 0, 2, 1),
        tunnel_remote: Ipv4Addr::new(192, 0, 2, 3),
        key_in: None,
        key_out: None,
        peer_port: 40001,
        awaiting_keepalive: false,
        reverse_tunnel: true,
        prefixes: vec![],
        ipv6_to_coa: false,
        home_address6: None,
        lifetime_ms: 60_000,
        expires_ms: 2_000_000_000_000,
        identification: 42,
        att: None,
        interface_id: Some(vec![1, 2]),
        device_id: Some((1, vec![3])),
        subscriber_id: None,
        revocation: Some((Ipv4Addr::new(192, 0, 2, 3), false, true)),
    }
}

fn put<T: Clone>(id: u32, r: &T) -> (u32, Option<T>) {
    (id, Some(r.clone()))
}

#[test]
fn a_missing_file_and_directory_are_created_as_an_empty_store() {
    let d = Dir::new("fresh");
    let s = Store::open(&d.file()).unwrap();
    assert_eq!(s.load().unwrap(), Loaded::default());
    assert!(d.file().exists());
}

#[test]
fn committed_sessions_and_bindings_come_back_after_reopening() {
    let d = Dir::new("roundtrip");
    {
        let s = Store::open(&d.file()).unwrap();
        let batch = Batch {
            lma: vec![put(1, &session(1)), put(2, &session(2))],
            ha: vec![put(5, &binding(5))],
            ..Batch::default()
        };
        s.commit(&batch).unwrap();
        // A later batch deletes one and changes another.
        let mut changed = session(1);
        changed.last_seq = 10;
        s.commit(&Batch { lma: vec![(2, None), put(1, &changed)], ha: vec![], ..Batch::default() }).unwrap();
    }
    let s = Store::open(&d.file()).unwrap();
    let loaded = s.load().unwrap();
    let mut want = session(1);
    want.last_seq = 10;
    assert_eq!(loaded.lma, vec![want]);
    assert_eq!(loaded.ha, vec![binding(5)]);
}

#[test]
fn the_restart_counter_is_kept_when_state_survives_and_goes_up_when_it_may_not() {
    let d = Dir::new("restart");
    let start = |sync: bool| Store::open(&d.file()).unwrap().start(sync).unwrap();
    // A new store: nothing survived.
    assert_eq!(start(true), Start { restart_counter: 1, lost_state: true });
    // Replies waited for the disk: a crash (no clean stop) loses nothing.
    assert_eq!(start(true), Start { restart_counter: 1, lost_state: false });
    // A run answering before its changes are durable...
    assert_eq!(start(false), Start { restart_counter: 1, lost_state: false });
    // ...that crashed may have lost acknowledged state.
    assert_eq!(start(false), Start { restart_counter: 2, lost_state: true });
    // One that stopped cleanly did not.
    Store::open(&d.file()).unwrap().stopped_cleanly().unwrap();
    assert_eq!(start(true), Start { restart_counter: 2, lost_state: false });
    assert_eq!(Store::open(&d.file()).unwrap().load().unwrap().restart_counter, 2);
    // The file gone: a new store, a new counter value.
    drop(d);
    let d = Dir::new("restart");
    assert_eq!(Store::open(&d.file()).unwrap().start(true).unwrap(), Start { restart_counter: 1, lost_state: true });
}

#[test]
fn a_batch_whose_transaction_never_commits_is_absent_after_reopening() {
    let d = Dir::new("uncommitted");
    {
        let s = Store::open(&d.file()).unwrap();
        s.commit(&Batch { lma: vec![put(1, &session(1))], ha: vec![], ..Batch::default() }).unwrap();
        // A batch written but not committed (the process dies first).
        let txn = s.db.begin_write().unwrap();
        {
            let mut t = txn.open_table(LMA).unwrap();
            t.insert(2, encode(&session(2)).as_slice()).unwrap();
            t.remove(1).unwrap();
        }
        drop(txn);
    }
    let loaded = Store::open(&d.file()).unwrap().load().unwrap();
    assert_eq!(loaded.lma, vec![session(1)]);
}

#[test]
fn a_file_that_is_not_a_store_is_an_error_naming_it() {
    let d = Dir::new("garbage");
    std::fs::create_dir_all(d.file().parent().unwrap()).unwrap();
    std::fs::write(d.file(), vec![0x5a; 8192]).unwrap();
    let err = Store::open(&d.file()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Open { .. }), "{msg}");
    assert!(msg.starts_with(&d.file().display().to_string()), "{msg}");
    assert!(msg.contains("move it aside or delete it"), "{msg}");
}

#[test]
fn a_record_that_does_not_decode_is_an_error_naming_the_file_table_and_key() {
    let d = Dir::new("record");
    {
        let s = Store::open(&d.file()).unwrap();
        s.commit_encoded(&[(3, Some(b"{not json".to_vec()))], &[], &[]).unwrap();
    }
    let err = Store::open(&d.file()).unwrap().load().unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with(&d.file().display().to_string()), "{msg}");
    assert!(msg.contains("record 3 of table lma_sessions"), "{msg}");
}

#[test]
fn another_schema_version_is_refused() {
    let d = Dir::new("schema");
    {
        let s = Store::open(&d.file()).unwrap();
        let txn = s.db.begin_write().unwrap();
        txn.open_table(META).unwrap().insert(KEY_SCHEMA, SCHEMA_VERSION + 1).unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(&d.file()).unwrap_err();
    assert!(matches!(err, StoreError::Schema { found, .. } if found == SCHEMA_VERSION + 1), "{err}");
}

#[test]
fn the_writer_commits_batches_in_order_and_reports_each() {
    let d = Dir::new("writer");
    let mut w = Writer::spawn(Store::open(&d.file()).unwrap()).unwrap();
    let a = w.submit(Batch { lma: vec![put(1, &session(1))], ha: vec![], ..Batch::default() });
    let b = w.submit(Batch {
        lma: vec![(1, None), put(2, &session(2))],
        ha: vec![put(4, &binding(4))],
        ..Batch::default()
    });
    assert!(b > a);
    let mut last = 0;
    while last < b {
        match w.wait(Duration::from_secs(10)) {
            Some(Done::Committed(seq)) => last = seq,
            other => panic!("{other:?}"),
        }
    }
    let store = w.finish().unwrap();
    assert_eq!(store.ids().unwrap(), (vec![2], vec![4]));
}

#[test]
fn squashing_a_batch_keeps_the_last_change_of_each_session() {
    let mut later = session(1);
    later.last_seq = 2;
    let mut b = Batch {
        lma: vec![put(1, &session(1)), put(2, &session(2)), (2, None), put(1, &later)],
        ha: vec![],
        ..Batch::default()
    };
    b.squash();
    assert_eq!(b.lma, vec![(2, None), put(1, &later)]);
}
