//! The registry read as generator input: each operation's parameters, in call order, with a
//! type every language can spell.

use goldplan::client::Operation;
use serde_json::Value;

/// What a parameter holds, as far as a binding's signature cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamType {
    /// Free text.
    Text,
    /// One of a documented set of values (any case is taken; the core checks).
    Choice(Vec<String>),
    /// A list of texts.
    TextList,
    /// A list of values of a documented set.
    ChoiceList(Vec<String>),
    /// `true` or `false`.
    Flag,
    /// Any JSON value.
    Json,
}

impl ParamType {
    /// Whether the parameter is a list.
    pub fn is_list(&self) -> bool {
        matches!(self, ParamType::TextList | ParamType::ChoiceList(_))
    }

    /// The documented values, when there is a set.
    pub fn choices(&self) -> Option<&[String]> {
        match self {
            ParamType::Choice(v) | ParamType::ChoiceList(v) => Some(v),
            _ => None,
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The wire (snake_case) name: the key of the arguments object.
    pub name: String,
    /// Its one-line documentation.
    pub doc: String,
    /// What it holds.
    pub ty: ParamType,
    /// Whether the call needs it.
    pub required: bool,
}

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

/// The operations that get a typed method in every binding: the registry's remote calls (the
/// client's own operations, such as uploads and the generic request, take bytes or free
/// shapes and keep hand-written, idiomatic methods).
pub fn typed_operations() -> Result<Vec<Op>, String> {
    Operation::ALL
        .iter()
        .map(|op| (op, op.descriptor()))
        .filter(|(_, d)| d.kind == "remote")
        .map(|(op, d)| {
            Ok(Op {
                operation: *op,
                name: d.name.to_owned(),
                doc: d.doc.to_owned(),
                params: params(d.name, &d.arguments)?,
                no_content: d.reply.get("type") == Some(&Value::from("null")),
            })
        })
        .collect()
}

fn params(operation: &str, schema: &Value) -> Result<Vec<Param>, String> {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{operation}: its arguments schema has no properties"))?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(properties.len());
    for name in &required {
        let property = properties
            .get(*name)
            .ok_or_else(|| format!("{operation}: required {name} is not a property"))?;
        out.push(param(operation, name, property, true)?);
    }
    // serde_json's map is ordered by key: the optional ones follow by name.
    for (name, property) in properties {
        if !required.contains(&name.as_str()) {
            out.push(param(operation, name, property, false)?);
        }
    }
    Ok(out)
}

fn param(operation: &str, name: &str, property: &Value, required: bool) -> Result<Param, String> {
    let doc = property
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ty = match types(property).as_slice() {
        ["string"] => match choices(property) {
            Some(values) => ParamType::Choice(values),
            None => ParamType::Text,
        },
        ["array"] => {
            let items = property.get("items").unwrap_or(&Value::Null);
            match (types(items).as_slice(), choices(items)) {
                (["string"], Some(values)) => ParamType::ChoiceList(values),
                (["string"], None) => ParamType::TextList,
                _ => return Err(format!("{operation}.{name}: a list of what?")),
            }
        }
        ["boolean"] => ParamType::Flag,
        [] => ParamType::Json,
        other => return Err(format!("{operation}.{name}: no binding type for {other:?}")),
    };
    Ok(Param {
        name: name.to_owned(),
        doc,
        ty,
        required,
    })
}

/// The schema's types, `null` left out (it only says the value may be absent).
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn choices(schema: &Value) -> Option<Vec<String>> {
    let values: Vec<String> = schema
        .get("enum")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    (!values.is_empty()).then_some(values)
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
