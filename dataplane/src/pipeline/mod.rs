//! The packet path: one node per file (classify, later encap/decap), and the
//! worker loop that drives them over bursts.

pub mod classify;
pub mod worker;

pub use classify::{classify, Verdict};
pub use worker::Worker;
