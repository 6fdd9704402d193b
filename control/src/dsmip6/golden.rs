//! Golden packets of the DSMIPv6 home agent against independent tools
//! (ORACLES.md):
//!
//! * scapy builds Binding Updates (`testdata/received.hex`: IPv6 with the
//!   Home Address option, and IPv4 | UDP 4191 | IPv6 through a NAT), each
//!   sealed with an MN-HA authenticator Python's `hmac` computed; our
//!   packet parser must give the generator's values, and a home agent
//!   holding the generator's key must accept both (so our authenticator
//!   check agrees with Python's HMAC-SHA1-96 and our checksum with scapy's).
//! * tshark decodes the Binding Acknowledgements the home agent answers
//!   with (IPv6 with a type 2 routing header; IPv4 | UDP | IPv6 decoded
//!   with `-d udp.port==4191,ipv6`, ORACLES.md §1), and the fields must be
//!   the expected numbers.
//!
//! Regenerate the vectors with
//! `/usr/bin/python3 control/src/dsmip6/testdata/make_golden.py`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::tests::wall0;
use super::{Ha6, Ha6Config, MobileNode, Output};
use crate::golden_tools::{normalise, vectors, PI_WARN};
use crate::proto::dsmip6::{parse_packet, Framing};
use crate::proto::{bu_flags, BindingUpdate, MhMessage, MobilityOption};

const RECEIVED: &str = include_str!("testdata/received.hex");
const AUTH: &str = include_str!("testdata/auth.hex");

// The generator's parameters (make_golden.py), written here independently.
const HA6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 1);
const HOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x10);
const COA6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x200, 0, 0, 0, 0, 0x20);
const HA4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const COA4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const NAT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 99);
const NAT_PORT: u16 = 40000;
const SPI: u32 = 0x1000;
const MESG_ID: u64 = 0xe8e8_e8e8_8000_0000;

fn vector(text: &str, label: &str) -> Vec<u8> {
    vectors(text).into_iter().find(|(l, _)| *l == label).unwrap_or_else(|| panic!("no vector {label}")).1
}

fn key() -> Vec<u8> {
    (0x30..0x44).collect()
}

fn expected_bu(seq: u16, mesg_id: u64, authenticator: Vec<u8>, extra: Option<MobilityOption>) -> MhMessage {
    let mut options = vec![
        MobilityOption::MesgId(mesg_id),
        MobilityOption::Ipv4HomeAddress { prefix_len: 32, p: false, addr: Ipv4Addr::UNSPECIFIED },
    ];
    options.extend(extra);
    options.push(MobilityOption::Auth { subtype: 1, spi: SPI, data: authenticator });
    MhMessage::BindingUpdate(BindingUpdate { seq, flags: bu_flags::A | bu_flags::H, lifetime: 100, options })
}

#[test]
fn scapys_binding_updates_parse_to_the_generators_values() {
    let p = parse_packet(&vector(RECEIVED, "bu_v6")).unwrap();
    assert_eq!(p.framing, Framing::Ipv6 { src: COA6, dst: HA6, home_address: Some(HOA), routing_home: None });
    assert_eq!(p.msg, expected_bu(7, MESG_ID, vector(AUTH, "authenticator"), None));
    let p = parse_packet(&vector(RECEIVED, "bu_udp4")).unwrap();
    let framing =
        Framing::Udp4 { src: NAT, dst: HA4, src_port: NAT_PORT, dst_port: 4191, inner_src: HOA, inner_dst: HA6 };
    assert_eq!(p.framing, framing);
    let MhMessage::BindingUpdate(bu) = &p.msg else { panic!("not a BU") };
    let Some(MobilityOption::Auth { data, .. }) = bu.options.last() else { panic!("no AUTH last") };
    let want = expected_bu(8, MESG_ID + 1, data.clone(), Some(MobilityOption::Ipv4CareOf(COA4)));
    assert_eq!(p.msg, want);
}

/// A home agent with the generator's association, and the answers to
/// both of scapy's Binding Updates.
fn answers() -> Vec<Output> {
    let cfg = Ha6Config {
        address: HA6,
        mobile_nodes: vec![MobileNode { mn_id: None, hoa: HOA, spi: SPI, key: key(), ipv4_hoa: None }],
        ipv4_pools: vec![anchor_config::Ipv4Pool {
            subnet: "203.0.113.0/24".parse().unwrap(),
            default_router: "203.0.113.1".parse().unwrap(),
            exclude: vec![],
        }],
        ..Ha6Config::default()
    };
    let mut ha = Ha6::new(cfg);
    let now = Instant::now();
    let mut out = ha.handle(&vector(RECEIVED, "bu_v6"), now, wall0());
    out.extend(ha.handle(&vector(RECEIVED, "bu_udp4"), now, wall0()));
    out
}

#[test]
fn a_home_agent_with_the_generators_key_accepts_both_of_scapys_binding_updates() {
    let out = answers();
    let statuses: Vec<(u8, u16)> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send { ba, .. } => Some((ba.status, ba.seq)),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [(0, 7), (0, 8)]);
}

/// `frames` decoded by tshark with UDP 4191 as IPv6 (ORACLES.md §1);
/// None when tshark is not installed.
fn tshark_4191(frames: &[Vec<u8>], fields: &[&str]) -> Option<Vec<Vec<String>>> {
    use std::io::Write;
    let mut pcap = Vec::new();
    for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        pcap.extend_from_slice(&word.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let len = u32::try_from(f.len()).unwrap();
        for word in [1_700_000_000 + u32::try_from(i).unwrap(), 0, len, len] {
            pcap.extend_from_slice(&word.to_le_bytes());
        }
        pcap.extend_from_slice(f);
    }
    let mut cmd = Command::new("tshark");
    cmd.args(["-r", "-", "-n", "-d", "udp.port==4191,ipv6", "-o", "ip.check_checksum:TRUE"]);
    cmd.args(["-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "aggregator=;", "-E", "header=n"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let mut child = match cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("note: tshark not found (scripts/setup.sh installs it)");
            return None;
        }
        Err(e) => panic!("cannot run tshark: {e}"),
    };
    child.stdin.take().unwrap().write_all(&pcap).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Vec<String>> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), frames.len());
    Some(rows)
}

#[test]
fn tshark_decodes_our_binding_acknowledgements_with_the_expected_values() {
    let mut frames = Vec::new();
    for o in answers() {
        if let Output::Send { dst, packet, .. } = o {
            let ethertype: [u8; 2] = match dst {
                IpAddr::V6(_) => [0x86, 0xdd],
                IpAddr::V4(_) => [0x08, 0x00],
            };
            let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ethertype[0], ethertype[1]];
            f.extend_from_slice(&packet);
            frames.push(f);
        }
    }
    assert_eq!(frames.len(), 2);
    let fields = [
        "mip6.proto",
        "mip6.mhtype",
        "mip6.ba.status",
        "mip6.ba.k_flag",
        "mip6.ba.seqnr",
        "mip6.ba.lifetime",
        "mip6.ipv4aa.sts",
        "mip6.ipv4ha.preflen",
        "mip6.ipv4ha.ha",
        "mip6.natd.f_flag",
        "mip6.natd.refresh_t",
        "mip6.auth.subtype",
        "mip6.auth.mobility_spi",
        "ipv6.routing.type",
        "ipv6.routing.segleft",
        "ipv6.routing.mipv6.home_address",
        "ipv6.dst",
        "ip.dst",
        "udp.srcport",
        "udp.dstport",
        "ip.checksum.status",
        "udp.checksum.status",
        "_ws.malformed",
        "_ws.expert.severity",
    ];
    let Some(rows) = tshark_4191(&frames, &fields) else { return };
    let want: [Vec<(&str, &str)>; 2] = [
        vec![
            ("mip6.proto", "59"),
            ("mip6.mhtype", "6"),
            ("mip6.ba.status", "0"),
            ("mip6.ba.k_flag", "0"),
            ("mip6.ba.seqnr", "7"),
            ("mip6.ba.lifetime", "100"),
            ("mip6.ipv4aa.sts", "0"),
            ("mip6.ipv4ha.preflen", "24"),
            ("mip6.ipv4ha.ha", "203.0.113.2"),
            ("mip6.natd.f_flag", ""),
            ("mip6.auth.subtype", "1"),
            ("mip6.auth.mobility_spi", "4096"),
            ("ipv6.routing.type", "2"),
            ("ipv6.routing.segleft", "1"),
            ("ipv6.routing.mipv6.home_address", "2001:db8:100::10"),
            ("ipv6.dst", "2001:db8:200::20"),
            ("_ws.malformed", ""),
        ],
        vec![
            ("mip6.proto", "59"),
            ("mip6.mhtype", "6"),
            ("mip6.ba.status", "0"),
            ("mip6.ba.seqnr", "8"),
            ("mip6.ba.lifetime", "100"),
            ("mip6.ipv4aa.sts", "0"),
            ("mip6.ipv4ha.ha", "203.0.113.2"),
            ("mip6.natd.f_flag", "0"),
            ("mip6.natd.refresh_t", "110"),
            ("mip6.auth.subtype", "1"),
            ("mip6.auth.mobility_spi", "4096"),
            ("ipv6.routing.type", ""),
            ("ipv6.dst", "2001:db8:100::10"),
            ("ip.dst", "198.51.100.99"),
            ("udp.srcport", "4191"),
            ("udp.dstport", "40000"),
            ("ip.checksum.status", "1"),
            ("udp.checksum.status", "1"),
            ("_ws.malformed", ""),
        ],
    ];
    let mut failures = Vec::new();
    for (i, (row, want)) in rows.iter().zip(&want).enumerate() {
        let got = |name: &str| row[fields.iter().position(|f| *f == name).unwrap()].clone();
        for (name, value) in want {
            let g = normalise(&got(name)).join(";");
            if g != *value {
                failures.push(format!("frame {i}: {name} = {g:?}, want {value:?}"));
            }
        }
        for s in normalise(&got("_ws.expert.severity")).iter().filter(|s| !s.is_empty()) {
            if s.parse::<u64>().map_or(true, |s| s >= PI_WARN) {
                failures.push(format!("frame {i}: expert severity {s}"));
            }
        }
    }
    assert!(failures.is_empty(), "tshark disagrees:\n{}", failures.join("\n"));
}
