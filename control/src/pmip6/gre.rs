//! The encapsulation decision for a PBU (RFC 5845 §5.1 and RFC 5844 §4.1.3.1;
//! PROTOCOLS.md §4.8.2, §5.1) and the LMA's uplink GRE keys.

use std::collections::HashSet;

use anchor_config::GrePolicy;

use crate::pool::Allocator;
use crate::proto::{bu_flags, status};

use super::{Encap, PMIP6_DATA_PORT};

/// Uplink GRE keys: unique in the LMA, never 0, reused oldest-released
/// first (§5.1 "GRE keys unique per LMA").
#[derive(Debug)]
pub(super) struct KeyAllocator {
    alloc: Allocator,
}

impl Default for KeyAllocator {
    fn default() -> Self {
        KeyAllocator { alloc: Allocator::new(vec![(1, u64::from(u32::MAX))], HashSet::new()) }
    }
}

impl KeyAllocator {
    pub fn allocate(&mut self) -> Option<u32> {
        self.alloc.allocate().and_then(|k| u32::try_from(k).ok())
    }

    pub fn release(&mut self, key: u32) {
        self.alloc.release(u64::from(key));
    }

    /// Takes `key` (a restored session's); false when it is already out.
    pub fn reserve(&mut self, key: u32) -> bool {
        self.alloc.reserve(u64::from(key))
    }

    #[cfg(test)]
    pub fn in_use(&self) -> usize {
        self.alloc.in_use()
    }
}

/// The uplink key of an encapsulation, if it has one.
pub(super) fn uplink_key(encap: &Encap) -> Option<u32> {
    match *encap {
        Encap::Gre { key_up, .. } => key_up,
        Encap::UdpTlv { key_up, .. } => Some(key_up),
        Encap::IpIp | Encap::Udp { .. } => None,
    }
}

/// Gives a deleted session's uplink key back.
pub(super) fn release_keys(keys: &mut KeyAllocator, encap: &Encap) {
    if let Some(key) = uplink_key(encap) {
        keys.release(key);
    }
}

/// The tunnel a PBU asks for and we grant, before keys are assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    IpIp,
    /// GRE; `key_down` is the MAG's downlink key, `None` for GRE without
    /// keys (a GRE Key option of Length 2).
    Gre {
        key_down: Option<u32>,
    },
    Udp,
    UdpTlv {
        key_down: u32,
    },
}

/// What §4.8.2 / §5.1 decided for one PBU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Decision {
    pub mode: Mode,
    /// 0, 2 (GRE_KEY_OPTION_NOT_REQUIRED) or 3
    /// (GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED).
    pub status: u8,
    /// T flag in the PBA: TLV-header format agreed.
    pub tlv: bool,
}

impl Decision {
    /// The decision for PBUs that change no tunnel (de-registrations).
    pub const NONE: Decision = Decision { mode: Mode::IpIp, status: status::ACCEPTED, tlv: false };

    /// Whether the PBA carries a GRE Key option.
    pub fn gre_option(&self) -> bool {
        matches!(self.mode, Mode::Gre { .. } | Mode::UdpTlv { .. })
    }

    /// Whether the PBA carries a NAT Detection option with F = 1 (IPv4-UDP
    /// confirmed, §4.8.4).
    pub fn nat_detection(&self) -> bool {
        self.mode == Mode::Udp
    }
}

/// Inputs of the decision.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request {
    /// PBU flags word.
    pub flags: u16,
    /// The PBU's GRE Key option: `Some(key)` when present.
    pub gre: Option<Option<u32>>,
    /// The PBU came over IPv4 (RFC 5844 §4).
    pub ipv4_transport: bool,
    pub policy: GrePolicy,
    pub profile_requires_gre: bool,
    pub accept_forced_udp: bool,
    pub tlv_supported: bool,
}

/// §4.8.2 (evaluated in this order) and §5.1. `Err` is a reject status:
/// 129 for a refused F flag, 163 when GRE is required but not offered.
pub(super) fn decide(r: &Request) -> Result<Decision, u8> {
    let force_udp = r.ipv4_transport && r.flags & bu_flags::F != 0;
    let t = r.flags & bu_flags::T != 0;
    // §4.8.2 step 1: F = 1 and AcceptForcedIPv4UDPEncapsulationRequest = 0.
    if force_udp && !r.accept_forced_udp {
        return Err(status::ADMINISTRATIVELY_PROHIBITED);
    }
    let required = r.policy == GrePolicy::Required || r.profile_requires_gre;
    let mut not_required = false;
    match r.gre {
        // §5.1: GRE Key option, GRE not used here → status 2, no option.
        Some(_) if r.policy == GrePolicy::Disabled && !r.profile_requires_gre => not_required = true,
        // §4.8.2 step 2 / §5.1: GRE, or UDP-TLV-GRE when T is agreed.
        Some(key_down) => {
            if !t {
                return Ok(Decision { mode: Mode::Gre { key_down }, status: status::ACCEPTED, tlv: false });
            }
            return Ok(match key_down {
                Some(key_down) if r.ipv4_transport && r.tlv_supported => {
                    Decision { mode: Mode::UdpTlv { key_down }, status: status::ACCEPTED, tlv: true }
                }
                // TLV not supported (or not over IPv6, or without keys):
                // GRE without UDP, T = 0.
                _ => Decision {
                    mode: Mode::Gre { key_down },
                    status: status::GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED,
                    tlv: false,
                },
            });
        }
        // §5.1: no GRE Key option while GRE is required → 163.
        None if required => return Err(status::GRE_KEY_OPTION_REQUIRED),
        // T = 1 without a GRE Key option: T = 0 in the PBA (§5.1 last row).
        None => {}
    }
    let status = if not_required { status::GRE_KEY_OPTION_NOT_REQUIRED } else { status::ACCEPTED };
    // §4.8.2 step 3 and 4.
    let mode = if force_udp { Mode::Udp } else { Mode::IpIp };
    Ok(Decision { mode, status, tlv: false })
}

/// §5.1 "the TLV format SHOULD NOT change on re-registration from the same
/// MAG" (a handoff may renegotiate it), applied to `decision` for a
/// re-registration of a session that runs `current`:
///
/// * a session without the TLV format whose MAG now sets T keeps its
///   format: GRE without UDP, status 3, T clear, as if TLV were not
///   supported (the LMA only SHOULD set T when it supports the format);
/// * a UDP-TLV session whose MAG clears T cannot keep it (T is never set in
///   the PBA unless the PBU had it), so the decision stands and the session
///   follows the PBU to GRE without UDP.
pub(super) fn keep_tlv_format(decision: Decision, current: &Encap) -> Decision {
    match (decision.mode, current) {
        (Mode::UdpTlv { .. }, Encap::UdpTlv { .. }) => decision,
        (Mode::UdpTlv { key_down }, _) => Decision {
            mode: Mode::Gre { key_down: Some(key_down) },
            status: status::GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED,
            tlv: false,
        },
        _ => decision,
    }
}

/// The session's encapsulation for `mode`: the uplink key is kept from
/// `old` when it had one (§5.1: the same key across re-registrations and
/// handoffs), else allocated. `None` when the key space is exhausted. The
/// second value is a key allocated here (to give back if the registration
/// fails after all).
pub(super) fn encap(mode: Mode, old: Option<&Encap>, keys: &mut KeyAllocator) -> Option<(Encap, Option<u32>)> {
    let kept = old.and_then(uplink_key);
    let mut fresh = None;
    let mut key_up = || match kept {
        Some(k) => Some(k),
        None => {
            let k = keys.allocate()?;
            fresh = Some(k);
            Some(k)
        }
    };
    let encap = match mode {
        Mode::IpIp => Encap::IpIp,
        Mode::Gre { key_down: None } => Encap::Gre { key_up: None, key_down: None },
        Mode::Gre { key_down: Some(down) } => Encap::Gre { key_up: Some(key_up()?), key_down: Some(down) },
        Mode::Udp => Encap::Udp { mag_port: PMIP6_DATA_PORT },
        Mode::UdpTlv { key_down } => Encap::UdpTlv { mag_port: PMIP6_DATA_PORT, key_up: key_up()?, key_down },
    };
    Some((encap, fresh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(flags: u16, gre: Option<Option<u32>>, ipv4: bool) -> Request {
        Request {
            flags,
            gre,
            ipv4_transport: ipv4,
            policy: GrePolicy::Supported,
            profile_requires_gre: false,
            accept_forced_udp: true,
            tlv_supported: true,
        }
    }

    #[test]
    fn gre_keys_are_unique_never_zero_and_not_reused_at_once() {
        let mut k = KeyAllocator::default();
        assert_eq!(k.allocate(), Some(1));
        assert_eq!(k.allocate(), Some(2));
        k.release(1);
        assert_eq!(k.in_use(), 1);
        // Fresh keys first; a released one comes back once they run out.
        assert_eq!(k.allocate(), Some(3));
    }

    #[test]
    fn encap_keeps_the_old_uplink_key_and_allocates_only_when_there_is_none() {
        let mut k = KeyAllocator::default();
        let (e, fresh) = encap(Mode::Gre { key_down: Some(9) }, None, &mut k).unwrap();
        assert_eq!(e, Encap::Gre { key_up: Some(1), key_down: Some(9) });
        assert_eq!(fresh, Some(1));
        let (e2, fresh2) = encap(Mode::UdpTlv { key_down: 10 }, Some(&e), &mut k).unwrap();
        assert_eq!(e2, Encap::UdpTlv { mag_port: 5437, key_up: 1, key_down: 10 });
        assert_eq!(fresh2, None);
        assert_eq!(
            encap(Mode::Gre { key_down: None }, None, &mut k).unwrap().0,
            Encap::Gre { key_up: None, key_down: None }
        );
    }

    #[test]
    fn forced_udp_is_refused_with_129_unless_accepted_and_only_counts_over_ipv4() {
        let mut r = req(bu_flags::F, None, true);
        r.accept_forced_udp = false;
        assert_eq!(decide(&r), Err(129));
        r.ipv4_transport = false;
        assert_eq!(decide(&r).unwrap().mode, Mode::IpIp);
        let r = req(bu_flags::F, None, true);
        assert_eq!(decide(&r).unwrap(), Decision { mode: Mode::Udp, status: 0, tlv: false });
        assert!(decide(&r).unwrap().nat_detection());
    }

    #[test]
    fn gre_option_wins_over_forced_udp_and_t_with_tlv_support_gives_udp_tlv() {
        let d = decide(&req(bu_flags::F, Some(Some(5)), true)).unwrap();
        assert_eq!(d.mode, Mode::Gre { key_down: Some(5) });
        let d = decide(&req(bu_flags::T, Some(Some(5)), true)).unwrap();
        assert_eq!(d, Decision { mode: Mode::UdpTlv { key_down: 5 }, status: 0, tlv: true });
    }

    #[test]
    fn t_without_tlv_support_gives_status_3_and_plain_gre() {
        let mut r = req(bu_flags::T, Some(Some(5)), true);
        r.tlv_supported = false;
        assert_eq!(decide(&r).unwrap(), Decision { mode: Mode::Gre { key_down: Some(5) }, status: 3, tlv: false });
        // Over IPv6 transport there is no UDP-TLV mode.
        let r = req(bu_flags::T, Some(Some(5)), false);
        assert_eq!(decide(&r).unwrap().status, 3);
    }

    #[test]
    fn tlv_format_is_kept_on_re_registration_when_t_appears_and_followed_when_t_goes() {
        let tlv = Decision { mode: Mode::UdpTlv { key_down: 5 }, status: 0, tlv: true };
        let gre = Encap::Gre { key_up: Some(1), key_down: Some(5) };
        assert_eq!(
            keep_tlv_format(tlv, &gre),
            Decision { mode: Mode::Gre { key_down: Some(5) }, status: 3, tlv: false }
        );
        let udp_tlv = Encap::UdpTlv { mag_port: 5437, key_up: 1, key_down: 5 };
        assert_eq!(keep_tlv_format(tlv, &udp_tlv), tlv);
        let plain = Decision { mode: Mode::Gre { key_down: Some(5) }, status: 0, tlv: false };
        assert_eq!(keep_tlv_format(plain, &udp_tlv), plain);
    }

    #[test]
    fn t_without_gre_key_option_is_answered_with_t_clear() {
        assert_eq!(
            decide(&req(bu_flags::T, None, true)).unwrap(),
            Decision { mode: Mode::IpIp, status: 0, tlv: false }
        );
    }

    #[test]
    fn gre_disabled_answers_2_without_gre_and_required_answers_163_without_option() {
        let mut r = req(0, Some(Some(5)), false);
        r.policy = GrePolicy::Disabled;
        assert_eq!(decide(&r).unwrap(), Decision { mode: Mode::IpIp, status: 2, tlv: false });
        assert!(!decide(&r).unwrap().gre_option());
        let mut r = req(0, None, false);
        r.policy = GrePolicy::Required;
        assert_eq!(decide(&r), Err(163));
        let mut r = req(0, None, false);
        r.profile_requires_gre = true;
        assert_eq!(decide(&r), Err(163));
    }
}
