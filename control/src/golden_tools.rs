//! What the golden-packet tests of the codecs share (`proto::golden`,
//! `mip4::golden`): reading the `label hex` vector files the scapy
//! generators write, and decoding frames with tshark in one run.

use std::process::Command;

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit")).collect()
}

/// The `label hex` lines of a vector file.
pub(crate) fn vectors(text: &str) -> Vec<(&str, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (label, h) = l.split_once(' ').expect("`label hex` line");
            (label, unhex(h.trim()))
        })
        .collect()
}

/// A classic pcap file (Ethernet) holding `frames`, for tshark's stdin;
/// frame i is stamped Unix 1700000000 + i seconds.
fn pcap_file(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let len = u32::try_from(f.len()).unwrap();
        for word in [1_700_000_000 + u32::try_from(i).unwrap(), 0, len, len] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    out
}

/// Runs tshark once over `frames` (one run: it takes a while to start) and
/// returns each frame's values of `fields`, tab-separated columns; None,
/// with a note, when tshark is not installed (scripts/setup.sh installs it).
pub(crate) fn tshark(frames: &[Vec<u8>], fields: &[&str]) -> Option<Vec<Vec<String>>> {
    use std::io::Write;
    use std::process::Stdio;

    let mut cmd = Command::new("tshark");
    cmd.args(["-r", "-", "-n", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]);
    cmd.args(["-T", "fields", "-E", "aggregator=;", "-E", "header=n"]);
    // Timestamps are printed in local time unless TZ says otherwise.
    cmd.env("TZ", "UTC");
    for name in fields {
        cmd.args(["-e", name]);
    }
    let mut child = match cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("note: tshark not found (scripts/setup.sh installs it)");
            return None;
        }
        Err(e) => panic!("cannot run tshark: {e}"),
    };
    child.stdin.take().expect("stdin").write_all(&pcap_file(frames)).expect("write to tshark");
    let out = child.wait_with_output().expect("tshark output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {stderr}");
    let rows: Vec<Vec<String>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .collect();
    assert_eq!(rows.len(), frames.len(), "tshark decoded {} of {} frames: {stderr}", rows.len(), frames.len());
    for row in &rows {
        assert_eq!(row.len(), fields.len(), "tshark columns: {row:?}");
    }
    Some(rows)
}

/// tshark's text for one field, every occurrence normalised: hex and
/// booleans become decimal numbers, the rest (addresses, bytes, dates,
/// text) stays.
pub(crate) fn normalise(v: &str) -> Vec<String> {
    v.split(';')
        .map(|x| match x {
            "True" => "1".to_string(),
            "False" => "0".to_string(),
            _ => match x.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).map_or_else(|_| x.to_string(), |n| n.to_string()),
                None => x.to_string(),
            },
        })
        .collect()
}

/// Wireshark's expert severity for a warning (PI_WARN); errors are above.
pub(crate) const PI_WARN: u64 = 0x0060_0000;
