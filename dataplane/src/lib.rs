//! Everything a worker lcore touches: wire views, ports, the pipeline and
//! its counters. Plain Rust over byte slices except `port`, the only module
//! allowed to call DPDK.

pub mod addrs;
pub mod counters;
pub mod fib;
pub mod pipeline;
pub mod port;
pub mod route;
pub mod tunnel;
pub mod wire;
