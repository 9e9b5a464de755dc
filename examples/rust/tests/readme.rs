//! The README's Rust quick start is the body of `examples/quickstart.rs` (which CI runs against
//! a sandbox), so the snippet users copy compiles and works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

const README: &str = include_str!("../../../README.md");
const EXAMPLE: &str = include_str!("../examples/quickstart.rs");

#[test]
fn the_readme_rust_snippet_is_the_quickstart_example() {
    let section = README
        .split("## The Rust library")
        .nth(1)
        .expect("README has a Rust section");
    let snippet = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the Rust section has a rust code block");
    let body = EXAMPLE
        .split("// README:begin\n")
        .nth(1)
        .and_then(|rest| rest.split("    // README:end").next())
        .expect("the example marks the README part");
    let dedented: Vec<&str> = body
        .trim_end()
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    assert_eq!(
        snippet,
        dedented.join("\n"),
        "README and examples/quickstart.rs differ"
    );
}
