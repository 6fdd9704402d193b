//! What the signalling tests share: a control plane on two in-memory ports
//! and a forwarding table for a configuration.

use anchor_config::Config;
use dataplane::addrs::PortAddrs;
use dataplane::counters::WorkerCounters;
use dataplane::port::mem::{MemBuf, MemPort, MemRing};
use dataplane::port::{PortId, QueueId};
use dataplane::route::StatePublisher;

use crate::forwarding::Forwarding;
use crate::punt::ControlPlane;

/// Two ports (core, home) with the test addresses, one punt ring.
pub(crate) struct Rig {
    pub ports: Vec<MemPort>,
    pub rings: Vec<MemRing<MemBuf>>,
    pub counters: WorkerCounters,
    pub addrs: Vec<PortAddrs>,
}

impl Rig {
    pub fn new() -> Rig {
        Rig {
            ports: vec![MemPort::new(PortId(0), 1), MemPort::new(PortId(1), 1)],
            rings: vec![MemRing::new(64)],
            counters: WorkerCounters::default(),
            addrs: crate::neigh::testutil::ports(),
        }
    }

    /// The control thread's side, sending on queue 1 of each port.
    pub fn cp(&self) -> ControlPlane<'_, MemPort, MemRing<MemBuf>> {
        ControlPlane::new(
            &self.ports,
            &self.addrs,
            &self.rings,
            QueueId(1),
            crate::neigh::testutil::neighbors(),
            &self.counters,
            vec![],
            StatePublisher::new(Default::default()),
            dataplane::fib::new(64, 1).1,
        )
    }
}

/// The forwarding state of `config` (static bindings installed).
pub(crate) fn forwarding(config: &Config) -> Forwarding {
    match Forwarding::new(
        config,
        vec![Default::default(), Default::default()],
        dataplane::fib::new(64, 1).0,
        StatePublisher::new(Default::default()),
    ) {
        Ok(f) => f,
        Err(e) => panic!("forwarding state of the test config: {e}"),
    }
}
