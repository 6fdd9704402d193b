//! `control::proto::parse` on arbitrary bytes, as a Mobility Header over
//! IPv6 (checksum as given, and made right) and in UDP over IPv4 (no
//! checksum), then the re-emit promises of `anchor_fuzz::check_reemit`.
//! Seeds: the scapy-built golden messages, written by `scripts/fuzz.sh`.

#![no_main]

use anchor_fuzz::{check_reemit, V6};
use control::proto::{self, header::Packet, Checksum};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let plain = proto::parse(data, Checksum::None);
    let _ = proto::parse(data, V6);
    if Packet::new_checked(data).is_ok() {
        let mut fixed = data.to_vec();
        Packet::new_unchecked(&mut fixed[..]).fill_checksum(V6);
        assert_eq!(proto::parse(&fixed, V6), plain, "a right checksum changes what parses");
    }
    if let Ok(msg) = plain {
        if let Some(bytes) = check_reemit(&msg) {
            // Emitting is a fixpoint after one round.
            let again = proto::parse(&bytes, V6).expect("checked by check_reemit");
            assert_eq!(proto::emit(&again, V6), bytes, "emit of the re-parsed message differs");
        }
    }
});
