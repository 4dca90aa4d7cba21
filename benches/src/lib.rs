//! Benchmark support for `sio-codec`: the shared corpus (`performance.md` §6.2) used by the
//! criterion benches, the allocation-count test and the Node harness (`benches/node/`).

pub mod corpus;
pub mod report;
