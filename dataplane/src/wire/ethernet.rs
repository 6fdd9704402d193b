//! Ethernet II frames with at most one 802.1Q tag (IEEE 802.3 §3.2, IEEE 802.1Q §9).
//!
//! ```text
//!  0               6              12      14      16      18
//!  +---------------+---------------+-------+-------+-------+----
//!  | destination   | source        | type  |  TCI  | type  | payload (tagged)
//!  +---------------+---------------+-------+-------+-------+----
//!                                  | type  | payload (untagged)
//! ```

use super::field::{read_mac, read_u16, write_u16, Field};
use super::{MacAddr, WireError};

mod field {
    use super::Field;

    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const VLAN_TCI: Field = 14..16;
    pub const VLAN_ETHERTYPE: Field = 16..18;
}

/// Length of an untagged header.
pub const HEADER_LEN: usize = 14;
/// Length of a header with one 802.1Q tag.
pub const VLAN_HEADER_LEN: usize = 18;

/// EtherType values (IEEE Registration Authority).
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    /// 802.1Q customer tag.
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    /// 802.1ad service tag (QinQ outer tag).
    pub const QINQ: u16 = 0x88a8;
}

/// A read/write view of an Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short one.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, WireError> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// `Truncated` when the header (with its tag, if any) does not fit;
    /// `Unsupported` for a second tag (802.1Q or 802.1ad inside 802.1Q) or an
    /// outer 802.1ad tag.
    pub fn check_len(&self) -> Result<(), WireError> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        match read_u16(&data[field::ETHERTYPE]) {
            ethertype::VLAN => {
                if data.len() < VLAN_HEADER_LEN {
                    return Err(WireError::Truncated);
                }
                match read_u16(&data[field::VLAN_ETHERTYPE]) {
                    ethertype::VLAN | ethertype::QINQ => Err(WireError::Unsupported),
                    _ => Ok(()),
                }
            }
            ethertype::QINQ => Err(WireError::Unsupported),
            _ => Ok(()),
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> MacAddr {
        read_mac(&self.buffer.as_ref()[field::DESTINATION])
    }

    pub fn src_addr(&self) -> MacAddr {
        read_mac(&self.buffer.as_ref()[field::SOURCE])
    }

    fn is_tagged(&self) -> bool {
        read_u16(&self.buffer.as_ref()[field::ETHERTYPE]) == ethertype::VLAN
    }

    /// The whole tag control information (PCP, DEI, VID) of the 802.1Q tag.
    pub fn vlan_tci(&self) -> Option<u16> {
        self.is_tagged().then(|| read_u16(&self.buffer.as_ref()[field::VLAN_TCI]))
    }

    /// The 12-bit VLAN identifier of the 802.1Q tag.
    pub fn vlan_id(&self) -> Option<u16> {
        self.vlan_tci().map(|tci| tci & 0x0fff)
    }

    /// The EtherType of the payload (the inner one after a tag).
    pub fn ethertype(&self) -> u16 {
        let data = self.buffer.as_ref();
        if self.is_tagged() {
            read_u16(&data[field::VLAN_ETHERTYPE])
        } else {
            read_u16(&data[field::ETHERTYPE])
        }
    }

    /// 14, or 18 with a tag.
    pub fn header_len(&self) -> usize {
        if self.is_tagged() {
            VLAN_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// Everything after the header, Ethernet padding included.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_dst_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    pub fn set_src_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    /// Sets the EtherType of the payload (the inner one after a tag).
    pub fn set_ethertype(&mut self, value: u16) {
        let at = if self.is_tagged() { field::VLAN_ETHERTYPE } else { field::ETHERTYPE };
        write_u16(&mut self.buffer.as_mut()[at], value);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let at = self.header_len();
        &mut self.buffer.as_mut()[at..]
    }
}

/// Writes a 14-byte untagged header at the start of `buf`; returns 14.
///
/// # Panics
/// When `buf` is shorter than [`HEADER_LEN`].
pub fn emit_header(buf: &mut [u8], dst: MacAddr, src: MacAddr, ethertype: u16) -> usize {
    buf[field::DESTINATION].copy_from_slice(&dst.0);
    buf[field::SOURCE].copy_from_slice(&src.0);
    write_u16(&mut buf[field::ETHERTYPE], ethertype);
    HEADER_LEN
}

/// Writes an 18-byte header with one 802.1Q tag carrying `tci`; returns 18.
///
/// # Panics
/// When `buf` is shorter than [`VLAN_HEADER_LEN`].
pub fn emit_header_vlan(buf: &mut [u8], dst: MacAddr, src: MacAddr, tci: u16, ethertype: u16) -> usize {
    emit_header(buf, dst, src, self::ethertype::VLAN);
    write_u16(&mut buf[field::VLAN_TCI], tci);
    write_u16(&mut buf[field::VLAN_ETHERTYPE], ethertype);
    VLAN_HEADER_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    const DST: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    const SRC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);

    // dst 02:00:00:00:00:01, src 02:00:00:00:00:02, IPv4, 4 payload bytes.
    static UNTAGGED: [u8; 18] =
        [0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0xaa, 0xbb, 0xcc, 0xdd];

    // Same, tagged with PCP 5, VID 100 (TCI 0xa064), carrying IPv6.
    static TAGGED: [u8; 20] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x81, 0x00, 0xa0, 0x64, 0x86, 0xdd,
        0xaa, 0xbb,
    ];

    #[test]
    fn untagged_frame_reads_addresses_ethertype_and_payload() {
        let f = Frame::new_checked(&UNTAGGED[..]).unwrap();
        assert_eq!(f.dst_addr(), DST);
        assert_eq!(f.src_addr(), SRC);
        assert_eq!(f.ethertype(), ethertype::IPV4);
        assert_eq!(f.vlan_id(), None);
        assert_eq!(f.header_len(), 14);
        assert_eq!(f.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn one_vlan_tag_is_skipped_and_its_id_reported() {
        let f = Frame::new_checked(&TAGGED[..]).unwrap();
        assert_eq!(f.vlan_id(), Some(100));
        assert_eq!(f.vlan_tci(), Some(0xa064));
        assert_eq!(f.ethertype(), ethertype::IPV6);
        assert_eq!(f.header_len(), 18);
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn a_second_vlan_tag_is_unsupported() {
        for inner in [ethertype::VLAN, ethertype::QINQ] {
            let mut b = TAGGED;
            b[16..18].copy_from_slice(&inner.to_be_bytes());
            assert_eq!(Frame::new_checked(&b[..]), Err(WireError::Unsupported));
        }
    }

    #[test]
    fn an_outer_service_tag_is_unsupported() {
        let mut b = TAGGED;
        b[12..14].copy_from_slice(&ethertype::QINQ.to_be_bytes());
        assert_eq!(Frame::new_checked(&b[..]), Err(WireError::Unsupported));
    }

    #[test]
    fn short_headers_are_truncated() {
        assert_eq!(Frame::new_checked(&UNTAGGED[..13]), Err(WireError::Truncated));
        assert!(Frame::new_checked(&UNTAGGED[..14]).is_ok());
        assert_eq!(Frame::new_checked(&TAGGED[..17]), Err(WireError::Truncated));
        assert!(Frame::new_checked(&TAGGED[..18]).is_ok());
    }

    #[test]
    fn emit_header_writes_an_untagged_header() {
        let mut b = [0x5a; 16];
        assert_eq!(emit_header(&mut b, DST, SRC, ethertype::IPV4), 14);
        assert_eq!(&b[..14], &UNTAGGED[..14]);
        assert_eq!(&b[14..], &[0x5a, 0x5a]);
    }

    #[test]
    fn emit_header_vlan_writes_a_tagged_header() {
        let mut b = [0x5a; 20];
        assert_eq!(emit_header_vlan(&mut b, DST, SRC, 0xa064, ethertype::IPV6), 18);
        assert_eq!(&b[..18], &TAGGED[..18]);
        assert_eq!(&b[18..], &[0x5a, 0x5a]);
    }

    #[test]
    fn setters_rewrite_addresses_and_inner_ethertype() {
        let mut b = TAGGED;
        let mut f = Frame::new_checked(&mut b[..]).unwrap();
        f.set_dst_addr(SRC);
        f.set_src_addr(DST);
        f.set_ethertype(ethertype::ARP);
        f.payload_mut()[0] = 0x11;
        assert_eq!(f.dst_addr(), SRC);
        assert_eq!(f.src_addr(), DST);
        assert_eq!(f.ethertype(), ethertype::ARP);
        assert_eq!(f.vlan_id(), Some(100));
        assert_eq!(f.into_inner()[18], 0x11);
    }
}
