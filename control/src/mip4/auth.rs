//! Mobile IPv4 authenticators (RFC 5944 §3.5.1, PROTOCOLS.md §8.5).
//!
//! An authentication extension (MN-HA 32, MN-FA 33, FA-HA 34) covers every
//! octet of the UDP payload before its Authenticator: the message's fixed
//! part, every earlier extension (authenticators included) and its own
//! Type, Length and SPI. The default algorithm is HMAC-MD5 with a 128-bit
//! key and a 16-octet authenticator; the legacy RFC 2002 "prefix+suffix"
//! keyed MD5 is `MD5(key ‖ data ‖ key)`.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};

use super::ext::{AuthKind, Extension};
use super::wire::{emit_with_offsets, Message};

pub use anchor_config::AuthAlgorithm as Algorithm;

/// Octets of an authenticator.
pub const AUTHENTICATOR_LEN: usize = 16;

/// Octets before the authenticator in an authentication extension: Type,
/// Length and SPI.
pub const HEADER_LEN: usize = 6;

/// The authenticator of `covered` under `key`.
pub fn authenticator(alg: Algorithm, key: &[u8], covered: &[u8]) -> [u8; AUTHENTICATOR_LEN] {
    match alg {
        Algorithm::HmacMd5 => {
            // HMAC accepts keys of any length (RFC 2104): no error path.
            let mut mac = match <Hmac<Md5> as KeyInit>::new_from_slice(key) {
                Ok(mac) => mac,
                Err(_) => return [0; AUTHENTICATOR_LEN],
            };
            mac.update(covered);
            mac.finalize().into_bytes().into()
        }
        Algorithm::PrefixSuffixMd5 => {
            let mut md5 = Md5::new();
            md5.update(key);
            md5.update(covered);
            md5.update(key);
            md5.finalize().into()
        }
    }
}

/// Whether `given` is the authenticator of `covered` (compared in constant
/// time).
pub fn verify(alg: Algorithm, key: &[u8], covered: &[u8], given: &[u8]) -> bool {
    let expected = authenticator(alg, key, covered);
    if given.len() != expected.len() {
        return false;
    }
    expected.iter().zip(given).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The octets the authentication extension whose Type octet is at
/// `ext_offset` covers: everything up to and including its SPI. `None`
/// when the payload is shorter (never for what [`super::wire::parse`]
/// accepted).
pub fn covered(payload: &[u8], ext_offset: usize) -> Option<&[u8]> {
    payload.get(..ext_offset.checked_add(HEADER_LEN)?)
}

/// A key to seal one authentication extension with.
#[derive(Debug, Clone, Copy)]
pub struct SealKey<'a> {
    pub kind: AuthKind,
    pub spi: u32,
    pub alg: Algorithm,
    pub key: &'a [u8],
}

/// Fills the authenticator of every authentication extension of `msg`
/// that `keys` has a key for (matched by kind and SPI), in order, so that
/// each one covers the final values of the ones before it.
pub fn seal(msg: &mut Message, keys: &[SealKey<'_>]) {
    let n = msg.extensions().len();
    for i in 0..n {
        let Some(Extension::Auth { kind, spi, .. }) = msg.extensions().get(i) else { continue };
        let Some(k) = keys.iter().find(|k| k.kind == *kind && k.spi == *spi) else { continue };
        // The authenticator's length goes into Length, so set it first.
        if let Some(Extension::Auth { authenticator, .. }) = msg.extensions_mut().and_then(|e| e.get_mut(i)) {
            *authenticator = vec![0; AUTHENTICATOR_LEN];
        }
        let (bytes, offsets) = emit_with_offsets(msg);
        let Some(value) = offsets.get(i).and_then(|&at| covered(&bytes, at)).map(|c| authenticator(k.alg, k.key, c))
        else {
            continue;
        };
        if let Some(Extension::Auth { authenticator, .. }) = msg.extensions_mut().and_then(|e| e.get_mut(i)) {
            *authenticator = value.to_vec();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::super::wire::{emit, parse_with_offsets, Rrq};
    use super::*;
    use crate::golden_tools::unhex;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// RFC 2202 §2: the seven HMAC-MD5 test cases.
    #[test]
    fn hmac_md5_matches_the_rfc_2202_test_cases() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
            (vec![0x0b; 16], b"Hi There".to_vec(), "9294727a3638bb1c13f48ef8158bfc9d"),
            (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(), "750c783e6ab0b503eaa86e310a5db738"),
            (vec![0xaa; 16], vec![0xdd; 50], "56be34521d144c88dbb8c733f0e8b3f6"),
            (
                unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                vec![0xcd; 50],
                "697eaf0aca3a3aea3a75164746ffaa79",
            ),
            (vec![0x0c; 16], b"Test With Truncation".to_vec(), "56461ef2342edc00f9bab995690efd4c"),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".to_vec(),
                "6f630fad67cda0ee1fb1f562db3aa53e",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex(&authenticator(Algorithm::HmacMd5, &key, &data)), expected);
        }
    }

    /// PROTOCOLS.md §8.5: the vector computed with Python's hmac.
    #[test]
    fn mn_ha_authenticator_covers_the_payload_through_the_spi_as_in_protocols_8_5() {
        let key: Vec<u8> = (0..16).collect();
        let covered =
            unhex("0102070800000000c0000201c6336407e123456700000001830f6d6e31406578616d706c652e6e6574201400001000");
        assert_eq!(hex(&authenticator(Algorithm::HmacMd5, &key, &covered)), "c3737bd5615d963a45ad9c81b6d84ec5");
        // The same request sealed by us: the authenticator lands after the SPI.
        let mut payload = covered.clone();
        payload.extend_from_slice(&[0; 16]);
        let mut msg = parse_with_offsets(&payload).unwrap().message;
        seal(&mut msg, &[SealKey { kind: AuthKind::MnHa, spi: 0x1000, alg: Algorithm::HmacMd5, key: &key }]);
        let bytes = emit(&msg);
        assert_eq!(bytes[..covered.len()], covered[..]);
        assert_eq!(hex(&bytes[covered.len()..]), "c3737bd5615d963a45ad9c81b6d84ec5");
    }

    #[test]
    fn prefix_suffix_md5_is_md5_of_key_data_key() {
        // MD5("k" "abc" "k") = MD5("kabck"), computed independently:
        // python3 -c 'import hashlib;print(hashlib.md5(b"kabck").hexdigest())'
        assert_eq!(hex(&authenticator(Algorithm::PrefixSuffixMd5, b"k", b"abc")), "b1536f91430075560d983fdfb3872bac");
    }

    #[test]
    fn verify_refuses_a_changed_octet_a_wrong_key_and_a_short_authenticator() {
        let key = [7u8; 16];
        let data = b"registration request";
        let good = authenticator(Algorithm::HmacMd5, &key, data);
        assert!(verify(Algorithm::HmacMd5, &key, data, &good));
        let mut bad = good;
        bad[15] ^= 1;
        assert!(!verify(Algorithm::HmacMd5, &key, data, &bad));
        assert!(!verify(Algorithm::HmacMd5, &[8u8; 16], data, &good));
        assert!(!verify(Algorithm::HmacMd5, &key, data, &good[..15]));
        assert!(!verify(Algorithm::PrefixSuffixMd5, &key, data, &good));
    }

    #[test]
    fn each_seal_covers_the_authenticators_before_it() {
        let k1 = [1u8; 16];
        let k2 = [2u8; 16];
        let mut msg = Message::Rrq(Rrq {
            flags: 0,
            lifetime: 60,
            home_address: "203.0.113.5".parse().unwrap(),
            home_agent: "192.0.2.1".parse().unwrap(),
            care_of: "192.0.2.2".parse().unwrap(),
            identification: 1,
            extensions: vec![
                Extension::Auth { kind: AuthKind::MnHa, spi: 300, authenticator: vec![] },
                Extension::GreKey(5),
                Extension::Auth { kind: AuthKind::FaHa, spi: 400, authenticator: vec![] },
            ],
        });
        seal(
            &mut msg,
            &[
                SealKey { kind: AuthKind::FaHa, spi: 400, alg: Algorithm::HmacMd5, key: &k2 },
                SealKey { kind: AuthKind::MnHa, spi: 300, alg: Algorithm::HmacMd5, key: &k1 },
            ],
        );
        let bytes = emit(&msg);
        let p = parse_with_offsets(&bytes).unwrap();
        let auth = |i: usize| match &p.message.extensions()[i] {
            Extension::Auth { authenticator, .. } => authenticator.clone(),
            other => panic!("{other:?}"),
        };
        assert!(verify(Algorithm::HmacMd5, &k1, covered(&bytes, p.offsets[0]).unwrap(), &auth(0)));
        assert!(verify(Algorithm::HmacMd5, &k2, covered(&bytes, p.offsets[2]).unwrap(), &auth(2)));
        assert_eq!(covered(&bytes, p.offsets[2]).unwrap().len(), 24 + 22 + 8 + 6);
    }

    /// An independent computation: Python's hmac over the bytes we emit,
    /// when a system Python is there (it is on the development machines and
    /// in CI; the test says so and passes where it is not).
    #[test]
    fn sealed_requests_verify_with_python_hmac() {
        let python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| Command::new(p).arg("-c").arg("import hmac, hashlib").output().is_ok_and(|o| o.status.success()));
        let Some(python) = python else {
            eprintln!("no python3: independent HMAC check skipped");
            return;
        };
        let key: Vec<u8> = (100..116).collect();
        let mut msg = Message::Rrq(Rrq {
            flags: 0x02,
            lifetime: 300,
            home_address: "0.0.0.0".parse().unwrap(),
            home_agent: "192.0.2.1".parse().unwrap(),
            care_of: "198.51.100.20".parse().unwrap(),
            identification: 0xe9e9_0000_1234_5678,
            extensions: vec![
                Extension::Nai(b"mip4@anchor.test".to_vec()),
                Extension::UdpTunnelRequest { reserved1: 0, flags: 0, encapsulation: 4, reserved3: 0 },
                Extension::Auth { kind: AuthKind::MnHa, spi: 0x2000, authenticator: vec![] },
            ],
        });
        seal(&mut msg, &[SealKey { kind: AuthKind::MnHa, spi: 0x2000, alg: Algorithm::HmacMd5, key: &key }]);
        let (bytes, offsets) = emit_with_offsets(&msg);
        let cut = offsets[2] + HEADER_LEN;
        let script = "import sys, hmac, hashlib\nk, d = sys.stdin.read().split()\n\
                      print(hmac.new(bytes.fromhex(k), bytes.fromhex(d), hashlib.md5).hexdigest())";
        let mut child =
            Command::new(python).arg("-c").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{} {}", hex(&key), hex(&bytes[..cut])).as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hex(&bytes[cut..]));
    }
}
