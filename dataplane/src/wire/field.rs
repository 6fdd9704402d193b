//! Big-endian reads and writes at fixed field offsets, shared by the views.
//!
//! These index the slice they are given: the views call them only for fields
//! that `new_checked` has already proved to be inside the buffer.

use core::net::{Ipv4Addr, Ipv6Addr};
use core::ops::Range;

use super::MacAddr;

/// A fixed-size field: `start..end` byte offsets.
pub(crate) type Field = Range<usize>;

pub(crate) fn read_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

pub(crate) fn read_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

pub(crate) fn write_u16(b: &mut [u8], v: u16) {
    b[..2].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn write_u32(b: &mut [u8], v: u32) {
    b[..4].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn read_mac(b: &[u8]) -> MacAddr {
    MacAddr([b[0], b[1], b[2], b[3], b[4], b[5]])
}

pub(crate) fn read_ipv4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

pub(crate) fn read_ipv6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}
