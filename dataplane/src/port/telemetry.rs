//! DPDK telemetry commands of our own, answered next to DPDK's (`/ethdev/stats`
//! and the rest) on the EAL's telemetry socket
//! (`/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2`, read by the stock
//! `dpdk-telemetry.py -f <file-prefix>`).
//!
//! DPDK calls a command's callback on its telemetry thread (one per client
//! connection) with no user pointer, so one trampoline serves every command
//! and finds the Rust handler in a process-wide registry by the command's
//! name. A handler returns a small tree of [`TelValue`]s; [`fill`] turns it
//! into `rte_tel_data` within DPDK 22.11's limits: names of at most 63
//! characters out of `[A-Za-z0-9_/]` (what later DPDK versions enforce),
//! strings of at most 127, 256 entries per dict or array, and two levels
//! (the reply, and containers inside it holding scalars only: DPDK renders
//! no deeper); deeper levels are flattened into `outer/inner` names.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, CStr};
use std::ffi::CString;
use std::sync::{Arc, Mutex, OnceLock};

use dpdk_sys as sys;

/// Longest dict entry name kept (bytes).
pub const MAX_NAME: usize = 63;
/// Longest string value kept (bytes).
pub const MAX_STRING: usize = 127;
/// Most entries kept per dict or array.
pub const MAX_ENTRIES: usize = 256;
/// Longest command name DPDK 22.11 accepts (`MAX_CMD_LEN` less the NUL).
pub const MAX_COMMAND: usize = 55;
/// Longest help text DPDK keeps (`RTE_TEL_MAX_STRING_LEN` less the NUL).
pub const MAX_HELP: usize = 127;

/// One value of a telemetry reply.
#[derive(Debug, Clone, PartialEq)]
pub enum TelValue {
    U64(u64),
    Int(i64),
    Str(String),
    /// Named entries, in order.
    Dict(Vec<(String, TelValue)>),
    List(Vec<TelValue>),
}

impl TelValue {
    fn is_scalar(&self) -> bool {
        matches!(self, TelValue::U64(_) | TelValue::Int(_) | TelValue::Str(_))
    }
}

/// Why a command could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("telemetry command {0:?}: must start with '/', hold only letters, digits, '_' and '/', and be 1 to 55 characters")]
    BadName(String),
    #[error("telemetry command {cmd:?}: DPDK refused it ({what})")]
    Refused { cmd: String, what: String },
}

/// A command's handler: its parameters (the text after the first comma,
/// empty when none) to its reply.
pub type Handler = Arc<dyn Fn(&str) -> TelValue + Send + Sync>;

/// Registered commands: name, handler (`None` once withdrawn).
type Registry = Mutex<Vec<(String, Option<Handler>)>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Vec::new()))
}

fn valid_command(cmd: &str) -> bool {
    cmd.len() > 1
        && cmd.len() <= MAX_COMMAND
        && cmd.starts_with('/')
        && cmd.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'/')
}

/// Registers `cmd` (e.g. `/anchor/stats`) with `help` (cut to 127
/// characters); DPDK lists it under `/` and `/help,<cmd>`. Registering a
/// name again replaces its handler. Works before and after EAL
/// initialisation; with `--no-telemetry` nobody can call it.
pub fn register<F>(cmd: &str, help: &str, handler: F) -> Result<(), TelemetryError>
where
    F: Fn(&str) -> TelValue + Send + Sync + 'static,
{
    if !valid_command(cmd) {
        return Err(TelemetryError::BadName(cmd.to_owned()));
    }
    let handler: Handler = Arc::new(handler);
    let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(entry) = reg.iter_mut().find(|(name, _)| name == cmd) {
        entry.1 = Some(handler);
        return Ok(());
    }
    let refused = |what: String| TelemetryError::Refused { cmd: cmd.to_owned(), what };
    let c_cmd = CString::new(cmd).map_err(|_| refused("NUL in name".into()))?;
    let c_help = CString::new(truncate(&printable(help), MAX_HELP)).map_err(|_| refused("NUL in help".into()))?;
    // The callback is a plain `extern "C"` function that lives for the
    // whole process.
    // SAFETY: both strings are valid NUL-terminated C strings for the
    // call; DPDK copies them (strlcpy into its own table).
    let rc = unsafe { sys::rte_telemetry_register_cmd(c_cmd.as_ptr(), Some(trampoline), c_help.as_ptr()) };
    if rc != 0 {
        return Err(refused(format!("rte_telemetry_register_cmd returned {rc}")));
    }
    reg.push((cmd.to_owned(), Some(handler)));
    Ok(())
}

/// Withdraws every handler (DPDK has no way to unregister a command: they
/// answer `{"error": ...}` from now on) and drops what the handlers hold.
pub fn withdraw_all() {
    let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    for entry in reg.iter_mut() {
        entry.1 = None;
    }
}

/// The reply to `cmd` with `params`: the handler's, or an error dict.
pub fn answer(cmd: &str, params: &str) -> TelValue {
    let handler = {
        let reg = registry().lock().unwrap_or_else(|p| p.into_inner());
        reg.iter().find(|(name, _)| name == cmd).and_then(|(_, h)| h.clone())
    };
    let error = |text: &str| TelValue::Dict(vec![("error".into(), TelValue::Str(text.into()))]);
    match handler {
        None => error("this command is not available (anchord is stopping)"),
        Some(h) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(params)))
            .unwrap_or_else(|_| error("the command's handler failed")),
    }
}

/// Called by DPDK's telemetry thread for every command registered here.
unsafe extern "C" fn trampoline(cmd: *const c_char, params: *const c_char, d: *mut sys::rte_tel_data) -> c_int {
    let text = |p: *const c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: DPDK passes NUL-terminated strings valid for the call.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    if d.is_null() {
        return -1;
    }
    let reply = answer(&text(cmd), &text(params));
    let mut data = Data(d);
    fill(&mut data, &reply);
    0
}

/// Sanitised dict entry name: `[A-Za-z0-9_/]` (anything else becomes
/// `_`), 1 to 63 characters.
pub fn entry_name(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '/' { c } else { '_' }).collect();
    if s.is_empty() {
        s.push('_');
    }
    truncate(&s, MAX_NAME)
}

fn printable(s: &str) -> String {
    s.chars().map(|c| if c == '\0' || c.is_control() { ' ' } else { c }).collect()
}

/// `s` cut to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The entries of a container below the reply: scalars only, nested dicts
/// and lists flattened into `outer/inner` (lists: `outer/0`, `outer/1`...),
/// at most [`MAX_ENTRIES`].
pub fn flatten(v: &TelValue) -> Vec<(String, TelValue)> {
    fn walk(prefix: &str, v: &TelValue, out: &mut Vec<(String, TelValue)>) {
        if out.len() >= MAX_ENTRIES {
            return;
        }
        let join = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}/{k}") };
        match v {
            TelValue::Dict(entries) => entries.iter().for_each(|(k, v)| walk(&join(k), v, out)),
            TelValue::List(items) => items.iter().enumerate().for_each(|(i, v)| walk(&join(&i.to_string()), v, out)),
            scalar => out.push((entry_name(prefix), scalar.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

/// What a list is sent as: DPDK arrays hold one type of value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    U64,
    Int,
    Str,
    /// Some item is a dict or list: an array of containers.
    Container,
}

/// The array type for `items` (mixed scalars go as strings).
pub fn list_kind(items: &[TelValue]) -> ListKind {
    if items.iter().any(|v| !v.is_scalar()) {
        ListKind::Container
    } else if items.iter().all(|v| matches!(v, TelValue::U64(_))) {
        ListKind::U64
    } else if items.iter().all(|v| small_int(v).is_some()) {
        ListKind::Int
    } else {
        ListKind::Str
    }
}

/// An `Int` that fits DPDK's `int` values.
fn small_int(v: &TelValue) -> Option<c_int> {
    match v {
        TelValue::Int(i) => c_int::try_from(*i).ok(),
        _ => None,
    }
}

fn scalar_text(v: &TelValue) -> String {
    match v {
        TelValue::U64(n) => n.to_string(),
        TelValue::Int(n) => n.to_string(),
        TelValue::Str(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// An `rte_tel_data` being filled; the pointer comes from DPDK (the
/// reply) or from `rte_tel_data_alloc` (a container).
struct Data(*mut sys::rte_tel_data);

impl Data {
    fn alloc() -> Option<Data> {
        // SAFETY: plain allocation; a null result is handled.
        let p = unsafe { sys::rte_tel_data_alloc() };
        (!p.is_null()).then_some(Data(p))
    }

    fn start_dict(&mut self) {
        // SAFETY: self.0 is a valid rte_tel_data (see `Data`).
        unsafe { sys::rte_tel_data_start_dict(self.0) };
    }

    fn start_array(&mut self, kind: ListKind) {
        let t = match kind {
            ListKind::U64 => sys::rte_tel_value_type_RTE_TEL_U64_VAL,
            ListKind::Int => sys::rte_tel_value_type_RTE_TEL_INT_VAL,
            ListKind::Str => sys::rte_tel_value_type_RTE_TEL_STRING_VAL,
            ListKind::Container => sys::rte_tel_value_type_RTE_TEL_CONTAINER,
        };
        // SAFETY: self.0 is a valid rte_tel_data; t is one of the enum's values.
        unsafe { sys::rte_tel_data_start_array(self.0, t) };
    }

    fn string(&mut self, s: &str) {
        let Ok(c) = CString::new(truncate(&printable(s), MAX_STRING)) else { return };
        // SAFETY: valid rte_tel_data and C string; DPDK copies the string.
        unsafe { sys::rte_tel_data_string(self.0, c.as_ptr()) };
    }

    fn add_dict_scalar(&mut self, name: &str, v: &TelValue) {
        let Ok(n) = CString::new(entry_name(name)) else { return };
        if let TelValue::U64(x) = v {
            // SAFETY: valid rte_tel_data started as a dict, valid C string
            // name; DPDK copies it.
            unsafe { sys::rte_tel_data_add_dict_u64(self.0, n.as_ptr(), *x) };
        } else if let Some(x) = small_int(v) {
            // SAFETY: as above.
            unsafe { sys::rte_tel_data_add_dict_int(self.0, n.as_ptr(), x) };
        } else if let Ok(s) = CString::new(truncate(&printable(&scalar_text(v)), MAX_STRING)) {
            // SAFETY: as above; DPDK copies the value too.
            unsafe { sys::rte_tel_data_add_dict_string(self.0, n.as_ptr(), s.as_ptr()) };
        }
    }

    fn add_array_scalar(&mut self, kind: ListKind, v: &TelValue) {
        match (kind, v, small_int(v)) {
            (ListKind::U64, TelValue::U64(x), _) => {
                // SAFETY: valid rte_tel_data started as an array of u64.
                unsafe { sys::rte_tel_data_add_array_u64(self.0, *x) };
            }
            (ListKind::Int, _, Some(x)) => {
                // SAFETY: valid rte_tel_data started as an array of int.
                unsafe { sys::rte_tel_data_add_array_int(self.0, x) };
            }
            _ => {
                let Ok(s) = CString::new(truncate(&printable(&scalar_text(v)), MAX_STRING)) else { return };
                // SAFETY: valid rte_tel_data started as an array of strings;
                // DPDK copies the string.
                unsafe { sys::rte_tel_data_add_array_string(self.0, s.as_ptr()) };
            }
        }
    }

    /// Hands `child` to DPDK inside this dict (DPDK frees it after use).
    fn add_dict_container(&mut self, name: &str, child: Data) {
        let Ok(n) = CString::new(entry_name(name)) else { return child.free() };
        // SAFETY: both are valid rte_tel_data; with keep = 0 DPDK owns the
        // child from here on when it accepts it.
        let rc = unsafe { sys::rte_tel_data_add_dict_container(self.0, n.as_ptr(), child.0, 0) };
        if rc != 0 {
            child.free();
        }
    }

    fn add_array_container(&mut self, child: Data) {
        // SAFETY: as in add_dict_container.
        let rc = unsafe { sys::rte_tel_data_add_array_container(self.0, child.0, 0) };
        if rc != 0 {
            child.free();
        }
    }

    fn free(self) {
        // SAFETY: a container we allocated and DPDK did not take.
        unsafe { sys::rte_tel_data_free(self.0) };
    }
}

/// A container below the reply: a dict of flattened scalars, or an array
/// of scalars.
fn fill_container(d: &mut Data, v: &TelValue) {
    match v {
        TelValue::List(items) if list_kind(items) != ListKind::Container => {
            let kind = list_kind(items);
            d.start_array(kind);
            items.iter().take(MAX_ENTRIES).for_each(|x| d.add_array_scalar(kind, x));
        }
        other => {
            d.start_dict();
            flatten(other).iter().for_each(|(k, x)| d.add_dict_scalar(k, x));
        }
    }
}

/// Writes `v` as the reply `d`.
fn fill(d: &mut Data, v: &TelValue) {
    match v {
        TelValue::Dict(entries) => {
            d.start_dict();
            for (k, x) in entries.iter().take(MAX_ENTRIES) {
                if x.is_scalar() {
                    d.add_dict_scalar(k, x);
                } else if let Some(mut child) = Data::alloc() {
                    fill_container(&mut child, x);
                    d.add_dict_container(k, child);
                }
            }
        }
        TelValue::List(items) => {
            let kind = list_kind(items);
            d.start_array(kind);
            for x in items.iter().take(MAX_ENTRIES) {
                if kind != ListKind::Container {
                    d.add_array_scalar(kind, x);
                } else if let Some(mut child) = Data::alloc() {
                    fill_container(&mut child, x);
                    d.add_array_container(child);
                }
            }
        }
        scalar => d.string(&scalar_text(scalar)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(e: &[(&str, TelValue)]) -> TelValue {
        TelValue::Dict(e.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn entry_names_keep_only_what_dpdk_accepts_and_at_most_63_characters() {
        assert_eq!(entry_name("udp-tlv"), "udp_tlv");
        assert_eq!(entry_name("drops/no_route"), "drops/no_route");
        assert_eq!(entry_name(""), "_");
        assert_eq!(entry_name(&"x".repeat(100)).len(), MAX_NAME);
        assert_eq!(entry_name("é"), "_");
    }

    #[test]
    fn nested_containers_are_flattened_into_slash_joined_names() {
        let v = dict(&[
            ("rx", TelValue::U64(3)),
            ("drops", dict(&[("no_route", TelValue::U64(1)), ("spoofed", TelValue::U64(2))])),
            ("list", TelValue::List(vec![TelValue::Str("a".into())])),
        ]);
        assert_eq!(
            flatten(&v),
            vec![
                ("rx".to_string(), TelValue::U64(3)),
                ("drops/no_route".to_string(), TelValue::U64(1)),
                ("drops/spoofed".to_string(), TelValue::U64(2)),
                ("list/0".to_string(), TelValue::Str("a".into())),
            ]
        );
    }

    #[test]
    fn flattening_stops_at_256_entries() {
        let v = TelValue::Dict((0..300).map(|i| (format!("k{i}"), TelValue::U64(i))).collect());
        assert_eq!(flatten(&v).len(), MAX_ENTRIES);
    }

    #[test]
    fn lists_are_sent_as_one_array_type() {
        assert_eq!(list_kind(&[TelValue::U64(1), TelValue::U64(2)]), ListKind::U64);
        assert_eq!(list_kind(&[TelValue::Int(-1)]), ListKind::Int);
        assert_eq!(list_kind(&[TelValue::Int(i64::MAX)]), ListKind::Str);
        assert_eq!(list_kind(&[TelValue::U64(1), TelValue::Str("x".into())]), ListKind::Str);
        assert_eq!(list_kind(&[TelValue::U64(1), dict(&[])]), ListKind::Container);
    }

    #[test]
    fn command_names_follow_dpdk_rules() {
        assert!(valid_command("/anchor/stats"));
        assert!(!valid_command("anchor/stats"));
        assert!(!valid_command("/"));
        assert!(!valid_command("/anchor/st-ats"));
        assert!(!valid_command(&format!("/{}", "a".repeat(MAX_COMMAND))));
    }

    #[test]
    fn a_command_answers_with_its_handler_or_an_error_until_withdrawn() {
        // Registration itself needs DPDK's table, so this test fills the
        // registry the way `register` does (one test: withdrawing is global).
        let mut reg = registry().lock().unwrap();
        reg.push(("/test/echo".into(), Some(Arc::new(|p: &str| TelValue::Str(p.to_owned())) as Handler)));
        reg.push(("/test/panic".into(), Some(Arc::new(|_: &str| -> TelValue { panic!("boom") }) as Handler)));
        drop(reg);
        assert_eq!(answer("/test/echo", "x"), TelValue::Str("x".into()));
        assert!(matches!(answer("/test/unknown", ""), TelValue::Dict(_)));
        assert!(matches!(answer("/test/panic", ""), TelValue::Dict(_)));
        withdraw_all();
        assert!(matches!(answer("/test/echo", "x"), TelValue::Dict(_)));
    }
}
