//! The HTTP routes, one module per resource.

pub mod blobs;
pub mod dashboard;
pub mod ops;
pub mod problems;
pub mod runners;
pub mod runs;
pub mod submissions;
pub mod webhooks;
