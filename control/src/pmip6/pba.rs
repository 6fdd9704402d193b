//! Building the PBA (RFC 5213 §5.3.6, RFC 5844 §3.1.2.6, RFC 5845 §5.1;
//! PROTOCOLS.md §3.6, §4.4, §4.8.4, §5.1).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::proto::{ba_flags, hoa_reply_status, status, BindingAck, MobilityOption};

use super::pbu::PbuOptions;

/// Refresh time of the NAT Detection option when no NAT is involved
/// (§4.8.4): no keepalives needed.
const NAT_REFRESH_NONE: u32 = 0xFFFF_FFFF;

/// The parts of a PBA that depend on the outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Answer {
    pub status: u8,
    /// Sequence Number: the PBU's, or the last accepted one for 135.
    pub seq: u16,
    /// Granted lifetime, 4-s units; 0 for de-registrations and rejects.
    pub lifetime: u16,
    /// On accept: the session's prefixes (one HNP option each, /64).
    /// Ignored on reject.
    pub hnps: Vec<Ipv6Addr>,
    /// The Timestamp option's value when the PBU had one: the PBU's, or our
    /// time of day for 156/157.
    pub timestamp: Option<u64>,
    /// On accept: the LLA to return when the PBU had an LLA option.
    pub link_local: Option<Ipv6Addr>,
    /// GRE Key option: `Some(key)` to include one (`Some(None)`: Length 2).
    pub gre_key: Option<Option<u32>>,
    /// T flag.
    pub tlv: bool,
    /// IPv4 HoA Reply: (status, prefix length, address). Filled from the
    /// request on reject when left `None`.
    pub ipv4_reply: Option<(u8, u8, Ipv4Addr)>,
    /// IPv4 Default-Router Address (accepted IPv4 HoA only).
    pub default_router: Option<Ipv4Addr>,
    /// NAT Detection with F = 1 (IPv4-UDP mode confirmed).
    pub nat_detection: bool,
}

/// The IPv4 HoA Reply status that goes with a rejecting PBA status (§4.3.1,
/// §4.4, §14 #9, #16): 129 for the authorisation failures, 128 otherwise.
pub(super) fn reply_status_for(pba_status: u8) -> u8 {
    match pba_status {
        status::NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE | status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS => {
            hoa_reply_status::ADMINISTRATIVELY_PROHIBITED
        }
        _ => hoa_reply_status::FAILURE_REASON_UNSPECIFIED,
    }
}

/// The PBA answering a PBU with options `req` (§3.6).
pub(super) fn build(req: &PbuOptions, a: &Answer) -> BindingAck {
    let reject = a.status >= status::REJECTED;
    let mut options = Vec::new();
    // MN-ID: always; zero-length identifier when the PBU had none.
    let (subtype, id) = req.mn_id.clone().unwrap_or((1, Vec::new()));
    options.push(MobilityOption::MnIdentifier { subtype, id });
    // HNP: RFC 5844 §3.1.2.6 — a PBU with only an IPv4 HoA Request gets
    // none; otherwise at least one.
    let ipv4_only = req.hnps.is_empty() && !req.ipv4_requests.is_empty();
    if reject {
        if !req.hnps.is_empty() {
            for &(prefix_len, prefix) in &req.hnps {
                options.push(MobilityOption::HomeNetworkPrefix { prefix_len, prefix });
            }
        } else if !ipv4_only {
            options.push(MobilityOption::HomeNetworkPrefix { prefix_len: 0, prefix: Ipv6Addr::UNSPECIFIED });
        }
    } else if !ipv4_only {
        for &prefix in &a.hnps {
            options.push(MobilityOption::HomeNetworkPrefix { prefix_len: 64, prefix });
        }
        if a.hnps.is_empty() {
            options.push(MobilityOption::HomeNetworkPrefix { prefix_len: 0, prefix: Ipv6Addr::UNSPECIFIED });
        }
    }
    // HI and ATT: always, copied (0 when absent).
    options.push(MobilityOption::HandoffIndicator(req.hi.unwrap_or(0)));
    options.push(MobilityOption::AccessTechnology(req.att.unwrap_or(0)));
    // MN-LL-ID: only if the PBU had one.
    if let Some(ll) = &req.mn_ll_id {
        options.push(MobilityOption::MnLinkLayerId(ll.clone()));
    }
    // LLA: only if the PBU had one; copied on reject.
    if let Some(lla) = req.link_local {
        let value = if reject { lla } else { a.link_local.unwrap_or(lla) };
        options.push(MobilityOption::LinkLocalAddress(value));
    }
    // Timestamp: only if the PBU had one.
    if req.timestamp.is_some() {
        if let Some(ts) = a.timestamp.or(req.timestamp) {
            options.push(MobilityOption::Timestamp(ts));
        }
    }
    if !reject {
        if let Some(key) = a.gre_key {
            options.push(MobilityOption::GreKey(key));
        }
    }
    // IPv4 HoA Reply whenever the PBU had an IPv4 HoA Request.
    if let Some(&(prefix_len, addr)) = req.ipv4_requests.first() {
        let (st, len, addr) = match a.ipv4_reply {
            Some(reply) => reply,
            None => (reply_status_for(a.status), prefix_len, addr),
        };
        options.push(MobilityOption::Ipv4HoaReply { status: st, prefix_len: len, addr });
        if !reject && st < hoa_reply_status::FAILURE_REASON_UNSPECIFIED {
            if let Some(router) = a.default_router {
                options.push(MobilityOption::Ipv4DefaultRouter(router));
                // RFC 5844 §3.1.2.6: the MAG acts as the MN's DHCP server.
                options.push(MobilityOption::Ipv4DhcpSupportMode { server: true });
            }
        }
    }
    if !reject && a.nat_detection {
        options.push(MobilityOption::NatDetection { f: true, refresh: NAT_REFRESH_NONE });
    }
    let mut flags = ba_flags::P;
    if a.tlv && !reject {
        flags |= ba_flags::T;
    }
    BindingAck { status: a.status, flags, seq: a.seq, lifetime: if reject { 0 } else { a.lifetime }, options }
}
