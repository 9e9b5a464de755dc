//! The committed generated regions are what the registry gives: CI fails when an operation
//! changed and `cargo run -p goldplan-codegen` was not run.
#![allow(clippy::unwrap_used, missing_docs)]

#[test]
fn every_generated_region_is_current() {
    let root = goldplan_codegen::workspace_root();
    let stale: Vec<String> = goldplan_codegen::render(&root)
        .unwrap()
        .into_iter()
        .filter(|(_, current, generated)| current != generated)
        .map(|(path, _, _)| path.display().to_string())
        .collect();
    assert!(
        stale.is_empty(),
        "generated regions differ from the registry in {stale:?}: run \
         `cargo run -p goldplan-codegen` and commit the result"
    );
}

#[test]
fn every_output_names_an_existing_file() {
    let root = goldplan_codegen::workspace_root();
    for output in goldplan_codegen::outputs().unwrap() {
        assert!(root.join(output.path).is_file(), "{}", output.path);
    }
}
