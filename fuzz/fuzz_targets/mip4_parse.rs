//! `control::mip4::wire::parse` on arbitrary UDP 434 payloads: it never
//! panics (its doc), and what parses emits to bytes that parse again and
//! emit to the same bytes (emitting is a fixpoint after one round).
//! Seeds: the request and reply vectors of fuzz/seeds.py.

#![no_main]

use control::mip4::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wire::parse_with_offsets(data);
    if let Ok(msg) = wire::parse(data) {
        let bytes = wire::emit(&msg);
        let again = wire::parse(&bytes).expect("what emit writes parses");
        assert_eq!(wire::emit(&again), bytes, "emit of the re-parsed message differs");
    }
});
