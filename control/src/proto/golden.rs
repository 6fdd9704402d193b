//! Golden Mobility Headers from independent tools (ORACLES.md):
//!
//! * scapy builds what the anchor receives (`testdata/received.hex`): PBUs
//!   over IPv6 and IPv4, a DSMIPv6 BU, BRIs, a BRA, Heartbeats, a Binding
//!   Error, a Binding Refresh Request and malformed variants; [`parse`] must
//!   give the values written below (from the generator's parameters, not
//!   from our emitter) or the listed error.
//! * scapy builds what the anchor sends (`testdata/emitted.hex`); [`emit`]
//!   of the same typed message must give those bytes exactly, so its MH
//!   checksum equals scapy's `in6_chksum(135, …)` and its padding scapy's
//!   `autopad` with each option's xn+y.
//! * tshark decodes our emitted messages, behind an IPv6 header (next
//!   header 135) or IPv4 + UDP 5436, with the ORACLES.md §1.1 field names,
//!   and the numbers must be the expected ones.
//!
//! Regenerate the vectors with
//! `/usr/bin/python3 control/src/proto/testdata/make_golden.py`.
//! tshark is required: `scripts/setup.sh` installs it.

use core::net::{Ipv4Addr, Ipv6Addr};

use dataplane::wire::{ethernet, ipv4, ipv6, udp, MacAddr};

use super::*;
use crate::golden_tools::{normalise, tshark, unhex, vectors, PI_WARN};

const RECEIVED: &str = include_str!("testdata/received.hex");
const EMITTED: &str = include_str!("testdata/emitted.hex");

const MAG6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa);
const LMA6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const MN6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 5, 0, 0, 0, 0, 9);
const MAG4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const LMA4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PMIP6_CONTROL: u16 = 5436;

/// Unix 1700000000.5 s as 48.16 fixed point (PROTOCOLS.md §2.10.7).
const TS: u64 = 1_700_000_000 << 16 | 0x8000;
/// The MESG-ID value of the generator (64-bit NTP, opaque to us).
const NTP: u64 = 0xe8e8_e8e8_8000_0000;
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 7];

/// ORACLES.md §2.4: the PBU scapy 2.8.0 built there, 96 octets.
const ORACLE_PBU: &str = concat!(
    "3b0b0500af190007820003840810016d6e31406578616d706c652e6e6574",
    "0104000000001612000000000000000000000000000000000000170200011802",
    "000301001b0800006553f10080002406000000000000210600000000123401020000",
);

fn vector(text: &str, label: &str) -> Vec<u8> {
    vectors(text).into_iter().find(|(l, _)| *l == label).unwrap_or_else(|| panic!("no vector {label}")).1
}

/// The Mobility Header inside an IP packet and how its checksum works:
/// IPv6 next header 135 (checksum over the IPv6 addresses), or IPv4 + UDP
/// 5436 (checksum 0).
fn mobility_header(packet: &[u8]) -> (Vec<u8>, Checksum) {
    if packet[0] >> 4 == 6 {
        let ip = ipv6::Packet::new_checked(packet).expect("IPv6");
        assert_eq!(ip.next_header(), ipv4::protocol::MOBILITY);
        (ip.payload().to_vec(), Checksum::Ipv6 { src: ip.src_addr(), dst: ip.dst_addr() })
    } else {
        let ip = ipv4::Packet::new_checked(packet).expect("IPv4");
        assert_eq!(ip.protocol(), ipv4::protocol::UDP);
        let u = udp::Packet::new_checked(ip.payload()).expect("UDP");
        assert_eq!(u.dst_port(), PMIP6_CONTROL);
        assert!(u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()));
        (u.payload().to_vec(), Checksum::None)
    }
}

fn nai(id: &str) -> MobilityOption {
    MobilityOption::MnIdentifier { subtype: options::mn_id_subtype::NAI, id: id.as_bytes().to_vec() }
}

fn hnp(prefix: &str) -> MobilityOption {
    MobilityOption::HomeNetworkPrefix { prefix_len: 64, prefix: prefix.parse().unwrap() }
}

fn auth() -> MobilityOption {
    MobilityOption::Auth { subtype: options::auth_subtype::MN_HA, spi: 256, data: (0xa0..0xac).collect() }
}

fn bu(seq: u16, flags: u16, lifetime: u16, options: Vec<MobilityOption>) -> MhMessage {
    MhMessage::BindingUpdate(BindingUpdate { seq, flags, lifetime, options })
}

fn ba(status: u8, flags: u8, seq: u16, lifetime: u16, options: Vec<MobilityOption>) -> MhMessage {
    MhMessage::BindingAck(BindingAck { status, flags, seq, lifetime, options })
}

fn br(br_type: u8, trigger_or_status: u8, seq: u16, flags: u16, options: Vec<MobilityOption>) -> MhMessage {
    MhMessage::BindingRevocation(BindingRevocation { br_type, trigger_or_status, seq, flags, options })
}

fn hb(flags: u16, seq: u32, options: Vec<MobilityOption>) -> MhMessage {
    MhMessage::Heartbeat(Heartbeat { flags, seq, options })
}

/// What `parse` must return for each vector of received.hex.
fn received_expectations() -> Vec<(&'static str, Result<MhMessage, MhError>)> {
    use MobilityOption::*;
    let oracle = |seq| {
        bu(
            seq,
            bu_flags::A | bu_flags::P,
            900,
            vec![
                nai("mn1@example.net"),
                HomeNetworkPrefix { prefix_len: 0, prefix: Ipv6Addr::UNSPECIFIED },
                HandoffIndicator(handoff::ATTACHMENT_OVER_NEW_INTERFACE),
                AccessTechnology(att::IEEE_802_3),
                Timestamp(TS),
                Ipv4HoaRequest { prefix_len: 0, addr: Ipv4Addr::UNSPECIFIED },
                GreKey(Some(0x1234)),
            ],
        )
    };
    vec![
        ("pbu_oracle", Ok(oracle(7))),
        ("pbu_oracle_v4", Ok(oracle(8))),
        (
            "pbu_full",
            Ok(bu(
                0x1234,
                bu_flags::A | bu_flags::P | bu_flags::F | bu_flags::T,
                150,
                vec![
                    nai("mn1@example.net"),
                    hnp("2001:db8:1:2::"),
                    hnp("2001:db8:1:3::"),
                    HandoffIndicator(handoff::HANDOFF_BETWEEN_MAGS_SAME_INTERFACE),
                    AccessTechnology(att::IEEE_802_11ABG),
                    MnLinkLayerId(MAC.to_vec()),
                    LinkLocalAddress(Ipv6Addr::UNSPECIFIED),
                    Timestamp(TS),
                    GreKey(None),
                    Ipv4HoaRequest { prefix_len: 32, addr: Ipv4Addr::new(192, 0, 2, 77) },
                    AlternateCareOf("2001:db8::b".parse().unwrap()),
                    VendorSpecific { vendor: 10415, subtype: 7, data: vec![1, 2, 3] },
                    Unknown { option_type: 20, data: b"ims".to_vec() },
                ],
            )),
        ),
        (
            "pbu_dereg_v4",
            Ok(bu(
                0xffff,
                bu_flags::A | bu_flags::P,
                0,
                vec![
                    nai("mn1@example.net"),
                    hnp("2001:db8:1:2::"),
                    HandoffIndicator(handoff::HANDOFF_STATE_NOT_CHANGED),
                    AccessTechnology(att::IEEE_802_3),
                    Timestamp(TS + 1),
                    GreKey(Some(0x1234)),
                ],
            )),
        ),
        (
            "bu_dsmip",
            Ok(bu(
                3,
                bu_flags::A | bu_flags::H,
                100,
                vec![
                    Ipv4HomeAddress { prefix_len: 32, p: true, addr: Ipv4Addr::UNSPECIFIED },
                    Ipv4CareOf(Ipv4Addr::new(198, 51, 100, 7)),
                    nai("mn1@example.net"),
                    MesgId(NTP),
                    auth(),
                ],
            )),
        ),
        (
            "bri_v6",
            Ok(br(
                br_type::BRI,
                revocation_trigger::USER_INITIATED_SESSION_TERMINATION,
                0x4242,
                br_flags::P | br_flags::V,
                vec![
                    nai("mn1@example.net"),
                    Ipv4HoaRequest { prefix_len: 32, addr: Ipv4Addr::new(10, 1, 2, 3) },
                    AlternateCareOf("2001:db8::b".parse().unwrap()),
                ],
            )),
        ),
        (
            "bri_global_v6",
            Ok(br(
                br_type::BRI,
                revocation_trigger::PER_PEER_POLICY,
                0x4243,
                br_flags::P | br_flags::G,
                vec![nai("mag1@example.net")],
            )),
        ),
        (
            "bra_v6",
            Ok(br(
                br_type::BRA,
                bra_status::PARTIAL_SUCCESS,
                0x0102,
                br_flags::P,
                vec![nai("mn1@example.net"), hnp("2001:db8:1:2::")],
            )),
        ),
        ("hb_req_v6", Ok(hb(0, 0x0102_0304, vec![]))),
        ("hb_resp_v4", Ok(hb(hb_flags::R, 0xffff_fffe, vec![RestartCounter(7)]))),
        (
            "be_v6",
            Ok(MhMessage::BindingError(BindingError {
                status: be_status::UNRECOGNIZED_MH_TYPE,
                home_address: Ipv6Addr::UNSPECIFIED,
            })),
        ),
        ("brr_v6", Ok(MhMessage::BindingRefreshRequest)),
        (
            "pbu_misaligned",
            Ok(bu(
                11,
                bu_flags::A | bu_flags::P,
                10,
                vec![nai("mn1@example.net"), hnp("2001:db8:1:2::"), Timestamp(TS), GreKey(Some(9)), RestartCounter(1)],
            )),
        ),
        ("bad_checksum", Err(MhError::BadChecksum)),
        ("unknown_type_hoti", Err(MhError::UnknownType { mh_type: 1 })),
        ("unknown_type_99", Err(MhError::UnknownType { mh_type: 99 })),
        ("bad_payload_proto", Err(MhError::BadPayloadProto { proto: 58 })),
        ("short_header_len_be", Err(MhError::BadHeaderLen)),
        ("short_header_len_bu", Err(MhError::BadHeaderLen)),
        ("option_overrun", Err(MhError::OptionOverrun { offset: 12 })),
        ("hnp_length_17", Err(MhError::BadOptionLength { option: 22, offset: 12 })),
        // MN-ID (18 octets, no alignment) at 12, then the 4-octet GRE Key at 30.
        ("gre_key_length_4", Err(MhError::BadOptionLength { option: 33, offset: 30 })),
    ]
}

#[test]
fn scapy_built_messages_parse_to_the_expected_values() {
    let vectors = vectors(RECEIVED);
    let expectations = received_expectations();
    assert_eq!(
        vectors.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        expectations.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        "received.hex and the expectations list the same vectors"
    );
    for ((label, packet), (_, want)) in vectors.iter().zip(expectations) {
        let (mh, checksum) = mobility_header(packet);
        assert_eq!(parse(&mh, checksum), want, "{label}");
        if let Ok(msg) = want {
            // scapy's autopad places options as we do (the misaligned vector
            // excepted), so emitting what we parsed gives scapy's bytes back.
            if *label != "pbu_misaligned" {
                assert_eq!(emit(&msg, checksum), mh, "{label} re-emitted");
            }
        }
    }
}

#[test]
fn the_oracles_md_pbu_is_what_scapy_builds_here_and_parses() {
    let (mh, checksum) = mobility_header(&vector(RECEIVED, "pbu_oracle"));
    assert_eq!(mh, unhex(ORACLE_PBU));
    assert_eq!(checksum, Checksum::Ipv6 { src: MAG6, dst: LMA6 });
    assert_eq!(u16::from_be_bytes([mh[4], mh[5]]), 0xaf19);
}

/// How an emitted message travels: its IP family decides the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Ipv6 { src: Ipv6Addr, dst: Ipv6Addr },
    Ipv4 { src: Ipv4Addr, dst: Ipv4Addr },
}

impl Via {
    fn checksum(self) -> Checksum {
        match self {
            Via::Ipv6 { src, dst } => Checksum::Ipv6 { src, dst },
            Via::Ipv4 { .. } => Checksum::None,
        }
    }
}

const LMA_TO_MAG6: Via = Via::Ipv6 { src: LMA6, dst: MAG6 };
const LMA_TO_MAG4: Via = Via::Ipv4 { src: LMA4, dst: MAG4 };

/// One message the anchor sends, how, and the tshark fields it must show.
struct Sent {
    label: &'static str,
    via: Via,
    msg: MhMessage,
    /// `(field, value)`: numbers in decimal, booleans 1/0, several
    /// occurrences joined with ';'.
    fields: Vec<(&'static str, &'static str)>,
}

fn sent() -> Vec<Sent> {
    use MobilityOption::*;
    let nai = || nai("mn1@example.net");
    vec![
        Sent {
            label: "pba_v6",
            via: LMA_TO_MAG6,
            msg: ba(
                status::ACCEPTED,
                ba_flags::P | ba_flags::T,
                0x1234,
                150,
                vec![
                    nai(),
                    hnp("2001:db8:1:2::"),
                    hnp("2001:db8:1:3::"),
                    HandoffIndicator(handoff::HANDOFF_BETWEEN_MAGS_SAME_INTERFACE),
                    AccessTechnology(att::IEEE_802_11ABG),
                    MnLinkLayerId(MAC.to_vec()),
                    LinkLocalAddress("fe80::1".parse().unwrap()),
                    Timestamp(TS),
                    GreKey(Some(0x5678)),
                    Ipv4HoaReply {
                        status: hoa_reply_status::SUCCESS,
                        prefix_len: 24,
                        addr: Ipv4Addr::new(10, 1, 2, 3),
                    },
                    Ipv4DefaultRouter(Ipv4Addr::new(10, 1, 2, 1)),
                    Ipv4DhcpSupportMode { server: true },
                ],
            ),
            fields: vec![
                ("mip6.hlen", "19"),
                ("mip6.mhtype", "6"),
                ("mip6.ba.status", "0"),
                ("mip6.ba.k_flag", "0"),
                ("mip6.nemo.ba.r_flag", "0"),
                ("mip6.ba.p_flag", "1"),
                ("mip6.ba.t_flag", "1"),
                ("mip6.ba.seqnr", "4660"),
                ("mip6.ba.lifetime", "150"),
                ("mip6.mnid.subtype", "1"),
                ("mip6.mnid.identifier", "mn1@example.net"),
                ("mip6.nemo.mnp.pfl", "64;64"),
                ("mip6.nemo.mnp.mnp", "2001:db8:1:2::;2001:db8:1:3::"),
                ("mip6.hi", "3"),
                ("mip6.att", "4"),
                ("mip6.mnlli.reserved", "0"),
                ("mip6.mnlli.lli", "020000000007"),
                ("mip6.lila_lla", "fe80::1"),
                ("mip6.timestamp_tmp", "Nov 14, 2023 22:13:20.500000000 UTC"),
                ("mip6.gre_key", "22136"),
                ("mip6.ipv4aa.sts", "0"),
                ("mip6.ipv4ha.preflen", "24"),
                ("mip6.ipv4ha.ha", "10.1.2.3"),
                ("mip6.ipv4dra.dra", "10.1.2.1"),
                ("mip6.ipv4dsm.s_flag", "1"),
            ],
        },
        Sent {
            label: "pba_reject_v6",
            via: LMA_TO_MAG6,
            msg: ba(status::NOT_LMA_FOR_THIS_MOBILE_NODE, ba_flags::P, 9, 0, vec![nai()]),
            fields: vec![
                ("mip6.hlen", "3"),
                ("mip6.ba.status", "153"),
                ("mip6.ba.p_flag", "1"),
                ("mip6.ba.t_flag", "0"),
                ("mip6.ba.seqnr", "9"),
                ("mip6.ba.lifetime", "0"),
                ("mip6.mnid.identifier", "mn1@example.net"),
            ],
        },
        Sent {
            label: "pba_v4",
            via: LMA_TO_MAG4,
            msg: ba(
                status::ACCEPTED,
                ba_flags::P,
                8,
                900,
                vec![
                    nai(),
                    hnp("2001:db8:1:2::"),
                    HandoffIndicator(handoff::ATTACHMENT_OVER_NEW_INTERFACE),
                    AccessTechnology(att::IEEE_802_3),
                    Timestamp(TS),
                    GreKey(None),
                    Ipv4HoaReply {
                        status: hoa_reply_status::SUCCESS,
                        prefix_len: 32,
                        addr: Ipv4Addr::new(10, 1, 2, 4),
                    },
                    NatDetection { f: true, refresh: u32::MAX },
                ],
            ),
            fields: vec![
                ("mip6.csum", "0"),
                ("mip6.hlen", "11"),
                ("mip6.ba.status", "0"),
                ("mip6.ba.p_flag", "1"),
                ("mip6.ba.seqnr", "8"),
                ("mip6.ba.lifetime", "900"),
                ("mip6.nemo.mnp.pfl", "64"),
                ("mip6.hi", "1"),
                ("mip6.att", "3"),
                ("mip6.gre_key", ""),
                ("mip6.ipv4aa.sts", "0"),
                ("mip6.ipv4ha.preflen", "32"),
                ("mip6.ipv4ha.ha", "10.1.2.4"),
                ("mip6.natd.f_flag", "1"),
                ("mip6.natd.refresh_t", "4294967295"),
                ("udp.srcport", "5436"),
                ("udp.dstport", "5436"),
            ],
        },
        Sent {
            label: "pba_reject_v4",
            via: LMA_TO_MAG4,
            msg: ba(
                status::INSUFFICIENT_RESOURCES,
                ba_flags::P,
                8,
                0,
                vec![
                    nai(),
                    Ipv4HoaReply {
                        status: hoa_reply_status::FAILURE_REASON_UNSPECIFIED,
                        prefix_len: 0,
                        addr: Ipv4Addr::UNSPECIFIED,
                    },
                ],
            ),
            fields: vec![
                ("mip6.csum", "0"),
                ("mip6.hlen", "4"),
                ("mip6.ba.status", "130"),
                ("mip6.ba.lifetime", "0"),
                ("mip6.ipv4aa.sts", "128"),
                ("mip6.ipv4ha.preflen", "0"),
                ("mip6.ipv4ha.ha", "0.0.0.0"),
            ],
        },
        Sent {
            label: "bri_v6",
            via: LMA_TO_MAG6,
            msg: br(
                br_type::BRI,
                revocation_trigger::INTER_MAG_HANDOVER_SAME_ACCESS_TYPE,
                0x0100,
                br_flags::P,
                vec![nai(), hnp("2001:db8:1:2::")],
            ),
            fields: vec![
                ("mip6.hlen", "6"),
                ("mip6.mhtype", "16"),
                ("mip6.bri_br.type", "1"),
                ("mip6.bri_r.trigger", "2"),
                ("mip6.bri_seqnr", "256"),
                ("mip6.bri_ip", "1"),
                ("mip6.bri_iv", "0"),
                ("mip6.bri_ig", "0"),
                ("mip6.mnid.identifier", "mn1@example.net"),
                ("mip6.nemo.mnp.pfl", "64"),
                ("mip6.nemo.mnp.mnp", "2001:db8:1:2::"),
            ],
        },
        Sent {
            label: "bri_global_v4",
            via: LMA_TO_MAG4,
            msg: br(br_type::BRI, revocation_trigger::PER_PEER_POLICY, 0x0101, br_flags::P | br_flags::G, vec![]),
            fields: vec![
                ("mip6.csum", "0"),
                ("mip6.hlen", "1"),
                ("mip6.bri_br.type", "1"),
                ("mip6.bri_r.trigger", "128"),
                ("mip6.bri_seqnr", "257"),
                ("mip6.bri_ip", "1"),
                ("mip6.bri_iv", "0"),
                ("mip6.bri_ig", "1"),
                ("mip6.padn", "0000"),
            ],
        },
        Sent {
            label: "bri_hoa_v4",
            via: LMA_TO_MAG4,
            msg: br(
                br_type::BRI,
                revocation_trigger::USER_INITIATED_SESSION_TERMINATION,
                0x0102,
                br_flags::P | br_flags::V,
                vec![nai(), Ipv4HoaRequest { prefix_len: 32, addr: Ipv4Addr::new(10, 1, 2, 3) }],
            ),
            fields: vec![
                ("mip6.hlen", "4"),
                ("mip6.bri_r.trigger", "5"),
                ("mip6.bri_seqnr", "258"),
                ("mip6.bri_ip", "1"),
                ("mip6.bri_iv", "1"),
                ("mip6.bri_ig", "0"),
                ("mip6.ipv4ha.preflen", "32"),
                ("mip6.ipv4ha.ha", "10.1.2.3"),
            ],
        },
        Sent {
            label: "bra_v6",
            via: LMA_TO_MAG6,
            msg: br(br_type::BRA, bra_status::SUCCESS, 0x4242, br_flags::P | br_flags::V, vec![nai()]),
            fields: vec![
                ("mip6.hlen", "3"),
                ("mip6.bri_br.type", "2"),
                ("mip6.bri_status", "0"),
                ("mip6.bri_seqnr", "16962"),
                ("mip6.bri_ap", "1"),
                ("mip6.bri_av", "1"),
                ("mip6.bri_ag", "0"),
                ("mip6.mnid.identifier", "mn1@example.net"),
            ],
        },
        Sent {
            label: "hb_resp_v6",
            via: LMA_TO_MAG6,
            msg: hb(hb_flags::R, 0x0102_0304, vec![RestartCounter(42)]),
            fields: vec![
                ("mip6.hlen", "2"),
                ("mip6.mhtype", "13"),
                ("mip6.hb.u_flag", "0"),
                ("mip6.hb.r_flag", "1"),
                ("mip6.hb.seqnr", "16909060"),
                ("mip6.rc", "42"),
            ],
        },
        Sent {
            label: "hb_req_v6",
            via: LMA_TO_MAG6,
            msg: hb(0, 1, vec![]),
            fields: vec![
                ("mip6.hlen", "1"),
                ("mip6.hb.u_flag", "0"),
                ("mip6.hb.r_flag", "0"),
                ("mip6.hb.seqnr", "1"),
                ("mip6.rc", ""),
            ],
        },
        Sent {
            label: "hb_unsolicited_v4",
            via: LMA_TO_MAG4,
            msg: hb(hb_flags::U | hb_flags::R, 0, vec![RestartCounter(42)]),
            fields: vec![
                ("mip6.csum", "0"),
                ("mip6.hlen", "2"),
                ("mip6.hb.u_flag", "1"),
                ("mip6.hb.r_flag", "1"),
                ("mip6.hb.seqnr", "0"),
                ("mip6.rc", "42"),
            ],
        },
        Sent {
            label: "be_v6",
            via: LMA_TO_MAG6,
            msg: MhMessage::BindingError(BindingError {
                status: be_status::UNRECOGNIZED_MH_TYPE,
                home_address: Ipv6Addr::UNSPECIFIED,
            }),
            fields: vec![("mip6.hlen", "2"), ("mip6.mhtype", "7"), ("mip6.be.status", "2"), ("mip6.be.haddr", "::")],
        },
        Sent {
            label: "brr_v6",
            via: LMA_TO_MAG6,
            msg: MhMessage::BindingRefreshRequest,
            fields: vec![("mip6.hlen", "0"), ("mip6.mhtype", "0")],
        },
        Sent {
            label: "ba_dsmip_v6",
            via: Via::Ipv6 { src: LMA6, dst: MN6 },
            msg: ba(
                status::ACCEPTED,
                ba_flags::K,
                3,
                100,
                vec![
                    Ipv4AddressAck {
                        status: ipv4_ack_status::SUCCESS,
                        prefix_len: 32,
                        addr: Ipv4Addr::new(10, 9, 8, 7),
                    },
                    NatDetection { f: false, refresh: 110 },
                    BindingRefreshAdvice(50),
                    MesgId(NTP),
                    auth(),
                ],
            ),
            fields: vec![
                ("mip6.hlen", "7"),
                ("mip6.ba.status", "0"),
                ("mip6.ba.k_flag", "1"),
                ("mip6.ba.p_flag", "0"),
                ("mip6.ba.seqnr", "3"),
                ("mip6.ba.lifetime", "100"),
                ("mip6.ipv4aa.sts", "0"),
                ("mip6.ipv4ha.preflen", "32"),
                ("mip6.ipv4ha.ha", "10.9.8.7"),
                ("mip6.natd.f_flag", "0"),
                ("mip6.natd.refresh_t", "110"),
                ("mip6.bra.interval", "50"),
                ("mip6.auth.subtype", "1"),
                ("mip6.auth.mobility_spi", "256"),
            ],
        },
        Sent {
            label: "bu_rest_v6",
            via: Via::Ipv6 { src: MAG6, dst: LMA6 },
            msg: bu(
                0xfffe,
                bu_flags::A
                    | bu_flags::H
                    | bu_flags::L
                    | bu_flags::K
                    | bu_flags::M
                    | bu_flags::R
                    | bu_flags::P
                    | bu_flags::F
                    | bu_flags::T
                    | bu_flags::B,
                0xffff,
                vec![
                    AlternateCareOf("2001:db8::b".parse().unwrap()),
                    Ipv4HomeAddress { prefix_len: 32, p: true, addr: Ipv4Addr::new(192, 0, 2, 200) },
                    Ipv4CareOf(Ipv4Addr::new(198, 51, 100, 7)),
                    VendorSpecific { vendor: 32473, subtype: 1, data: vec![1, 2, 3] },
                    Unknown { option_type: 200, data: b"\x00\x01abc".to_vec() },
                    GreKey(Some(u32::MAX)),
                ],
            ),
            fields: vec![
                ("mip6.hlen", "9"),
                ("mip6.mhtype", "5"),
                ("mip6.bu.seqnr", "65534"),
                ("mip6.bu.a_flag", "1"),
                ("mip6.bu.h_flag", "1"),
                ("mip6.bu.l_flag", "1"),
                ("mip6.bu.k_flag", "1"),
                ("mip6.bu.m_flag", "1"),
                ("mip6.nemo.bu.r_flag", "1"),
                ("mip6.bu.p_flag", "1"),
                ("mip6.bu.f_flag", "1"),
                ("mip6.bu.t_flag", "1"),
                ("mip6.bu.b_flag", "1"),
                ("mip6.bu.lifetime", "65535"),
                ("mip6.acoa.acoa", "2001:db8::b"),
                ("mip6.ipv4ha.preflen", "32"),
                ("mip6.ipv4ha.p_flag", "1"),
                ("mip6.ipv4ha.ha", "192.0.2.200"),
                ("mip6.ipv4coa.addr", "198.51.100.7"),
                ("mip6.vsm.vendorId", "32473"),
                ("mip6.vsm.subtype", "1"),
                ("mip6.mobility_opt", "200"),
                ("mip6.gre_key", "4294967295"),
            ],
        },
    ]
}

#[test]
fn emitted_messages_equal_scapys_bytes_and_in6_chksum() {
    let vectors = vectors(EMITTED);
    let cases = sent();
    assert_eq!(
        vectors.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        cases.iter().map(|c| c.label).collect::<Vec<_>>(),
        "emitted.hex and the cases list the same vectors"
    );
    for ((label, packet), case) in vectors.iter().zip(&cases) {
        let (want, checksum) = mobility_header(packet);
        assert_eq!(checksum, case.via.checksum(), "{label}: addresses");
        let got = emit(&case.msg, checksum);
        assert_eq!(&got[4..6], &want[4..6], "{label}: MH checksum (scapy in6_chksum, 0 over IPv4)");
        assert_eq!(got, want, "{label}");
        assert_eq!(parse(&got, checksum).as_ref(), Ok(&case.msg), "{label} parses back");
    }
}

/// A frame for tshark: Ethernet, then IPv6 (next header 135) or IPv4 + UDP
/// 5436 -> 5436 (UDP checksum filled), then the Mobility Header.
fn frame(via: Via, mh: &[u8]) -> Vec<u8> {
    let (lma_mac, mag_mac) = (MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]));
    let mut f = vec![0u8; ethernet::HEADER_LEN];
    match via {
        Via::Ipv6 { src, dst } => {
            ethernet::emit_header(&mut f, mag_mac, lma_mac, ethernet::ethertype::IPV6);
            let ip = ipv6::Ipv6Repr {
                src,
                dst,
                next_header: ipv4::protocol::MOBILITY,
                hop_limit: 255,
                payload_len: mh.len(),
            };
            let at = f.len();
            f.resize(at + ipv6::HEADER_LEN, 0);
            ip.emit(&mut f[at..]);
        }
        Via::Ipv4 { src, dst } => {
            ethernet::emit_header(&mut f, mag_mac, lma_mac, ethernet::ethertype::IPV4);
            let ip = ipv4::Ipv4Repr {
                src,
                dst,
                protocol: ipv4::protocol::UDP,
                ttl: 64,
                tos: 0,
                payload_len: udp::HEADER_LEN + mh.len(),
            };
            let at = f.len();
            f.resize(at + ipv4::HEADER_LEN + udp::HEADER_LEN, 0);
            ip.emit(&mut f[at..]);
            udp::UdpRepr { src_port: PMIP6_CONTROL, dst_port: PMIP6_CONTROL, payload_len: mh.len() }
                .emit(&mut f[at + ipv4::HEADER_LEN..]);
            f.extend_from_slice(mh);
            let mut u = udp::Packet::new_unchecked(&mut f[at + ipv4::HEADER_LEN..]);
            u.fill_checksum_v4(src, dst);
            return f;
        }
    }
    f.extend_from_slice(mh);
    f
}

#[test]
fn tshark_decodes_our_emitted_messages_with_the_expected_fields() {
    let cases = sent();
    let frames: Vec<Vec<u8>> = cases.iter().map(|c| frame(c.via, &emit(&c.msg, c.via.checksum()))).collect();
    // Checked on every frame: the common header, that tshark found nothing
    // malformed or worse than a note, and the IP/UDP checksums we wrote.
    let common = ["mip6.proto", "mip6.reserved", "mip6.mhtype", "_ws.malformed", "_ws.expert.severity"];
    let checks = ["ip.checksum.status", "udp.checksum.status"];
    let mut names: Vec<&str> = common.iter().chain(&checks).copied().collect();
    for c in &cases {
        for (name, _) in &c.fields {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    let rows =
        tshark(&frames, &names).expect("tshark not found: run scripts/setup.sh (it installs tshark; CI runs it too)");
    let mut failures = Vec::new();
    for (c, row) in cases.iter().zip(rows) {
        let got = |name: &str| row[names.iter().position(|n| *n == name).unwrap()].clone();
        let mut want: Vec<(&str, String)> = vec![
            ("mip6.proto", "59".into()),
            ("mip6.reserved", "0".into()),
            ("mip6.mhtype", c.msg.mh_type().to_string()),
            ("_ws.malformed", String::new()),
        ];
        if matches!(c.via, Via::Ipv4 { .. }) {
            want.push(("ip.checksum.status", "1".into()));
            want.push(("udp.checksum.status", "1".into()));
        }
        want.extend(c.fields.iter().map(|(n, v)| (*n, v.to_string())));
        for (name, w) in want {
            let g = got(name);
            if normalise(&w) != normalise(&g) {
                failures.push(format!("{}: {name} = {g:?}, want {w:?}", c.label));
            }
        }
        let severity = got("_ws.expert.severity");
        for s in normalise(&severity).iter().filter(|s| !s.is_empty()) {
            if s.parse::<u64>().map_or(true, |s| s >= PI_WARN) {
                failures.push(format!("{}: expert severity {s}", c.label));
            }
        }
    }
    assert!(failures.is_empty(), "tshark disagrees:\n{}", failures.join("\n"));
}
