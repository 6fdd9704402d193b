//! The rare packets the workers hand to the control thread because they
//! need more than a header rewrite (PROTOCOLS.md §12.5):
//! - inner IPv4 packets larger than the tunnel MTU without DF are
//!   fragmented *before* encapsulation (RFC 2003 preference, and required
//!   for UDP tunnels by RFC 3519), each fragment then encapsulated;
//! - inner IPv6 packets of at most 1280 octets larger than the tunnel MTU
//!   are encapsulated whole and the *outer* packet is fragmented: an IPv6
//!   outer with Fragment headers (RFC 2473 §7.1), an IPv4 outer (DF clear,
//!   RFC 4213) like any IPv4 datagram;
//! - tunnel packets that arrive as outer IPv4 or IPv6 fragments are
//!   reassembled (RFC 791 / RFC 8200 §4.5; RFC 4213 asks for at least 1500
//!   octets) and then decapsulated like any other.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use dataplane::wire::checksum;

/// Splits the IPv6 packet `ip` (a base header and no extension headers, as
/// our tunnel headers are) into fragments of at most `mtu` octets with a
/// Fragment header each (RFC 8200 §4.5), identification `id`. None when it
/// cannot be split (malformed, or an MTU below 1280: the minimum link MTU
/// every IPv6 path offers).
pub fn fragment_v6(ip: &[u8], mtu: usize, id: u32) -> Option<Vec<Vec<u8>>> {
    const FRAGMENT: u8 = 44;
    if ip.len() < 40 || ip[0] >> 4 != 6 || mtu < 1280 {
        return None;
    }
    let total = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    if total > ip.len() {
        return None;
    }
    let payload = &ip[40..total];
    let room = (mtu - 40 - 8) & !7;
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() || at == 0 {
        let n = room.min(payload.len() - at);
        let more = at + n < payload.len();
        let mut f = Vec::with_capacity(48 + n);
        f.extend_from_slice(&ip[..40]);
        f[4..6].copy_from_slice(&((8 + n) as u16).to_be_bytes());
        f[6] = FRAGMENT;
        let off_flags = (at as u16) | u16::from(more);
        f.extend_from_slice(&[ip[6], 0]);
        f.extend_from_slice(&off_flags.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&payload[at..at + n]);
        out.push(f);
        at += n;
        if n == 0 {
            break;
        }
    }
    Some(out)
}

/// Splits the IPv4 packet `ip` into fragments of at most `mtu` octets (RFC
/// 791 §3.2): options whose copy flag is set are repeated in every
/// fragment, the others only in the first. None when it cannot be split
/// (DF set, header too long for the MTU, malformed).
pub fn fragment_v4(ip: &[u8], mtu: usize) -> Option<Vec<Vec<u8>>> {
    if ip.len() < 20 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ihl < 20 || total < ihl || total > ip.len() || ip[6] & 0x40 != 0 {
        return None;
    }
    let copied = copied_options(&ip[20..ihl])?;
    let later_ihl = 20 + copied.len().div_ceil(4) * 4;
    let first_room = mtu.checked_sub(ihl)? & !7;
    let later_room = mtu.checked_sub(later_ihl)? & !7;
    if first_room == 0 || later_room == 0 {
        return None;
    }
    let payload = &ip[ihl..total];
    let base_off = usize::from(u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff) * 8;
    let last_mf = ip[6] & 0x20 != 0;
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let (hlen, room) = if at == 0 { (ihl, first_room) } else { (later_ihl, later_room) };
        let n = room.min(payload.len() - at);
        let more = at + n < payload.len() || last_mf;
        let mut f = Vec::with_capacity(hlen + n);
        f.extend_from_slice(&ip[..20]);
        if at == 0 {
            f.extend_from_slice(&ip[20..ihl]);
        } else {
            f.extend_from_slice(&copied);
            f.resize(hlen, 0); // end-of-options padding
            f[0] = 0x40 | (hlen / 4) as u8;
        }
        let off = (base_off + at) / 8;
        let flags_off = (off as u16 & 0x1fff) | if more { 0x2000 } else { 0 };
        f[2..4].copy_from_slice(&((hlen + n) as u16).to_be_bytes());
        f[6..8].copy_from_slice(&flags_off.to_be_bytes());
        f[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::fold(checksum::sum(&f[..hlen]));
        f[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&payload[at..at + n]);
        out.push(f);
        at += n;
    }
    Some(out)
}

/// The options of an IPv4 header whose copy flag (0x80) is set.
fn copied_options(opts: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            1 => i += 1,
            t => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 || i + len > opts.len() {
                    return None;
                }
                if t & 0x80 != 0 {
                    out.extend_from_slice(&opts[i..i + len]);
                }
                i += len;
            }
        }
    }
    Some(out)
}

/// Identifies one datagram being reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

#[derive(Debug)]
struct Partial {
    /// Unfragmentable part: the IPv4 header, or the IPv6 header (with the
    /// next header rewritten to the fragment's).
    header: Vec<u8>,
    data: Vec<u8>,
    /// Received byte ranges of `data`.
    have: Vec<(usize, usize)>,
    /// Total payload length, known once the last fragment came.
    total: Option<usize>,
    started: Instant,
}

/// Outer-fragment reassembly with bounded memory: at most `max_datagrams`
/// in flight, each at most `max_len` octets, dropped after `timeout`.
#[derive(Debug)]
pub struct Reassembly {
    partial: HashMap<Key, Partial>,
    max_datagrams: usize,
    max_len: usize,
    timeout: Duration,
}

/// Why a fragment was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReassemblyError {
    Malformed,
    TooLong,
    Overlap,
    Full,
}

impl Reassembly {
    pub fn new(max_datagrams: usize, max_len: usize, timeout: Duration) -> Reassembly {
        Reassembly { partial: HashMap::new(), max_datagrams, max_len, timeout }
    }

    pub fn in_flight(&self) -> usize {
        self.partial.len()
    }

    /// Adds the IP fragment `ip` (IPv4 with MF/offset, or IPv6 with a
    /// Fragment header right after the fixed header). Returns the whole
    /// datagram when this fragment completed it.
    pub fn add(&mut self, ip: &[u8], now: Instant) -> Result<Option<Vec<u8>>, ReassemblyError> {
        let (key, header, off, more, data) = match ip.first().map(|b| b >> 4) {
            Some(4) => parse_v4(ip)?,
            Some(6) => parse_v6(ip)?,
            _ => return Err(ReassemblyError::Malformed),
        };
        if off + data.len() > self.max_len {
            self.partial.remove(&key);
            return Err(ReassemblyError::TooLong);
        }
        if !self.partial.contains_key(&key) && self.partial.len() >= self.max_datagrams {
            return Err(ReassemblyError::Full);
        }
        let p = self.partial.entry(key).or_insert_with(|| Partial {
            header: Vec::new(),
            data: Vec::new(),
            have: Vec::new(),
            total: None,
            started: now,
        });
        // RFC 5722: overlapping fragments discard the whole datagram.
        if p.have.iter().any(|&(a, b)| off < b && a < off + data.len()) {
            self.partial.remove(&key);
            return Err(ReassemblyError::Overlap);
        }
        if off == 0 {
            p.header = header;
        }
        if !more {
            p.total = Some(off + data.len());
        }
        if p.data.len() < off + data.len() {
            p.data.resize(off + data.len(), 0);
        }
        p.data[off..off + data.len()].copy_from_slice(data);
        p.have.push((off, off + data.len()));
        let Some(total) = p.total else { return Ok(None) };
        let covered: usize = p.have.iter().map(|(a, b)| b - a).sum();
        if covered != total || p.header.is_empty() || p.data.len() != total {
            return Ok(None);
        }
        let Some(p) = self.partial.remove(&key) else { return Ok(None) };
        Ok(Some(assemble(p, total)))
    }

    /// Forgets datagrams older than the timeout; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.partial.len();
        let timeout = self.timeout;
        self.partial.retain(|_, p| now.saturating_duration_since(p.started) < timeout);
        before - self.partial.len()
    }
}

type Parsed<'a> = (Key, Vec<u8>, usize, bool, &'a [u8]);

fn parse_v4(ip: &[u8]) -> Result<Parsed<'_>, ReassemblyError> {
    if ip.len() < 20 {
        return Err(ReassemblyError::Malformed);
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ihl < 20 || total < ihl || total > ip.len() {
        return Err(ReassemblyError::Malformed);
    }
    let fo = u16::from_be_bytes([ip[6], ip[7]]);
    let (off, more) = (usize::from(fo & 0x1fff) * 8, fo & 0x2000 != 0);
    let data = &ip[ihl..total];
    if more && !data.len().is_multiple_of(8) {
        return Err(ReassemblyError::Malformed);
    }
    let key = Key {
        src: IpAddr::from([ip[12], ip[13], ip[14], ip[15]]),
        dst: IpAddr::from([ip[16], ip[17], ip[18], ip[19]]),
        id: u32::from(u16::from_be_bytes([ip[4], ip[5]])),
        proto: ip[9],
    };
    Ok((key, ip[..ihl].to_vec(), off, more, data))
}

fn parse_v6(ip: &[u8]) -> Result<Parsed<'_>, ReassemblyError> {
    if ip.len() < 48 || ip[6] != 44 {
        return Err(ReassemblyError::Malformed);
    }
    let total = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    if total > ip.len() || total < 48 {
        return Err(ReassemblyError::Malformed);
    }
    let frag = &ip[40..48];
    let fo = u16::from_be_bytes([frag[2], frag[3]]);
    let (off, more) = (usize::from(fo >> 3) * 8, fo & 1 != 0);
    let data = &ip[48..total];
    if more && !data.len().is_multiple_of(8) {
        return Err(ReassemblyError::Malformed);
    }
    let mut src = [0u8; 16];
    src.copy_from_slice(&ip[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&ip[24..40]);
    let key = Key {
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        id: u32::from_be_bytes([frag[4], frag[5], frag[6], frag[7]]),
        proto: frag[0],
    };
    let mut header = ip[..40].to_vec();
    header[6] = frag[0];
    Ok((key, header, off, more, data))
}

fn assemble(p: Partial, total: usize) -> Vec<u8> {
    let mut out = p.header;
    let hlen = out.len();
    out.extend_from_slice(&p.data[..total]);
    if out[0] >> 4 == 4 {
        out[2..4].copy_from_slice(&((hlen + total) as u16).to_be_bytes());
        out[6..8].copy_from_slice(&[0, 0]);
        out[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::fold(checksum::sum(&out[..hlen]));
        out[10..12].copy_from_slice(&c.to_be_bytes());
    } else {
        out[4..6].copy_from_slice(&(total as u16).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(len: usize, df: bool) -> Vec<u8> {
        let mut ip =
            vec![0x45, 0, 0, 0, 0x12, 0x34, if df { 0x40 } else { 0 }, 0, 64, 17, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1];
        ip[2..4].copy_from_slice(&((20 + len) as u16).to_be_bytes());
        let c = checksum::fold(checksum::sum(&ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        ip.extend((0..len).map(|i| (i % 251) as u8));
        ip
    }

    /// IPv6 header (next header 47) + `len` octets of payload.
    fn datagram_v6(len: usize) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0, 0, 0, 47, 64];
        p[4..6].copy_from_slice(&(len as u16).to_be_bytes());
        p.extend_from_slice(&"2001:db8:1::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&"2001:db8:1::2".parse::<std::net::Ipv6Addr>().unwrap().octets());
        p.extend((0..len).map(|i| i as u8));
        p
    }

    #[test]
    fn outer_ipv6_fragments_fit_the_mtu_and_reassemble_to_the_original() {
        let ip = datagram_v6(1300);
        let frags = fragment_v6(&ip, 1280, 0xabcd).unwrap();
        assert_eq!(frags.len(), 2);
        for (i, f) in frags.iter().enumerate() {
            assert!(f.len() <= 1280);
            assert_eq!(f[6], 44, "Fragment header follows");
            assert_eq!(f[40], 47, "it names the original next header");
            assert_eq!(&f[44..48], &0xabcdu32.to_be_bytes());
            assert_eq!(usize::from(u16::from_be_bytes([f[4], f[5]])), f.len() - 40);
            let off_flags = u16::from_be_bytes([f[42], f[43]]);
            assert_eq!(off_flags & 1 == 1, i == 0, "M set on all but the last");
            if i == 0 {
                assert_eq!((f.len() - 48) % 8, 0, "non-final fragments carry multiples of 8");
            }
        }
        let mut r = Reassembly::new(16, 65535, Duration::from_secs(30));
        let now = Instant::now();
        assert_eq!(r.add(&frags[0], now), Ok(None));
        assert_eq!(r.add(&frags[1], now), Ok(Some(ip)));
        assert!(fragment_v6(&datagram_v6(10), 1000, 1).is_none(), "below the IPv6 minimum MTU");
        assert!(fragment_v6(&datagram_v6(10)[..30], 1280, 1).is_none(), "truncated");
    }

    #[test]
    fn fragments_fit_the_mtu_carry_eight_octet_offsets_and_reassemble_to_the_original() {
        let ip = datagram(3000, false);
        let frags = fragment_v4(&ip, 1400).unwrap();
        assert_eq!(frags.len(), 3);
        for f in &frags {
            assert!(f.len() <= 1400);
            assert_eq!(checksum::fold(checksum::sum(&f[..20])), 0);
        }
        assert_eq!(u16::from_be_bytes([frags[1][6], frags[1][7]]) & 0x1fff, 1376 / 8);
        assert_eq!(frags[2][6] & 0x20, 0, "last fragment has MF clear");
        let mut r = Reassembly::new(16, 65535, Duration::from_secs(30));
        let now = Instant::now();
        // Out of order.
        assert_eq!(r.add(&frags[2], now).unwrap(), None);
        assert_eq!(r.add(&frags[0], now).unwrap(), None);
        assert_eq!(r.add(&frags[1], now).unwrap(), Some(ip));
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn df_set_is_never_fragmented() {
        assert!(fragment_v4(&datagram(3000, true), 1400).is_none());
    }

    #[test]
    fn options_without_the_copy_flag_stay_in_the_first_fragment_only() {
        let mut ip = datagram(100, false);
        // Insert a 4-octet option block: record-route-like (copy flag clear) NOP NOP... use type 7 len 4? keep it simple:
        // one copied option (0x83, len 4) -> IHL 6.
        ip.splice(20..20, [0x83, 4, 0, 0]);
        ip[0] = 0x46;
        ip[2..4].copy_from_slice(&((24 + 100) as u16).to_be_bytes());
        let frags = fragment_v4(&ip, 64).unwrap();
        assert!(frags.iter().all(|f| f[0] == 0x46 && f[20] == 0x83));
        let mut ip2 = ip.clone();
        ip2[20] = 0x07; // copy flag clear
        let frags = fragment_v4(&ip2, 64).unwrap();
        assert_eq!(frags[0][0], 0x46);
        assert!(frags[1..].iter().all(|f| f[0] == 0x45));
    }

    #[test]
    fn overlapping_fragments_discard_the_datagram() {
        let frags = fragment_v4(&datagram(3000, false), 1400).unwrap();
        let mut r = Reassembly::new(16, 65535, Duration::from_secs(30));
        let now = Instant::now();
        r.add(&frags[0], now).unwrap();
        assert_eq!(r.add(&frags[0], now), Err(ReassemblyError::Overlap));
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn limits_and_timeouts_bound_the_memory() {
        let frags = fragment_v4(&datagram(3000, false), 1400).unwrap();
        let mut r = Reassembly::new(1, 2000, Duration::from_secs(30));
        let now = Instant::now();
        assert_eq!(r.add(&frags[2], now), Err(ReassemblyError::TooLong));
        r.add(&frags[0], now).unwrap();
        let mut other = frags[0].clone();
        other[5] ^= 1; // another datagram id
        assert_eq!(r.add(&other, now), Err(ReassemblyError::Full));
        assert_eq!(r.expire(now + Duration::from_secs(31)), 1);
    }

    #[test]
    fn ipv6_fragments_reassemble_with_the_next_header_restored() {
        let payload: Vec<u8> = (0..100u8).collect();
        let mk = |off: usize, more: bool, part: &[u8]| {
            let mut p = vec![0x60, 0, 0, 0, 0, 0, 44, 64];
            p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            let fo = ((off / 8) as u16) << 3 | u16::from(more);
            p.extend_from_slice(&[4, 0]);
            p.extend_from_slice(&fo.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 9]);
            p.extend_from_slice(part);
            let pl = (p.len() - 40) as u16;
            p[4..6].copy_from_slice(&pl.to_be_bytes());
            p
        };
        let mut r = Reassembly::new(4, 65535, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(r.add(&mk(0, true, &payload[..48]), now).unwrap(), None);
        let whole = r.add(&mk(48, false, &payload[48..]), now).unwrap().unwrap();
        assert_eq!(whole[6], 4, "next header of the reassembled packet");
        assert_eq!(u16::from_be_bytes([whole[4], whole[5]]), 100);
        assert_eq!(&whole[40..], &payload[..]);
    }
}
