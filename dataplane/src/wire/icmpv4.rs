//! ICMP for IPv4 (RFC 792): the common header and echo fields.
//!
//! ```text
//!  0       8       16              31
//!  +-------+-------+---------------+
//!  | type  | code  |   checksum    |
//!  +-------+-------+---------------+
//!  | identifier    | sequence      |   (echo; other types: rest of header)
//!  +---------------+---------------+
//!  | data ...
//! ```

use super::checksum;
use super::field::{read_u16, write_u16, Field};
use super::WireError;

mod field {
    use super::Field;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQ: Field = 6..8;
}

/// Length of the header every ICMP message has (type to the 4-byte rest).
pub const HEADER_LEN: usize = 8;

pub const TYPE_ECHO_REPLY: u8 = 0;
pub const TYPE_DEST_UNREACHABLE: u8 = 3;
pub const TYPE_ECHO_REQUEST: u8 = 8;
pub const TYPE_TIME_EXCEEDED: u8 = 11;

/// A read/write view of an ICMP message (the whole IPv4 payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short one.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer of at least 8 bytes: no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    /// `Truncated` under 8 bytes.
    pub fn check(&self) -> Result<(), WireError> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    pub fn echo_ident(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    pub fn echo_seq(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::ECHO_SEQ])
    }

    /// True when the whole message sums to zero.
    pub fn verify_checksum(&self) -> bool {
        checksum::fold(checksum::sum(self.buffer.as_ref())) == 0
    }

    /// The data after the 8-byte header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    pub fn set_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    pub fn set_checksum(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    pub fn set_echo_ident(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::ECHO_IDENT], value);
    }

    pub fn set_echo_seq(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::ECHO_SEQ], value);
    }

    /// Computes the checksum over the whole message and stores it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let csum = checksum::fold(checksum::sum(self.buffer.as_ref()));
        self.set_checksum(csum);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Echo request, ident 0x0102, seq 0x0003, data "abcd". Checksum by hand:
    // 0800 + 0102 + 0003 + 6162 + 6364 = cdcb, complement 3234.
    static ECHO: [u8; 12] = [0x08, 0x00, 0x32, 0x34, 0x01, 0x02, 0x00, 0x03, b'a', b'b', b'c', b'd'];

    #[test]
    fn echo_request_fields_and_checksum_are_read() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.msg_type(), TYPE_ECHO_REQUEST);
        assert_eq!(p.code(), 0);
        assert_eq!(p.echo_ident(), 0x0102);
        assert_eq!(p.echo_seq(), 3);
        assert_eq!(p.payload(), b"abcd");
        assert!(p.verify_checksum());
    }

    #[test]
    fn fill_checksum_reproduces_the_hand_computed_value() {
        let mut b = ECHO;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_checksum(0xffff);
        p.fill_checksum();
        assert_eq!(p.checksum(), 0x3234);
    }

    #[test]
    fn changing_the_type_breaks_the_checksum_until_refilled() {
        let mut b = ECHO;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_msg_type(TYPE_ECHO_REPLY);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
    }

    #[test]
    fn messages_under_8_bytes_are_truncated() {
        assert_eq!(Packet::new_checked(&ECHO[..7]), Err(WireError::Truncated));
        assert!(Packet::new_checked(&ECHO[..8]).is_ok());
    }
}
