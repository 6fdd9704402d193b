//! The DSMIPv6 home agent (RFC 6275 home registration, RFC 5555 dual
//! stack, RFC 4285 authentication; PROTOCOLS.md §11). This step holds the
//! RFC 4285 authentication (`auth`); the state machine follows.

pub mod auth;
