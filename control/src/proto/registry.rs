//! Value registries of the Mobility Header (PROTOCOLS.md §2.5, §2.11), named
//! as the standards name them. Values marked "IANA" come from the registry
//! snapshot only, not from the defining RFC's text (PROTOCOLS.md §15).

/// (Proxy) Binding Acknowledgement status (IANA "Status Codes", PROTOCOLS.md
/// §2.11.5): below 128 accepted, 128 and above rejected.
pub mod status {
    /// Binding Update accepted / Proxy Binding Update accepted (RFC 6275, 5213).
    pub const ACCEPTED: u8 = 0;
    /// Accepted but prefix discovery necessary (RFC 6275).
    pub const ACCEPTED_PREFIX_DISCOVERY_NECESSARY: u8 = 1;
    /// RFC 5845.
    pub const GRE_KEY_OPTION_NOT_REQUIRED: u8 = 2;
    /// RFC 5845.
    pub const GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED: u8 = 3;
    /// MCOA NOTCOMPLETE (RFC 5648).
    pub const MCOA_NOTCOMPLETE: u8 = 4;
    /// MCOA RETURNHOME WO/NDP (RFC 5648).
    pub const MCOA_RETURNHOME_WO_NDP: u8 = 5;
    /// RFC 6058.
    pub const PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH: u8 = 6;

    /// First rejecting status: `status >= REJECTED` is a reject (PROTOCOLS.md §14 #10).
    pub const REJECTED: u8 = 128;
    /// Reason unspecified (RFC 6275).
    pub const REASON_UNSPECIFIED: u8 = 128;
    /// Administratively prohibited (RFC 6275).
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    /// Insufficient resources (RFC 6275).
    pub const INSUFFICIENT_RESOURCES: u8 = 130;
    /// Home registration not supported (RFC 6275).
    pub const HOME_REGISTRATION_NOT_SUPPORTED: u8 = 131;
    /// Not home subnet (RFC 6275).
    pub const NOT_HOME_SUBNET: u8 = 132;
    /// Not home agent for this mobile node (RFC 6275).
    pub const NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE: u8 = 133;
    /// Duplicate Address Detection failed (RFC 6275).
    pub const DUPLICATE_ADDRESS_DETECTION_FAILED: u8 = 134;
    /// Sequence number out of window (RFC 6275); the BA carries the last accepted number.
    pub const SEQUENCE_NUMBER_OUT_OF_WINDOW: u8 = 135;
    /// Expired home nonce index (RFC 6275).
    pub const EXPIRED_HOME_NONCE_INDEX: u8 = 136;
    /// Expired care-of nonce index (RFC 6275).
    pub const EXPIRED_CARE_OF_NONCE_INDEX: u8 = 137;
    /// Expired nonces (RFC 6275).
    pub const EXPIRED_NONCES: u8 = 138;
    /// Registration type change disallowed (RFC 6275).
    pub const REGISTRATION_TYPE_CHANGE_DISALLOWED: u8 = 139;
    /// Mobile Router Operation not permitted (RFC 3963).
    pub const MOBILE_ROUTER_OPERATION_NOT_PERMITTED: u8 = 140;
    /// Invalid Prefix (RFC 3963).
    pub const INVALID_PREFIX: u8 = 141;
    /// Not Authorized for Prefix (RFC 3963).
    pub const NOT_AUTHORIZED_FOR_PREFIX: u8 = 142;
    /// Forwarding Setup failed (RFC 3963).
    pub const FORWARDING_SETUP_FAILED: u8 = 143;
    /// MIPV6-ID-MISMATCH: the MESG-ID timestamp is invalid (RFC 4285).
    pub const MIPV6_ID_MISMATCH: u8 = 144;
    /// MIPV6-MESG-ID-REQD (RFC 4285).
    pub const MIPV6_MESG_ID_REQD: u8 = 145;
    /// MIPV6-AUTH-FAIL (RFC 4285).
    pub const MIPV6_AUTH_FAIL: u8 = 146;
    /// Permanent home keygen token unavailable (RFC 4866).
    pub const PERMANENT_HOME_KEYGEN_TOKEN_UNAVAILABLE: u8 = 147;
    /// CGA and signature verification failed (RFC 4866).
    pub const CGA_AND_SIGNATURE_VERIFICATION_FAILED: u8 = 148;
    /// Permanent home keygen token exists (RFC 4866).
    pub const PERMANENT_HOME_KEYGEN_TOKEN_EXISTS: u8 = 149;
    /// Non-null home nonce index expected (RFC 4866).
    pub const NON_NULL_HOME_NONCE_INDEX_EXPECTED: u8 = 150;
    /// RFC 5149.
    pub const SERVICE_AUTHORIZATION_FAILED: u8 = 151;
    /// RFC 5213.
    pub const PROXY_REG_NOT_ENABLED: u8 = 152;
    /// RFC 5213.
    pub const NOT_LMA_FOR_THIS_MOBILE_NODE: u8 = 153;
    /// RFC 5213.
    pub const MAG_NOT_AUTHORIZED_FOR_PROXY_REG: u8 = 154;
    /// RFC 5213.
    pub const NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX: u8 = 155;
    /// RFC 5213.
    pub const TIMESTAMP_MISMATCH: u8 = 156;
    /// RFC 5213.
    pub const TIMESTAMP_LOWER_THAN_PREV_ACCEPTED: u8 = 157;
    /// RFC 5213.
    pub const MISSING_HOME_NETWORK_PREFIX_OPTION: u8 = 158;
    /// RFC 5213.
    pub const BCE_PBU_PREFIX_SET_DO_NOT_MATCH: u8 = 159;
    /// RFC 5213.
    pub const MISSING_MN_IDENTIFIER_OPTION: u8 = 160;
    /// RFC 5213.
    pub const MISSING_HANDOFF_INDICATOR_OPTION: u8 = 161;
    /// RFC 5213.
    pub const MISSING_ACCESS_TECH_TYPE_OPTION: u8 = 162;
    /// RFC 5845.
    pub const GRE_KEY_OPTION_REQUIRED: u8 = 163;
    /// MCOA MALFORMED (RFC 5648).
    pub const MCOA_MALFORMED: u8 = 164;
    /// MCOA NON-MCOA BINDING EXISTS (RFC 5648).
    pub const MCOA_NON_MCOA_BINDING_EXISTS: u8 = 165;
    /// MCOA PROHIBITED (RFC 5648).
    pub const MCOA_PROHIBITED: u8 = 166;
    /// MCOA UNKNOWN COA (RFC 5648).
    pub const MCOA_UNKNOWN_COA: u8 = 167;
    /// MCOA BULK REGISTRATION PROHIBITED (RFC 5648).
    pub const MCOA_BULK_REGISTRATION_PROHIBITED: u8 = 168;
    /// MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED (RFC 5648).
    pub const MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED: u8 = 169;
    /// RFC 5844.
    pub const NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE: u8 = 170;
    /// RFC 5844.
    pub const NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS: u8 = 171;
    /// RFC 5844.
    pub const NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE: u8 = 172;
    /// RFC 5844.
    pub const MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED: u8 = 173;
    /// Invalid Care-of Address (RFC 6275).
    pub const INVALID_CARE_OF_ADDRESS: u8 = 174;
    /// RFC 6602 (IANA).
    pub const INVALID_MOBILE_NODE_GROUP_IDENTIFIER: u8 = 175;
    /// RFC 6618 (IANA).
    pub const REINIT_SA_WITH_HAC: u8 = 176;
    /// RFC 7148 (IANA).
    pub const NOT_AUTHORIZED_FOR_DELEGATED_MNP: u8 = 177;
    /// RFC 7148 (IANA).
    pub const REQUESTED_DMNP_IN_USE: u8 = 178;
    /// RFC 7222 (IANA).
    pub const CANNOT_MEET_QOS_SERVICE_REQUEST: u8 = 179;
    /// RFC 8278 (IANA).
    pub const CANNOT_SUPPORT_MULTIPATH_BINDING: u8 = 180;
}

/// Binding Error status (RFC 6275 §6.1.9, PROTOCOLS.md §2.5).
pub mod be_status {
    /// Unknown binding for Home Address destination option.
    pub const UNKNOWN_BINDING_FOR_HOME_ADDRESS_DEST_OPTION: u8 = 1;
    /// Unrecognized MH Type value: the answer to [`super::super::MhError::UnknownType`].
    pub const UNRECOGNIZED_MH_TYPE: u8 = 2;
}

/// IPv4 Home Address Reply status, option 37 (RFC 5844, PROTOCOLS.md
/// §2.11.3): 0–127 success, 128–255 failure.
pub mod hoa_reply_status {
    pub const SUCCESS: u8 = 0;
    pub const FAILURE_REASON_UNSPECIFIED: u8 = 128;
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    pub const INCORRECT_IPV4_HOME_ADDRESS: u8 = 130;
    pub const INVALID_IPV4_ADDRESS: u8 = 131;
    pub const DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE: u8 = 132;
}

/// IPv4 Address Acknowledgement status, option 30 (RFC 5555, PROTOCOLS.md
/// §2.11.4): below 128 success.
pub mod ipv4_ack_status {
    pub const SUCCESS: u8 = 0;
    pub const FAILURE_REASON_UNSPECIFIED: u8 = 128;
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    pub const INCORRECT_IPV4_HOME_ADDRESS: u8 = 130;
    pub const INVALID_IPV4_ADDRESS: u8 = 131;
    pub const DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE: u8 = 132;
    pub const PREFIX_ALLOCATION_UNAUTHORIZED: u8 = 133;
}

/// Binding Revocation Indication trigger (RFC 5846, PROTOCOLS.md §2.11.6).
/// Below 128 per mobile node; 128 and 129 only with G = 1; 250–255 testing.
pub mod revocation_trigger {
    pub const UNSPECIFIED: u8 = 0;
    pub const ADMINISTRATIVE_REASON: u8 = 1;
    pub const INTER_MAG_HANDOVER_SAME_ACCESS_TYPE: u8 = 2;
    pub const INTER_MAG_HANDOVER_DIFFERENT_ACCESS_TYPE: u8 = 3;
    pub const INTER_MAG_HANDOVER_UNKNOWN: u8 = 4;
    pub const USER_INITIATED_SESSION_TERMINATION: u8 = 5;
    pub const ACCESS_NETWORK_SESSION_TERMINATION: u8 = 6;
    pub const POSSIBLE_OUT_OF_SYNC_BCE_STATE: u8 = 7;
    pub const PER_PEER_POLICY: u8 = 128;
    pub const REVOKING_MOBILITY_NODE_LOCAL_POLICY: u8 = 129;
}

/// Binding Revocation Acknowledgement status (RFC 5846, PROTOCOLS.md §2.11.7).
pub mod bra_status {
    pub const SUCCESS: u8 = 0;
    pub const PARTIAL_SUCCESS: u8 = 1;
    pub const BINDING_DOES_NOT_EXIST: u8 = 128;
    pub const IPV4_HOME_ADDRESS_OPTION_REQUIRED: u8 = 129;
    pub const GLOBAL_REVOCATION_NOT_AUTHORIZED: u8 = 130;
    pub const REVOKED_MOBILE_NODES_IDENTITY_REQUIRED: u8 = 131;
    pub const REVOCATION_FAILED_MN_IS_ATTACHED: u8 = 132;
    pub const REVOCATION_TRIGGER_NOT_SUPPORTED: u8 = 133;
    pub const REVOCATION_FUNCTION_NOT_SUPPORTED: u8 = 134;
    pub const PROXY_BINDING_REVOCATION_NOT_SUPPORTED: u8 = 135;
}

/// Handoff Indicator values, option 23 (RFC 5213, PROTOCOLS.md §2.11.1).
pub mod handoff {
    pub const RESERVED: u8 = 0;
    pub const ATTACHMENT_OVER_NEW_INTERFACE: u8 = 1;
    pub const HANDOFF_BETWEEN_DIFFERENT_INTERFACES: u8 = 2;
    pub const HANDOFF_BETWEEN_MAGS_SAME_INTERFACE: u8 = 3;
    pub const HANDOFF_STATE_UNKNOWN: u8 = 4;
    pub const HANDOFF_STATE_NOT_CHANGED: u8 = 5;
}

/// Access Technology Type values, option 24 (RFC 5213 and IANA, PROTOCOLS.md §2.11.2).
pub mod att {
    pub const RESERVED: u8 = 0;
    /// Virtual (logical interface).
    pub const VIRTUAL: u8 = 1;
    pub const PPP: u8 = 2;
    pub const IEEE_802_3: u8 = 3;
    pub const IEEE_802_11ABG: u8 = 4;
    pub const IEEE_802_16E: u8 = 5;
    /// 3GPP GERAN (IANA).
    pub const GERAN_3GPP: u8 = 6;
    /// 3GPP UTRAN (IANA).
    pub const UTRAN_3GPP: u8 = 7;
    /// 3GPP E-UTRAN (IANA).
    pub const E_UTRAN_3GPP: u8 = 8;
    /// 3GPP2 eHRPD (IANA).
    pub const EHRPD_3GPP2: u8 = 9;
    /// 3GPP2 HRPD (IANA).
    pub const HRPD_3GPP2: u8 = 10;
    /// 3GPP2 1xRTT (IANA).
    pub const ONE_X_RTT_3GPP2: u8 = 11;
    /// 3GPP2 UMB (IANA).
    pub const UMB_3GPP2: u8 = 12;
    /// 3GPP NB-IoT (IANA snapshot only).
    pub const NB_IOT_3GPP: u8 = 13;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_codes_are_below_128_and_rejects_at_or_above() {
        for accept in
            [status::ACCEPTED, status::GRE_KEY_OPTION_NOT_REQUIRED, status::PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH]
        {
            assert!(accept < status::REJECTED);
        }
        for reject in
            [status::REASON_UNSPECIFIED, status::GRE_KEY_OPTION_REQUIRED, status::CANNOT_SUPPORT_MULTIPATH_BINDING]
        {
            assert!(reject >= status::REJECTED);
        }
    }

    /// Spot checks against PROTOCOLS.md §2.11.5 and tshark 4.0.17's table.
    #[test]
    fn pmipv6_status_values_match_the_registry() {
        assert_eq!(status::SEQUENCE_NUMBER_OUT_OF_WINDOW, 135);
        assert_eq!(status::PROXY_REG_NOT_ENABLED, 152);
        assert_eq!(status::MISSING_ACCESS_TECH_TYPE_OPTION, 162);
        assert_eq!(status::GRE_KEY_OPTION_REQUIRED, 163);
        assert_eq!(status::NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE, 170);
        assert_eq!(status::MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED, 173);
        assert_eq!(hoa_reply_status::DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE, 132);
        assert_eq!(bra_status::PROXY_BINDING_REVOCATION_NOT_SUPPORTED, 135);
        assert_eq!(revocation_trigger::REVOKING_MOBILITY_NODE_LOCAL_POLICY, 129);
        assert_eq!(handoff::HANDOFF_STATE_NOT_CHANGED, 5);
        assert_eq!(att::UMB_3GPP2, 12);
    }
}
