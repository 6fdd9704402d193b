//! Configuration crate (being written).
