//! The config loader (`anchor_config::parse`) on arbitrary text: a bad
//! config is an error naming the key, never a panic. Seeds: the shipped
//! configs (config/*.toml), written by fuzz/seeds.py.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = anchor_config::parse(&text);
});
