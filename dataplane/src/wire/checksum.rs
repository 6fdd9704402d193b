//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! [`sum`] returns a partial one's complement sum already folded to 16 bits,
//! so partial sums of several pieces (pseudo-header, header, payload) can be
//! added as `u32` and handed to [`fold`], which returns the checksum field.

use core::net::{Ipv4Addr, Ipv6Addr};

/// One's complement sum of `data` as big-endian 16-bit words (an odd last
/// byte is padded with zero), folded to at most `0xffff`.
pub fn sum(data: &[u8]) -> u32 {
    // A 32-bit word hi·2^16 + lo is congruent to hi + lo modulo 2^16 - 1, so
    // summing 32-bit words and folding gives the same one's complement sum.
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    acc += u64::from(u32::from_be_bytes(tail));
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // acc <= 0xffff here: the fallback is never taken.
    u32::try_from(acc).unwrap_or(0xffff)
}

/// Folds a sum of partial sums and complements it: the value for the
/// checksum field. A buffer whose checksum verifies folds to zero.
pub fn fold(sum: u32) -> u16 {
    // Two end-around carries always suffice for 32 bits: the first leaves
    // at most 0xffff + 0xffff = 0x1fffe, the second at most 0xffff.
    let s = (sum & 0xffff) + (sum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// The IPv4 header checksum (as stored) after the TTL drops by one: the
/// TTL/protocol word falls by 0x0100, so the checksum rises by 0x0100 in
/// one's complement; a result of 0xffff (-0) is stored as 0, as RFC 1624
/// eqn. 3 gives it. One's complement sums do not depend on byte order
/// (RFC 1071), so this works on the stored bytes without swapping them.
#[inline(always)]
pub fn ttl_decrement(stored: [u8; 2]) -> [u8; 2] {
    let s = u32::from(u16::from_ne_bytes(stored)) + u32::from(u16::from_ne_bytes([1, 0]));
    let s = s + u32::from(s >= 0xffff);
    (s as u16).to_ne_bytes()
}

/// Partial sum of the IPv4 pseudo-header (RFC 768, RFC 793 §3.1).
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u16) -> u32 {
    let mut b = [0u8; 12];
    b[0..4].copy_from_slice(&src.octets());
    b[4..8].copy_from_slice(&dst.octets());
    b[9] = proto;
    b[10..12].copy_from_slice(&len.to_be_bytes());
    sum(&b)
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1).
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u32 {
    let mut b = [0u8; 40];
    b[0..16].copy_from_slice(&src.octets());
    b[16..32].copy_from_slice(&dst.octets());
    b[32..36].copy_from_slice(&len.to_be_bytes());
    b[39] = next_header;
    sum(&b)
}

/// The checksum after one 16-bit word changes from `old_word` to `new_word`:
/// RFC 1624 eqn. 3, `HC' = ~(~HC + ~m + m')`.
pub fn incremental_update(old_csum: u16, old_word: u16, new_word: u16) -> u16 {
    fold(u32::from(!old_csum) + u32::from(!old_word) + u32::from(new_word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_decrement_checksum_equals_rfc_1624_eqn_3_for_every_checksum() {
        for ttl in [2u8, 64, 255] {
            let old = u16::from_be_bytes([ttl, 17]);
            let new = u16::from_be_bytes([ttl - 1, 17]);
            for c in 0..=u16::MAX {
                let want = incremental_update(c, old, new);
                assert_eq!(ttl_decrement(c.to_be_bytes()), want.to_be_bytes(), "checksum {c:#06x}");
            }
        }
    }

    /// RFC 1071 §3 numerical example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum
    /// to ddf2, so the checksum is its complement 220d.
    #[test]
    fn rfc1071_example_sums_to_ddf2() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(fold(sum(&data)), 0x220d);
    }

    #[test]
    fn odd_length_pads_the_last_byte_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn sum_matches_a_word_by_word_reference() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..300 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let mut r: u32 = 0;
            for c in data.chunks(2) {
                let w = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
                r += u32::from(w);
                r = (r & 0xffff) + (r >> 16);
            }
            assert_eq!(fold(sum(&data)), fold(r), "len {len}");
        }
    }

    /// A known-good IPv4 header (checksum b861) verifies to zero.
    #[test]
    fn a_valid_ipv4_header_folds_to_zero() {
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        assert_eq!(fold(sum(&hdr)), 0);
        let mut z = hdr;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(fold(sum(&z)), 0xb861);
    }

    /// RFC 1624 §4 example: HC = dd2f, m = 5555 → m' = 3285 gives 0000 by
    /// eqn. 3 (eqn. 2 would give the wrong ffff).
    #[test]
    fn rfc1624_example_updates_to_zero() {
        assert_eq!(incremental_update(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn incremental_update_matches_recomputation() {
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        let first = fold(sum(&hdr));
        hdr[10..12].copy_from_slice(&first.to_be_bytes());
        for new_ttl_proto in [0x3f11u16, 0x0011, 0xff11, 0x0100] {
            let old_word = u16::from_be_bytes([hdr[8], hdr[9]]);
            let csum = u16::from_be_bytes([hdr[10], hdr[11]]);
            let updated = incremental_update(csum, old_word, new_ttl_proto);
            hdr[8..10].copy_from_slice(&new_ttl_proto.to_be_bytes());
            hdr[10] = 0;
            hdr[11] = 0;
            assert_eq!(updated, fold(sum(&hdr)));
            hdr[10..12].copy_from_slice(&updated.to_be_bytes());
            assert_eq!(fold(sum(&hdr)), 0);
        }
    }

    #[test]
    fn pseudo_headers_sum_their_fields() {
        let s = pseudo_v4(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2), 17, 8);
        assert_eq!(fold(s), fold(0xc000 + 0x0201 + 0xc000 + 0x0202 + 17 + 8));
        let s6 = pseudo_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, 58, 0x0001_0002);
        assert_eq!(fold(s6), fold(1 + 1 + 1 + 2 + 58));
    }
}
