//! The operator interface: a unix-socket server in the daemon (one line of
//! JSON in, one line of JSON out per request) and the `anchorctl` client.
//! The server only parses and forwards; the control thread answers.

pub mod client;
pub mod render;
pub mod server;

use serde::{Deserialize, Serialize};

/// Commands the daemon understands, with their help text. The client checks
/// a command against this list before connecting.
pub const COMMANDS: &[(&str, &str)] = &[
    ("show version", "daemon and DPDK versions, uptime, workers"),
    ("show ports", "ports: driver, MAC, link, queues, addresses, hardware counters"),
    ("show stats", "per port and per worker: rx, tx, dropped, punted, punt-ring full; drop reasons; sessions by role and state, forwarding-table use, uptime, role counters (also served as Prometheus text when metrics.listen is set)"),
    ("show neighbors", "ARP/ND neighbour table of the control thread"),
    (
        "show proxy",
        "home addresses answered for on home links (port home_link = true; proxy ARP after gratuitous ARP, proxy ND after DAD): port, address, state (tentative during DAD, active), owning binding, the mobile node's own MAC when known, answers sent; counters in show stats home_link",
    ),
    (
        "show bindings",
        "mobility bindings: addresses, care-of address, tunnel, keys, lifetime; filtered by any of: role <pmip6|mip4|dsmip6|static> (lma, ha accepted), state <state>, peer <MAG, FA or care-of address>, mn-id <prefix>, address <home address, or an address inside a home network prefix>, e.g. `show bindings role pmip6 peer 2001:db8:1::2`",
    ),
    ("show peers", "configured MAGs (with their RFC 5847 heartbeat state) and foreign agents / PMAs, each with the sessions it holds"),
    ("show pools", "every address and prefix pool of every role: size, in use, withheld (excluded, default routers, static), free"),
    (
        "show binding <mn-id|address|id>",
        "the matching bindings in full: every field, with the RFC 5563 access technology, Interface, Device and Subscriber IDs of a proxy MIPv4 registration, and the packets and bytes the workers forwarded for it since it was installed (packets_down/bytes_down towards the mobile node, packets_up/bytes_up from it; Ethernet frames as sent)",
    ),
    ("set log-level <level>", "changes the log filter at once (a level: error, warn, info, debug, trace, off; or a tracing directive list such as info,control::pmip6=debug); until the next reload or restart"),
    ("reload", "re-reads the configuration file (as SIGHUP does) and applies what may change live: profiles, MAG and FA peers, mobile node keys (MIPv4 and DSMIPv6), pool growth, timers, log level, overload limits; anything else changed is refused naming its key, and nothing is applied then; sessions are untouched"),
    ("clear binding <mn-id|address>", "revoke a binding: Binding Revocation to its MAG (PMIPv6), Registration Revocation to its FA, PMA or mobile node (MIPv4, RFC 3543), then removal"),
    (
        "clear binding mag <address>",
        "revoke every binding of one MAG: one global Binding Revocation (G = 1), then removal",
    ),
];

/// One request line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The command words joined by one space, e.g. "show ports".
    pub command: String,
}

/// One reply line: either `data` or `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Reply {
    pub fn data(v: serde_json::Value) -> Reply {
        Reply { ok: true, data: Some(v), error: None }
    }
    pub fn error(msg: impl Into<String>) -> Reply {
        Reply { ok: false, data: None, error: Some(msg.into()) }
    }
}

/// Normalises command words ("show  neighbours" → "show neighbors") and
/// checks the command exists.
pub fn parse_command(words: &[String]) -> Result<String, String> {
    // Commands with an argument: the argument is taken verbatim.
    match words {
        [verb, noun, arg] if verb == "clear" && matches!(noun.as_str(), "binding" | "bindings") => {
            return Ok(format!("clear binding {arg}"));
        }
        [verb, noun, arg] if verb == "show" && matches!(noun.as_str(), "binding" | "bindings") => {
            return Ok(format!("show binding {arg}"));
        }
        [verb, noun, kind, arg]
            if verb == "clear" && matches!(noun.as_str(), "binding" | "bindings") && kind == "mag" =>
        {
            return Ok(format!("clear binding mag {arg}"));
        }
        [verb, noun, filters @ ..]
            if verb == "show" && matches!(noun.as_str(), "binding" | "bindings") && filters.len() >= 2 =>
        {
            return bindings_filter(filters).map(|f| format!("show bindings {f}"));
        }
        [verb, noun, level] if verb == "set" && matches!(noun.as_str(), "log-level" | "loglevel" | "log") => {
            return Ok(format!("set log-level {level}"));
        }
        _ => {}
    }
    let joined = words
        .iter()
        .map(|w| match w.as_str() {
            "neighbours" | "neighbour" | "neighbor" | "neigh" => "neighbors",
            "port" => "ports",
            "pool" => "pools",
            "peer" => "peers",
            "binding" => "bindings",
            "stat" | "statistics" => "stats",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ");
    if COMMANDS.iter().any(|(c, _)| *c == joined) {
        Ok(joined)
    } else {
        Err(format!("unknown command {joined:?}; try `anchorctl help`"))
    }
}

/// The filter keys of `show bindings`.
pub const BINDING_FILTERS: [&str; 5] = ["role", "state", "peer", "mn-id", "address"];

/// Checks `show bindings` filter words (key value pairs) and returns them
/// in their canonical form, `key value` joined by spaces.
fn bindings_filter(words: &[String]) -> Result<String, String> {
    if !words.len().is_multiple_of(2) {
        return Err(format!(
            "show bindings filters come in pairs (key value); {:?} has no value",
            words.last().map(String::as_str).unwrap_or_default()
        ));
    }
    let mut out = Vec::new();
    for pair in words.chunks(2) {
        let key = match pair[0].as_str() {
            "mn_id" | "mnid" => "mn-id",
            "addr" => "address",
            k => k,
        };
        if !BINDING_FILTERS.contains(&key) {
            return Err(format!(
                "unknown show bindings filter {key:?}; the filters are {}",
                BINDING_FILTERS.join(", ")
            ));
        }
        out.push(format!("{key} {}", pair[1]));
    }
    Ok(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn british_spelling_of_neighbours_is_accepted() {
        assert_eq!(parse_command(&words("show neighbours")).as_deref(), Ok("show neighbors"));
    }

    #[test]
    fn bindings_filters_are_pairs_of_known_keys_in_canonical_form() {
        assert_eq!(
            parse_command(&words("show bindings role lma mn_id dual@")).as_deref(),
            Ok("show bindings role lma mn-id dual@")
        );
        assert_eq!(parse_command(&words("show bindings")).as_deref(), Ok("show bindings"));
        assert_eq!(parse_command(&words("show binding 203.0.113.5")).as_deref(), Ok("show binding 203.0.113.5"));
        let e = parse_command(&words("show bindings role lma state")).unwrap_err();
        assert!(e.contains("pairs") && e.contains("state"), "{e}");
        let e = parse_command(&words("show bindings colour red")).unwrap_err();
        assert!(e.contains("colour") && e.contains("mn-id"), "{e}");
    }

    #[test]
    fn set_log_level_and_reload_are_commands() {
        assert_eq!(parse_command(&words("set log-level debug")).as_deref(), Ok("set log-level debug"));
        assert_eq!(parse_command(&words("reload")).as_deref(), Ok("reload"));
        assert_eq!(parse_command(&words("show peers")).as_deref(), Ok("show peers"));
        assert_eq!(parse_command(&words("show pools")).as_deref(), Ok("show pools"));
    }

    #[test]
    fn unknown_command_is_refused_with_a_hint() {
        let e = parse_command(&words("show frobs")).unwrap_err();
        assert!(e.contains("show frobs") && e.contains("help"), "{e}");
    }

    #[test]
    fn reply_round_trips_through_json() {
        let r = Reply::error("boom");
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Reply>(&s).unwrap(), r);
    }

    #[test]
    fn show_binding_keeps_its_argument_verbatim() {
        assert_eq!(
            parse_command(&words("show binding host@anchor.test")).as_deref(),
            Ok("show binding host@anchor.test")
        );
        assert_eq!(parse_command(&words("show bindings 203.0.113.2")).as_deref(), Ok("show binding 203.0.113.2"));
        assert_eq!(parse_command(&words("show bindings")).as_deref(), Ok("show bindings"));
    }

    #[test]
    fn clear_binding_keeps_its_argument_verbatim() {
        assert_eq!(
            parse_command(&words("clear binding dual@anchor.test")).as_deref(),
            Ok("clear binding dual@anchor.test")
        );
        assert_eq!(parse_command(&words("clear bindings 203.0.113.2")).as_deref(), Ok("clear binding 203.0.113.2"));
    }

    #[test]
    fn clear_binding_mag_keeps_the_mags_address() {
        assert_eq!(
            parse_command(&words("clear bindings mag 2001:db8:1::2")).as_deref(),
            Ok("clear binding mag 2001:db8:1::2")
        );
        assert!(parse_command(&words("clear binding peer 2001:db8:1::2")).is_err());
    }
}
