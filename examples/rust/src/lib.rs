//! The Rust examples of the README live in `examples/`; run one with
//! `cargo run -p goldplan-examples --example quickstart`. This package holds them apart from
//! the SDK so that the SDK's own crate never depends on the sandbox.
#![forbid(unsafe_code)]
