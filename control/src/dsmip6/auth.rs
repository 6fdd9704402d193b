//! RFC 4285 authentication of DSMIPv6 signalling (PROTOCOLS.md §11.3): the
//! MN-HA Mobility Message Authentication option (9) and the Mobility
//! Message Replay Protection option (10, MESG-ID).
//!
//! The MN-HA authenticator is the first 96 bits of HMAC-SHA1(key,
//! care-of address ‖ home address ‖ MH data), MH data being the Mobility
//! Header from its first octet up to and including the option's SPI, with
//! the MH Checksum field taken as 0. The option is the message's last one,
//! with no padding after it (PROTOCOLS.md §2.8).
//!
//! RFC 4285 predates RFC 5555 and does not say which "care-of address" a
//! BU carried over IPv4 uses: [`auth_care_of`] holds our choice (§11.3,
//! §15) in one place.

use core::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::proto::header::{field, Packet};
use crate::proto::options::{option_type, RawOptions};
use crate::proto::Checksum;

/// Octets of an HMAC-SHA1-96 authenticator.
pub const AUTHENTICATOR_LEN: usize = 12;

/// Octets of the AUTH option before its authenticator: Type, Length,
/// Subtype, SPI.
pub const AUTH_HEADER_LEN: usize = 7;

/// Where the options of a Binding Update or Acknowledgement start.
const OPTIONS_AT: usize = 12;

/// The care-of address as RFC 4285's authenticator input: an IPv6 CoA as
/// it is; an IPv4 CoA (RFC 5555, from the IPv4 Care-of Address option) in
/// IPv4-mapped form `::ffff:a.b.c.d` — our choice, PROTOCOLS.md §11.3.
pub fn auth_care_of(coa: core::net::IpAddr) -> [u8; 16] {
    match coa {
        core::net::IpAddr::V6(a) => a.octets(),
        core::net::IpAddr::V4(a) => Ipv4Addr::to_ipv6_mapped(&a).octets(),
    }
}

/// First 96 bits of HMAC-SHA1(`key`, `coa` ‖ `hoa` ‖ `covered`), where
/// `covered` is the Mobility Header up to and including the AUTH option's
/// SPI; its checksum octets are taken as 0 whatever they hold.
pub fn authenticator(key: &[u8], coa: [u8; 16], hoa: Ipv6Addr, covered: &[u8]) -> [u8; AUTHENTICATOR_LEN] {
    // HMAC takes keys of any length (RFC 2104): no error path in practice.
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(key) else { return [0; AUTHENTICATOR_LEN] };
    mac.update(&coa);
    mac.update(&hoa.octets());
    let mut data = covered.to_vec();
    if let Some(checksum) = data.get_mut(field::CHECKSUM) {
        checksum.fill(0);
    }
    mac.update(&data);
    let full: [u8; 20] = mac.finalize().into_bytes().into();
    let mut out = [0u8; AUTHENTICATOR_LEN];
    out.copy_from_slice(&full[..AUTHENTICATOR_LEN]);
    out
}

/// The AUTH option of a BU or BA's Mobility Header `mh` (exactly Header
/// Len long), if the message is authenticated as RFC 4285 requires: one
/// AUTH option, the last option, ending the message (no padding after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthOption<'a> {
    /// Offset of its Type octet in the Mobility Header.
    pub offset: usize,
    pub subtype: u8,
    pub spi: u32,
    pub data: &'a [u8],
}

impl AuthOption<'_> {
    /// What the authenticator covers: the Mobility Header up to and
    /// including the SPI.
    pub fn covered<'m>(&self, mh: &'m [u8]) -> &'m [u8] {
        mh.get(..self.offset + AUTH_HEADER_LEN).unwrap_or_default()
    }
}

/// Finds the AUTH option of `mh` (see [`AuthOption`]); `None` when there
/// is none, more than one, it is not last, or padding follows it.
pub fn auth_option(mh: &[u8]) -> Option<AuthOption<'_>> {
    let mut found = None;
    let mut last_end = 0;
    for raw in RawOptions::new(mh.get(OPTIONS_AT..)?, OPTIONS_AT) {
        let raw = raw.ok()?;
        if found.is_some() {
            // Anything after AUTH (another AUTH included) breaks the rule.
            return None;
        }
        if raw.option_type == option_type::AUTH {
            let (&subtype, rest) = raw.data.split_first()?;
            let spi = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
            found = Some(AuthOption { offset: raw.offset, subtype, spi, data: rest.get(4..)? });
            last_end = raw.offset + 2 + raw.data.len();
        }
    }
    // Padding after the option is not seen by the walker: check the end.
    found.filter(|_| last_end == mh.len())
}

/// Whether `mh`'s AUTH option carries the MN-HA authenticator of `key`
/// (compared in constant time).
pub fn verify(key: &[u8], coa: [u8; 16], hoa: Ipv6Addr, mh: &[u8], auth: &AuthOption<'_>) -> bool {
    let expected = authenticator(key, coa, hoa, auth.covered(mh));
    auth.data.len() == AUTHENTICATOR_LEN && expected.iter().zip(auth.data).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Fills the authenticator of the AUTH option ending `mh` (emitted with a
/// 12-octet placeholder) and then the MH checksum per `checksum`. False
/// when `mh` has no such option (nothing is changed then).
pub fn seal(mh: &mut [u8], key: &[u8], coa: [u8; 16], hoa: Ipv6Addr, checksum: Checksum) -> bool {
    let Some(auth) = auth_option(mh) else { return false };
    if auth.data.len() != AUTHENTICATOR_LEN {
        return false;
    }
    let at = auth.offset + AUTH_HEADER_LEN;
    let value = authenticator(key, coa, hoa, auth.covered(mh));
    mh[at..at + AUTHENTICATOR_LEN].copy_from_slice(&value);
    Packet::new_unchecked(&mut mh[..]).fill_checksum(checksum);
    true
}

/// The MESG-ID check of RFC 4285 §6 (PROTOCOLS.md §11.3): the 64-bit NTP
/// timestamp `ts` is within `tolerance` of our clock `now` (also NTP) and
/// greater than the last one accepted from this association.
pub fn mesg_id_valid(ts: u64, now: u64, last: Option<u64>, tolerance: Duration) -> bool {
    // NTP seconds wrap in 2036: compare as a signed distance.
    let distance = i128::from(ts.wrapping_sub(now) as i64).unsigned_abs();
    let tolerance =
        (u128::from(tolerance.as_secs()) << 32) + (u128::from(tolerance.subsec_nanos()) << 32) / 1_000_000_000;
    let newer = last.is_none_or(|last| (ts.wrapping_sub(last) as i64) > 0);
    distance <= tolerance && newer
}

/// The MESG-ID a BA carries when it refuses one (status 144): the BU's
/// value with its high 32 bits (seconds) replaced by ours, so the mobile
/// node can resynchronise (RFC 4285 §6, PROTOCOLS.md §11.3).
pub fn mesg_id_mismatch_reply(ts: u64, now: u64) -> u64 {
    (now & 0xffff_ffff_0000_0000) | (ts & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden_tools::{unhex, vectors};
    use crate::proto::{emit, BindingUpdate, MhMessage, MobilityOption};

    const TESTDATA: &str = include_str!("testdata/auth.hex");

    fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// RFC 2202 §3: the seven HMAC-SHA1 test cases.
    #[test]
    fn hmac_sha1_matches_the_rfc_2202_test_cases() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
            (vec![0x0b; 20], b"Hi There".to_vec(), "b617318655057264e28bc0b6fb378c8ef146be00"),
            (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            (vec![0xaa; 20], vec![0xdd; 50], "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
            (
                unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                vec![0xcd; 50],
                "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
            ),
            (vec![0x0c; 20], b"Test With Truncation".to_vec(), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".to_vec(),
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hex(&hmac_sha1(&key, &data)), want);
        }
        // Case 5 truncated to 96 bits, as RFC 2202 lists it.
        assert_eq!(hex(&hmac_sha1(&[0x0c; 20], b"Test With Truncation")[..12]), "4c1a03424b55e07fe7f27be1");
    }

    /// testdata/auth.hex (make_golden.py, Python's hmac/hashlib): key,
    /// care-of address, home address, MH prefix (checksum zeroed) and the
    /// authenticator Python computed.
    #[test]
    fn the_mn_ha_authenticator_equals_pythons_hmac_sha1_96() {
        let v: Vec<(&str, Vec<u8>)> = vectors(TESTDATA);
        let get = |label: &str| v.iter().find(|(l, _)| *l == label).map(|(_, b)| b.clone()).unwrap();
        let coa: [u8; 16] = get("coa").try_into().unwrap();
        let hoa: [u8; 16] = get("hoa").try_into().unwrap();
        let covered = get("covered");
        let got = authenticator(&get("key"), coa, Ipv6Addr::from(hoa), &covered);
        assert_eq!(got.to_vec(), get("authenticator"));
        // The checksum octets do not matter: they are taken as 0.
        let mut dirty = covered.clone();
        dirty[4] = 0xab;
        dirty[5] = 0xcd;
        assert_eq!(authenticator(&get("key"), coa, Ipv6Addr::from(hoa), &dirty).to_vec(), get("authenticator"));
        // The IPv4 care-of address vector: the same MH, ::ffff:198.51.100.7.
        let coa4 = auth_care_of(core::net::IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)));
        let got = authenticator(&get("key"), coa4, Ipv6Addr::from(hoa), &covered);
        assert_eq!(got.to_vec(), get("authenticator_v4coa"));
    }

    fn bu(options: Vec<MobilityOption>) -> Vec<u8> {
        let msg = MhMessage::BindingUpdate(BindingUpdate { seq: 1, flags: 0xc000, lifetime: 10, options });
        emit(&msg, Checksum::None)
    }

    fn auth(data: Vec<u8>) -> MobilityOption {
        MobilityOption::Auth { subtype: 1, spi: 0x100, data }
    }

    #[test]
    fn the_auth_option_must_be_the_single_last_option_ending_the_message() {
        let mh = bu(vec![MobilityOption::MesgId(5), auth(vec![0; 12])]);
        let a = auth_option(&mh).unwrap();
        assert_eq!((a.subtype, a.spi, a.data.len()), (1, 0x100, 12));
        assert_eq!(a.offset + 19, mh.len());
        assert_eq!(a.offset % 4, 1);
        // None at all.
        assert_eq!(auth_option(&bu(vec![MobilityOption::MesgId(5)])), None);
        // Two AUTH options.
        assert_eq!(auth_option(&bu(vec![auth(vec![0; 12]), auth(vec![0; 12])])), None);
        // Another option after it, written by hand: AUTH then a PadN'd HI.
        let mut mh = bu(vec![auth(vec![0; 12])]);
        let end = mh.len();
        mh.extend_from_slice(&[23, 2, 0, 1, 1, 2, 0, 0]);
        mh[1] += 1;
        assert_eq!(auth_option(&mh), None);
        // Padding after it.
        mh[end..].copy_from_slice(&[1, 6, 0, 0, 0, 0, 0, 0]);
        assert_eq!(auth_option(&mh), None);
        mh.truncate(end);
        mh[1] -= 1;
        assert!(auth_option(&mh).is_some());
        // Short or malformed buffers.
        assert_eq!(auth_option(&[]), None);
        assert_eq!(auth_option(&mh[..13]), None);
    }

    #[test]
    fn sealing_fills_the_authenticator_that_verify_accepts_and_a_flipped_bit_fails() {
        let hoa = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x10);
        let coa = auth_care_of("2001:db8:2::20".parse().unwrap());
        let key = b"0123456789abcdef0123";
        let mut mh = bu(vec![MobilityOption::MesgId(5), auth(vec![0; 12])]);
        let cs = Checksum::Ipv6 { src: hoa, dst: "2001:db8:1::1".parse().unwrap() };
        assert!(seal(&mut mh, key, coa, hoa, cs));
        assert!(Packet::new_checked(&mh[..]).unwrap().verify_checksum(hoa, "2001:db8:1::1".parse().unwrap()));
        let a = auth_option(&mh).unwrap();
        assert!(verify(key, coa, hoa, &mh, &a));
        assert!(!verify(b"another key", coa, hoa, &mh, &a));
        assert!(!verify(key, auth_care_of("2001:db8:2::21".parse().unwrap()), hoa, &mh, &a));
        for i in [2usize, 6, 12, a.offset + 3] {
            let mut m = mh.clone();
            m[i] ^= 1;
            let a = auth_option(&m).unwrap();
            assert!(!verify(key, coa, hoa, &m, &a), "octet {i}");
        }
        // No AUTH option: nothing to seal.
        let mut plain = bu(vec![]);
        assert!(!seal(&mut plain, key, coa, hoa, cs));
    }

    #[test]
    fn mesg_id_is_valid_within_tolerance_and_only_when_newer() {
        let now = 0xe8e8_e8e8_0000_0000u64;
        let s = |secs: i64| now.wrapping_add((secs << 32) as u64);
        let tol = Duration::from_secs(7);
        assert!(mesg_id_valid(now, now, None, tol));
        assert!(mesg_id_valid(s(7), now, None, tol));
        assert!(mesg_id_valid(s(-7), now, None, tol));
        assert!(!mesg_id_valid(s(8), now, None, tol));
        assert!(!mesg_id_valid(s(-8), now, None, tol));
        assert!(!mesg_id_valid(now, now, Some(now), tol));
        assert!(!mesg_id_valid(s(-1), now, Some(now), tol));
        assert!(mesg_id_valid(now + 1, now, Some(now), tol));
        // Across the NTP era wrap.
        let wrap = 0xffff_fffe_0000_0000u64;
        assert!(mesg_id_valid(0x0000_0001_0000_0000, wrap, Some(wrap), tol));
        assert_eq!(mesg_id_mismatch_reply(0x1111_1111_2222_2222, now), 0xe8e8_e8e8_2222_2222);
    }
}
