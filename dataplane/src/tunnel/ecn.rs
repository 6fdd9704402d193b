//! ECN across tunnels, RFC 6040 (PROTOCOLS.md §12.4).

/// Not-ECT, ECT(1), ECT(0), CE as the two low bits of TOS / Traffic Class.
pub const NOT_ECT: u8 = 0b00;
pub const ECT1: u8 = 0b01;
pub const ECT0: u8 = 0b10;
pub const CE: u8 = 0b11;

/// The outer ECN field on encapsulation: normal mode copies the inner one
/// (CE included); compatibility mode writes Not-ECT.
#[inline]
pub fn encap(inner: u8, compat: bool) -> u8 {
    if compat {
        NOT_ECT
    } else {
        inner & 0b11
    }
}

/// The inner ECN field after decapsulation, or `None` when the packet must be
/// dropped (inner Not-ECT, outer CE). RFC 6040 §4.2, row = inner, column = outer.
#[inline]
pub fn decap(inner: u8, outer: u8) -> Option<u8> {
    let (inner, outer) = (inner & 0b11, outer & 0b11);
    match (inner, outer) {
        (NOT_ECT, CE) => None,
        (NOT_ECT, _) => Some(NOT_ECT),
        (CE, _) => Some(CE),
        (_, CE) => Some(CE),
        (ECT0, ECT1) => Some(ECT1),
        (i, _) => Some(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decapsulation_follows_the_rfc_6040_table_cell_by_cell() {
        // Rows: inner Not-ECT, ECT(0), ECT(1), CE; columns: outer Not-ECT, ECT(0), ECT(1), CE.
        let cols = [NOT_ECT, ECT0, ECT1, CE];
        let table: [(u8, [Option<u8>; 4]); 4] = [
            (NOT_ECT, [Some(NOT_ECT), Some(NOT_ECT), Some(NOT_ECT), None]),
            (ECT0, [Some(ECT0), Some(ECT0), Some(ECT1), Some(CE)]),
            (ECT1, [Some(ECT1), Some(ECT1), Some(ECT1), Some(CE)]),
            (CE, [Some(CE), Some(CE), Some(CE), Some(CE)]),
        ];
        for (inner, row) in table {
            for (outer, want) in cols.iter().zip(row) {
                assert_eq!(decap(inner, *outer), want, "inner {inner:02b} outer {outer:02b}");
            }
        }
    }

    #[test]
    fn normal_mode_copies_every_codepoint_including_ce_and_compat_writes_not_ect() {
        for cp in [NOT_ECT, ECT0, ECT1, CE] {
            assert_eq!(encap(cp, false), cp);
            assert_eq!(encap(cp, true), NOT_ECT);
        }
    }

    #[test]
    fn dscp_bits_do_not_leak_into_ecn() {
        assert_eq!(encap(0xb8 | ECT0, false), ECT0);
        assert_eq!(decap(0xb8 | ECT0, 0x04 | CE), Some(CE));
    }
}
