//! The operation vectors (`tests/vectors/operations/`), the cases every language's parity test
//! also runs: the registry's JSON surface against a sandbox, checking the wire request the
//! gateway logged and the result or error kind. Every remote registry operation has a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

use goldplan::client::Operation;
use goldplan_e2e::*;
use goldplan_sandbox::KeyMode;
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/operations")
}

fn load(operation: &str) -> Value {
    let path = vectors_dir().join(format!("{operation}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (every remote operation needs a vector file)",
            path.display()
        )
    });
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format_version"], 1, "{}", path.display());
    assert_eq!(v["operation"], operation);
    v
}

#[test]
fn every_remote_operation_has_vectors_and_every_file_an_operation() {
    let remote: Vec<&str> = Operation::ALL
        .iter()
        .filter(|op| op.endpoint().is_some())
        .map(|op| op.as_str())
        .collect();
    for name in &remote {
        load(name);
    }
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".json") {
            assert!(remote.contains(&stem), "{name} names no remote operation");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_surface_answers_every_operation_vector() {
    for op in Operation::ALL.iter().filter(|op| op.endpoint().is_some()) {
        let vectors = load(op.as_str());
        let sandbox = start(KeyMode::PublicKey).await;
        let client = client(&info(&sandbox), Verification::PublicKey);
        for step in vectors["before"].as_array().into_iter().flatten() {
            let setup: Operation = step["operation"].as_str().unwrap().parse().unwrap();
            let args = serde_json::to_vec(&step["arguments"]).unwrap();
            client.call_json(setup, &args).await.unwrap();
        }
        for case in vectors["cases"].as_array().unwrap() {
            let name = format!("{op}: {}", case["name"].as_str().unwrap());
            sandbox.clear_requests();
            let args = serde_json::to_vec(&case["arguments"]).unwrap();
            let outcome = client.call_json(*op, &args).await;
            let logged = sandbox.requests();
            match &case["request"] {
                Value::Null => assert!(logged.is_empty(), "{name}: sent {logged:?}"),
                request => {
                    let last = logged
                        .last()
                        .unwrap_or_else(|| panic!("{name}: nothing sent"));
                    assert_eq!(last.method, request["method"].as_str().unwrap(), "{name}");
                    assert_eq!(last.path, request["path"].as_str().unwrap(), "{name}");
                    assert_eq!(
                        last.body.as_deref(),
                        Some(request["body"].as_str().unwrap()),
                        "{name}"
                    );
                }
            }
            match (&case.get("error"), outcome) {
                (Some(error), Err(e)) => {
                    assert_eq!(
                        e.kind().as_str(),
                        error["kind"].as_str().unwrap(),
                        "{name}: {e}"
                    );
                    if let Some(code) = error.get("code") {
                        assert_eq!(e.api().map(|a| a.code.as_str()), code.as_str(), "{name}");
                    }
                }
                (None, Ok(reply)) => {
                    let got: Value = serde_json::from_slice(&reply.json).unwrap();
                    match case.get("result_keys") {
                        // A result with server-chosen values (a prepay_id): its keys only.
                        Some(keys) => {
                            let mut got_keys: Vec<&String> =
                                got.as_object().unwrap().keys().collect();
                            got_keys.sort();
                            let mut want: Vec<&str> = keys
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|k| k.as_str().unwrap())
                                .collect();
                            want.sort_unstable();
                            assert_eq!(got_keys, want, "{name}");
                            assert!(
                                got.as_object()
                                    .unwrap()
                                    .values()
                                    .all(|v| v.as_str().is_some_and(|s| !s.is_empty())),
                                "{name}: {got}"
                            );
                        }
                        None => assert_eq!(got, case["result"], "{name}"),
                    }
                    assert!(reply.request_id.is_some(), "{name}");
                }
                (expected, got) => panic!("{name}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}
