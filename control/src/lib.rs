//! Everything the control thread owns: neighbour resolution and answers for
//! the anchor's own addresses, the punt path, the daemon loop and the CLI.

pub mod cli;
pub mod daemon;
pub mod dsmip6;
pub mod forwarding;
#[cfg(test)]
mod golden_tools;
pub mod icmp_error;
pub mod metrics;
pub mod mh_io;
pub mod mip4;
pub mod mip4_io;
pub mod neigh;
pub mod pmip6;
pub mod pool;
pub mod proto;
pub mod punt;
pub mod reload;
pub mod signalling;
pub mod slowpath;
pub mod store;
pub mod telemetry;
