//! What the fuzz targets check, shared between them: the promises
//! `control::proto` makes about a message it parsed.
//!
//! * `parse` never panics, whatever the bytes (its doc).
//! * With the checksum made right, `parse` over IPv6 gives what `parse`
//!   without a checksum gives: the checksum is the only difference.
//! * A parsed message always encodes, unless re-padding its options takes it
//!   past 2048 octets (`try_emit` then says `TooLong`): its options' data
//!   came from Length octets, so it fits them again.
//! * What encodes parses back to the same message, with AUTH moved after the
//!   other options (`emit`, PROTOCOLS.md §2.8); the same bytes over IPv6 and,
//!   checksum 0, over IPv4-UDP.
//! * What `emit` cuts still parses, with fewer options.

use core::net::Ipv6Addr;

use control::proto::{self, Checksum, EmitError, MhMessage, MobilityOption};

/// Pseudo-header addresses for the IPv6 checksum (any pair would do).
pub const V6: Checksum = Checksum::Ipv6 {
    src: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa),
    dst: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
};

/// `msg` as `emit` orders its options: AUTH options after all the others,
/// each group in its original order.
pub fn auth_last(msg: &MhMessage) -> MhMessage {
    let mut msg = msg.clone();
    let options = match &mut msg {
        MhMessage::BindingUpdate(m) => &mut m.options,
        MhMessage::BindingAck(m) => &mut m.options,
        MhMessage::Heartbeat(m) => &mut m.options,
        MhMessage::BindingRevocation(m) => &mut m.options,
        MhMessage::BindingError(_) | MhMessage::BindingRefreshRequest => return msg,
    };
    let (mut others, auths): (Vec<_>, Vec<_>) =
        options.drain(..).partition(|o| !matches!(o, MobilityOption::Auth { .. }));
    others.extend(auths);
    *options = others;
    msg
}

/// Checks the re-emit promises (module doc) for `msg`, which `parse`
/// accepted. Returns what it emits over IPv6 when it encodes completely.
pub fn check_reemit(msg: &MhMessage) -> Option<Vec<u8>> {
    match proto::try_emit(msg, V6) {
        Ok(bytes) => {
            assert_eq!(bytes, proto::emit(msg, V6), "try_emit and emit differ");
            let expected = auth_last(msg);
            assert_eq!(proto::parse(&bytes, V6).as_ref(), Ok(&expected), "re-emitted message parses differently");
            let udp = proto::emit(msg, Checksum::None);
            assert_eq!(udp[4..6], [0, 0], "checksum over IPv4-UDP is not 0");
            assert_eq!(udp[..4], bytes[..4]);
            assert_eq!(udp[6..], bytes[6..], "IPv6 and IPv4-UDP encodings differ beyond the checksum");
            assert_eq!(proto::parse(&udp, Checksum::None).as_ref(), Ok(&expected));
            Some(bytes)
        }
        Err(EmitError::TooLong) => {
            let cut = proto::emit(msg, V6);
            let again = proto::parse(&cut, V6).expect("what emit cuts still parses");
            assert!(again.options().len() < msg.options().len(), "TooLong but nothing was left out");
            None
        }
        Err(e) => panic!("a parsed message does not encode: {e} ({msg:?})"),
    }
}
