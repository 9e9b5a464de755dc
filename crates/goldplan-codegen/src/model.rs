//! The registry read as generator input: each operation's parameters, in call order, with a
//! type every language can spell.

use goldplan::client::Operation;
pub use goldplan::service::{Param, ParamType};
use serde_json::Value;

/// One operation, as a generator needs it.
#[derive(Debug, Clone)]
pub struct Op {
    /// The registry entry.
    pub operation: Operation,
    /// Stable snake_case name.
    pub name: String,
    /// One line of documentation.
    pub doc: String,
    /// Parameters in call order: the required ones in declaration order, then the optional
    /// ones by name.
    pub params: Vec<Param>,
    /// Whether the reply is `null` (`204 No Content`).
    pub no_content: bool,
}

impl Op {
    /// The camelCase name (JavaScript, Java, PHP methods).
    pub fn camel(&self) -> String {
        camel(&self.name)
    }
}

/// Client operations whose methods stay hand-written in Python, Node, PHP and Java: they take
/// bytes or free shapes (an image, any request) or return native objects (certificates), where
/// an idiomatic signature beats a generated one. Every other client operation is generated.
pub const HAND_WRITTEN: &[&str] = &["upload_image", "request", "refresh_certificates"];

/// The operations that get a typed method in every binding: the registry's remote calls and
/// the client operations that are not [`HAND_WRITTEN`] (such as the JSAPI pay-sign).
pub fn typed_operations() -> Result<Vec<Op>, String> {
    Operation::ALL
        .iter()
        .map(|op| (op, op.descriptor()))
        .filter(|(_, d)| {
            d.kind == "remote" || (d.kind == "client" && !HAND_WRITTEN.contains(&d.name))
        })
        .map(|(op, d)| {
            Ok(Op {
                operation: *op,
                name: d.name.to_owned(),
                doc: d.doc.to_owned(),
                params: goldplan::service::parameters(&d.arguments)
                    .map_err(|e| format!("{}: {e}", d.name))?,
                no_content: d.reply.get("type") == Some(&Value::from("null")),
            })
        })
        .collect()
}

/// `snake_case` → `camelCase`.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `snake_case` → `PascalCase`.
pub fn pascal(snake: &str) -> String {
    let camel = camel(snake);
    let mut chars = camel.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn gold_plan_calls_read_as_typed_parameters() {
        let ops = typed_operations().unwrap();
        let status = ops
            .iter()
            .find(|o| o.name == "change_gold_plan_status")
            .unwrap();
        let names: Vec<&str> = status.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["sub_mchid", "operation_type", "operation_pay_scene"]
        );
        assert_eq!(status.params[0].ty, ParamType::Text);
        assert_eq!(
            status.params[1].ty,
            ParamType::Choice(vec!["OPEN".into(), "CLOSE".into()])
        );
        assert!(!status.params[2].required);
        assert!(!status.no_content);
        let open = ops
            .iter()
            .find(|o| o.name == "open_advertising_show")
            .unwrap();
        assert!(open.no_content);
        assert!(open.params[1].ty.is_list() && !open.params[1].required);
        assert_eq!(camel("open_advertising_show"), "openAdvertisingShow");
        assert_eq!(pascal("open_advertising_show"), "OpenAdvertisingShow");
    }
}
