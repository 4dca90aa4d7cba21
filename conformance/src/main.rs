//! `conformance` binary.
fn main() {}
