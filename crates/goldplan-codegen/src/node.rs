//! The node binding's generated regions: the typed methods of the JavaScript `Client`
//! (`index.cjs`) and their TypeScript declarations with the enum and result types they use
//! (`index.d.ts`).
//!
//! A generated method only shapes its arguments as JSON can carry them (a string, an array of
//! strings, a boolean) and sends them through the client's one `callJson` path: which values
//! are allowed, how many and in what case is the core's rule, so enum values pass through as
//! strings and the core's message is the one a caller sees.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::model::{camel, pascal};
use crate::{Op, Output, Param, ParamType};

const SCRIPT: &str = "bindings/node/index.cjs";
const TYPES: &str = "bindings/node/index.d.ts";

pub(crate) fn outputs(ops: &[Op]) -> Vec<Output> {
    let names = choice_names(ops);
    vec![
        Output {
            path: SCRIPT,
            region: Some("operations"),
            body: methods(ops),
        },
        Output {
            path: TYPES,
            region: Some("types"),
            body: types(ops, &names),
        },
        Output {
            path: TYPES,
            region: Some("operations"),
            body: declarations(ops, &names),
        },
    ]
}

/// A doc text made safe inside a `/** … */` comment.
fn doc_text(text: &str) -> String {
    text.replace("*/", "*\\/")
}

/// A tag's text on one line (a registry doc may wrap).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `/** … */` lines at `indent`: the summary (its lines kept), then the tagged lines.
fn jsdoc(out: &mut String, indent: &str, summary: &str, tags: &[String]) {
    let summary: Vec<&str> = summary.trim().lines().map(str::trim).collect();
    if tags.is_empty() && summary.len() == 1 {
        let _ = writeln!(out, "{indent}/** {} */", doc_text(summary[0]));
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for line in &summary {
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {}", doc_text(line));
        }
    }
    if !tags.is_empty() {
        let _ = writeln!(out, "{indent} *");
    }
    for tag in tags {
        let _ = writeln!(out, "{indent} * {}", doc_text(&one_line(tag)));
    }
    let _ = writeln!(out, "{indent} */");
}

/// The hand-written facade's argument check for a parameter: JavaScript shapes only.
fn check(param: &Param) -> &'static str {
    match (&param.ty, param.required) {
        (ParamType::Text | ParamType::Choice(_), true) => "requireString",
        (ParamType::Text | ParamType::Choice(_), false) => "optionalString",
        (ParamType::TextList | ParamType::ChoiceList(_), true) => "requireStringList",
        (ParamType::TextList | ParamType::ChoiceList(_), false) => "optionalStringList",
        (ParamType::Flag, true) => "requireBoolean",
        (ParamType::Flag, false) => "optionalBoolean",
        (ParamType::Integer, true) => "requireInteger",
        (ParamType::Integer, false) => "optionalInteger",
        (ParamType::Json, _) => "jsonArg",
    }
}

fn jsdoc_type(ty: &ParamType) -> &'static str {
    match ty {
        ParamType::Text | ParamType::Choice(_) => "string",
        ParamType::TextList | ParamType::ChoiceList(_) => "string[]",
        ParamType::Flag => "boolean",
        ParamType::Integer => "number",
        ParamType::Json => "*",
    }
}

/// The `Client` methods of `index.cjs`.
fn methods(ops: &[Op]) -> String {
    let mut out = String::new();
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut tags: Vec<String> = op
            .params
            .iter()
            .map(|p| {
                let name = camel(&p.name);
                let name = if p.required {
                    name
                } else {
                    format!("[{name}]")
                };
                format!("@param {{{}}} {name} {}", jsdoc_type(&p.ty), p.doc)
            })
            .collect();
        tags.push(if op.no_content {
            "@returns {Promise<{ data: null, requestId?: string }>}".to_owned()
        } else {
            "@returns {Promise<{ data: object, requestId?: string }>}".to_owned()
        });
        jsdoc(&mut out, "  ", &op.doc, &tags);
        let args: Vec<String> = op.params.iter().map(|p| camel(&p.name)).collect();
        let _ = writeln!(out, "  {} ({}) {{", op.camel(), args.join(", "));
        if op.params.is_empty() {
            let _ = writeln!(
                out,
                "    return later(async () => this.#call('{}', {{}}))",
                op.name
            );
        } else {
            let _ = writeln!(
                out,
                "    return later(async () => this.#call('{}', {{",
                op.name
            );
            for (j, p) in op.params.iter().enumerate() {
                let name = camel(&p.name);
                let comma = if j + 1 < op.params.len() { "," } else { "" };
                let _ = writeln!(
                    out,
                    "      {}: {}({name}, '{name}'){comma}",
                    p.name,
                    check(p)
                );
            }
            let _ = writeln!(out, "    }}))");
        }
        let _ = writeln!(out, "  }}");
    }
    out
}

/// The TypeScript name of each documented value set, keyed by operation and parameter: the
/// parameter's name in PascalCase (a list's in the singular), or, when two parameters of that
/// name document different sets, the operation's name in front.
fn choice_names(ops: &[Op]) -> BTreeMap<(String, String), String> {
    let mut sets: BTreeMap<String, Vec<&[String]>> = BTreeMap::new();
    for op in ops {
        for p in &op.params {
            if let Some(values) = p.ty.choices() {
                let entry = sets.entry(base_name(p)).or_default();
                if !entry.contains(&values) {
                    entry.push(values);
                }
            }
        }
    }
    let mut names = BTreeMap::new();
    for op in ops {
        for p in &op.params {
            if p.ty.choices().is_some() {
                let base = base_name(p);
                let shared = sets.get(&base).is_some_and(|s| s.len() == 1);
                let name = if shared {
                    base
                } else {
                    format!("{}{base}", pascal(&op.name))
                };
                names.insert((op.name.clone(), p.name.clone()), name);
            }
        }
    }
    names
}

fn base_name(p: &Param) -> String {
    let name = pascal(&p.name);
    match (&p.ty, name.strip_suffix('s')) {
        (ParamType::ChoiceList(_), Some(one)) => one.to_owned(),
        _ => name,
    }
}

fn literal_union(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The enum and result types of `index.d.ts`.
fn types(ops: &[Op], names: &BTreeMap<(String, String), String>) -> String {
    let mut out = String::new();
    let mut written: Vec<&str> = Vec::new();
    for op in ops {
        for p in &op.params {
            let (Some(values), Some(name)) = (
                p.ty.choices(),
                names.get(&(op.name.clone(), p.name.clone())),
            ) else {
                continue;
            };
            if written.contains(&name.as_str()) {
                continue;
            }
            written.push(name);
            let place = if *name == base_name(p) {
                format!("`{}`", p.name)
            } else {
                format!("`{}` of `{}`", p.name, op.name)
            };
            let doc = format!("The documented values of {place}; the core takes them in any case.");
            jsdoc(&mut out, "", &doc, &[]);
            if values.len() <= 4 {
                let _ = writeln!(out, "export type {name} = {}", literal_union(values));
            } else {
                let _ = writeln!(out, "export type {name} =");
                for v in values {
                    let _ = writeln!(out, "  | {}", literal_union(std::slice::from_ref(v)));
                }
            }
        }
    }
    for op in ops.iter().filter(|o| !o.no_content) {
        let reply = op.operation.descriptor().reply;
        let title = reply
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let _ = writeln!(out);
        jsdoc(
            &mut out,
            "",
            &format!("The result of `{}`: {title}", op.name),
            &[],
        );
        let _ = writeln!(out, "export interface {}Result {{", pascal(&op.name));
        let required: Vec<&str> = reply
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = reply.get("properties").and_then(Value::as_object) {
            for (name, schema) in properties {
                if let Some(doc) = schema.get("description").and_then(Value::as_str) {
                    jsdoc(&mut out, "  ", doc, &[]);
                }
                let optional = if required.contains(&name.as_str()) {
                    ""
                } else {
                    "?"
                };
                let _ = writeln!(out, "  {name}{optional}: {}", reply_type(schema));
            }
        }
        let _ = writeln!(out, "  /** Members WeChat Pay may add. */");
        let _ = writeln!(out, "  [member: string]: unknown");
        let _ = writeln!(out, "}}");
    }
    out
}

/// The TypeScript type of a member of a result's JSON Schema.
fn reply_type(schema: &Value) -> String {
    let kinds: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let values: Vec<String> = schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    for kind in &kinds {
        match *kind {
            "string" if !values.is_empty() => parts.push(literal_union(&values)),
            "string" => parts.push("string".into()),
            "integer" | "number" => parts.push("number".into()),
            "boolean" => parts.push("boolean".into()),
            "null" => parts.push("null".into()),
            _ => parts.push("unknown".into()),
        }
    }
    if parts.is_empty() {
        "unknown".into()
    } else {
        parts.join(" | ")
    }
}

/// The declarations of the `Client` methods in `index.d.ts`.
fn declarations(ops: &[Op], names: &BTreeMap<(String, String), String>) -> String {
    let mut out = String::new();
    for op in ops {
        let tags: Vec<String> = op
            .params
            .iter()
            .map(|p| format!("@param {} {}", camel(&p.name), p.doc))
            .collect();
        jsdoc(&mut out, "  ", &op.doc, &tags);
        let params: Vec<String> = op
            .params
            .iter()
            .map(|p| {
                let named = names.get(&(op.name.clone(), p.name.clone()));
                let ty = match (&p.ty, named) {
                    (ParamType::Choice(_), Some(n)) => format!("{n} | (string & {{}})"),
                    (ParamType::ChoiceList(_), Some(n)) => {
                        format!("readonly ({n} | (string & {{}}))[]")
                    }
                    (ParamType::Flag, _) => "boolean".to_owned(),
                    (ParamType::Integer, _) => "number".to_owned(),
                    (ParamType::Json, _) => "unknown".to_owned(),
                    (ParamType::TextList | ParamType::ChoiceList(_), _) => {
                        "readonly string[]".to_owned()
                    }
                    (ParamType::Text | ParamType::Choice(_), _) => "string".to_owned(),
                };
                if p.required {
                    format!("{}: {ty}", camel(&p.name))
                } else {
                    format!("{}?: {ty} | null", camel(&p.name))
                }
            })
            .collect();
        let result = if op.no_content {
            "null".to_owned()
        } else {
            format!("{}Result", pascal(&op.name))
        };
        let _ = writeln!(
            out,
            "  {} ({}): Promise<Reply<{result}>>",
            op.camel(),
            params.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::typed_operations;

    #[test]
    fn methods_pass_wire_names_through_the_shape_checks_only() {
        let ops = typed_operations().unwrap();
        let out = outputs(&ops);
        let script = &out[0].body;
        assert!(
            script.contains(
                "  changeGoldPlanStatus (subMchid, operationType, operationPayScene) {\n"
            )
        );
        assert!(
            script
                .contains("      operation_type: requireString(operationType, 'operationType'),\n")
        );
        assert!(script.contains(
            "      advertising_industry_filters: optionalStringList(advertisingIndustryFilters, 'advertisingIndustryFilters')\n"
        ));
        assert!(!script.contains("enumArg"));
        let types = &out[1].body;
        assert!(types.contains("export type OperationType = 'OPEN' | 'CLOSE'\n"));
        assert!(types.contains("export type AdvertisingIndustryFilter =\n  | 'E_COMMERCE'\n"));
        assert!(types.contains("export interface ChangeGoldPlanStatusResult {\n"));
        let declarations = &out[2].body;
        assert!(declarations.contains(
            "  openAdvertisingShow (subMchid: string, advertisingIndustryFilters?: readonly (AdvertisingIndustryFilter | (string & {}))[] | null): Promise<Reply<null>>\n"
        ));
    }

    #[test]
    fn a_name_shared_by_different_sets_gets_the_operation_in_front() {
        let mut ops = typed_operations().unwrap();
        let status = ops
            .iter_mut()
            .find(|o| o.name == "change_custom_page_status")
            .unwrap();
        status.params[1].ty = ParamType::Choice(vec!["ON".into()]);
        let names = choice_names(&ops);
        let key = |op: &str, p: &str| (op.to_owned(), p.to_owned());
        assert_eq!(
            names[&key("change_custom_page_status", "operation_type")],
            "ChangeCustomPageStatusOperationType"
        );
        assert_eq!(
            names[&key("change_gold_plan_status", "operation_type")],
            "ChangeGoldPlanStatusOperationType"
        );
        assert_eq!(
            names[&key("change_gold_plan_status", "operation_pay_scene")],
            "OperationPayScene"
        );
    }
}
