//! The operation registry as data: `bindings/operations.json` is what the registry describes
//! (`goldplan::client::operations_json`), committed so that generators and reviewers read it;
//! this test fails when it drifts. Regenerate with
//! `GOLDPLAN_BLESS_OPERATIONS=1 cargo test -p goldplan --test registry`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

use goldplan::client::{Operation, operations_json};

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bindings/operations.json")
}

#[test]
fn the_committed_registry_description_is_current() {
    let generated = operations_json().unwrap() + "\n";
    if std::env::var_os("GOLDPLAN_BLESS_OPERATIONS").is_some() {
        std::fs::write(committed(), &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        on_disk == generated,
        "bindings/operations.json differs from the registry: run \
         GOLDPLAN_BLESS_OPERATIONS=1 cargo test -p goldplan --test registry and commit it"
    );
}

#[test]
fn every_arguments_schema_reads_as_parameters() {
    for op in Operation::ALL {
        let descriptor = op.descriptor();
        if descriptor.kind == "method" {
            // Methods take keys or callbacks: no JSON arguments to read.
            continue;
        }
        let parameters = goldplan::service::parameters(&descriptor.arguments)
            .unwrap_or_else(|e| panic!("{op}: {e}"));
        assert_eq!(parameters, descriptor.parameters, "{op}");
    }
}

#[test]
fn names_are_unique_and_snake_case() {
    let mut names: Vec<&str> = Operation::ALL.iter().map(|op| op.as_str()).collect();
    assert!(
        names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    );
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Operation::ALL.len());
}
