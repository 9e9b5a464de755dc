//! The README's table of names: every registry entry under its one name in each language, by
//! the receiver that offers it. The parity test of each language checks the same names.

use goldplan::client::Operation;

use crate::Output;
use crate::model::{camel, pascal};

/// Where `name` lives in each language, for an entry offered by `receiver`.
fn names(receiver: &str, name: &str) -> [String; 6] {
    let c = camel(name);
    match receiver {
        "module" => [
            format!("`call_local_json` (`\"{name}\"`)"),
            format!("`goldplan.{name}`"),
            format!("`{c}`"),
            format!("`goldplan_{name}`"),
            format!("`Protocol::{c}`"),
            format!("`Protocol.{c}`"),
        ],
        "signer" | "verifier" => {
            let class = pascal(receiver);
            let rust = if receiver == "signer" {
                "`sign::RsaSigner`"
            } else {
                "`verify::verify_signed`"
            };
            [
                rust.to_owned(),
                format!("`{class}.{name}`"),
                format!("`{class}#{c}`"),
                format!("`goldplan_{receiver}_{name}`"),
                format!("`{class}::{c}`"),
                format!("`{class}.{c}`"),
            ]
        }
        _ => [
            format!("`Client::{name}`"),
            format!("`Client.{name}`"),
            format!("`Client#{c}`"),
            format!("`goldplan_client_{name}`"),
            format!("`Client::{c}`"),
            format!("`GoldPlanClient.{c}`"),
        ],
    }
}

pub(crate) fn outputs() -> Vec<Output> {
    let mut body = String::from(
        "| operation | kind | Rust | Python | Node | C | PHP | Java |\n|---|---|---|---|---|---|---|---|\n",
    );
    for op in Operation::ALL {
        let descriptor = op.descriptor();
        let rust_and_more = names(descriptor.receiver, descriptor.name);
        body.push_str(&format!(
            "| `{}` | {} | {} |\n",
            descriptor.name,
            descriptor.kind,
            rust_and_more.join(" | ")
        ));
    }
    vec![Output {
        path: "README.md",
        region: Some("names"),
        body,
    }]
}
