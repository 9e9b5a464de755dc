//! The java binding's generated region: the typed methods of `GoldPlanClient`, one per remote
//! operation, camelCase, with javadoc from the registry.
//!
//! A generated method only shapes its arguments as JSON (a string, an array of strings, a
//! boolean, a parsed JSON value) and sends them through the client's one `call` path: which
//! values are allowed, how many and in what case is the core's rule, so enum values are
//! `String`s and a wrong one is reported by the core (`invalid_input`).

use std::fmt::Write as _;

use crate::model::camel;
use crate::{Op, Output, Param, ParamType};

const CLIENT: &str = "bindings/java/src/main/java/dev/goldplan/GoldPlanClient.java";

/// Javadoc lines are wrapped to keep the file within the width of its hand-written parts.
const WIDTH: usize = 100;

const INDENT: &str = "    ";

pub(crate) fn outputs(ops: &[Op]) -> Vec<Output> {
    let mut body = String::new();
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            body.push('\n');
        }
        method(&mut body, op);
    }
    vec![Output {
        path: CLIENT,
        region: Some("operations"),
        body,
    }]
}

/// The Java type of a parameter. A required flag is a primitive; an optional one a `Boolean`
/// whose `null` means absent.
fn java_type(param: &Param) -> &'static str {
    match (&param.ty, param.required) {
        (ParamType::Text | ParamType::Choice(_) | ParamType::Json, _) => "String",
        (ParamType::TextList | ParamType::ChoiceList(_), _) => "List<String>",
        (ParamType::Flag, true) => "boolean",
        (ParamType::Flag, false) => "Boolean",
        (ParamType::Integer, true) => "long",
        (ParamType::Integer, false) => "Long",
    }
}

/// The statement putting one parameter into `args`.
fn put(param: &Param) -> String {
    let var = camel(&param.name);
    let name = &param.name;
    match param.ty {
        ParamType::Text | ParamType::Choice(_) | ParamType::Flag | ParamType::Integer => {
            format!("args.addProperty(\"{name}\", {var});")
        }
        ParamType::TextList | ParamType::ChoiceList(_) => {
            format!("args.add(\"{name}\", list({var}));")
        }
        ParamType::Json => format!("args.add(\"{name}\", json({var}));"),
    }
}

fn method(out: &mut String, op: &Op) {
    let mut tags = Vec::new();
    for param in &op.params {
        let mut text = format!("@param {} {}", camel(&param.name), inline(&param.doc));
        if let Some(values) = param.ty.choices() {
            let listed: Vec<String> = values
                .iter()
                .map(|v| format!("{{@code \"{v}\"}}"))
                .collect();
            let what = if param.ty.is_list() {
                "Each one of"
            } else {
                "One of"
            };
            let _ = write!(
                text,
                " {what} {} (checked by the library, in any letter case).",
                listed.join(", ")
            );
        }
        if param.ty == ParamType::Json {
            text.push_str(" JSON text.");
        }
        if !param.required {
            text.push_str(" May be {@code null} (left out).");
        }
        tags.push(text);
    }
    tags.push(if op.no_content {
        "@return the reply: no body (204), so its {@link Reply#json()} is {@code null}; its \
         {@link Reply#requestId()} is set"
            .to_owned()
    } else {
        "@return the reply: the JSON WeChat Pay answered and its {@code Request-ID}".to_owned()
    });
    javadoc(out, &inline(&op.doc), &tags);

    let params: Vec<String> = op
        .params
        .iter()
        .map(|p| format!("{} {}", java_type(p), camel(&p.name)))
        .collect();
    let _ = writeln!(
        out,
        "{INDENT}public Reply {}({}) {{",
        op.camel(),
        params.join(", ")
    );
    let _ = writeln!(out, "{INDENT}{INDENT}JsonObject args = new JsonObject();");
    for param in &op.params {
        if param.required {
            let _ = writeln!(out, "{INDENT}{INDENT}{}", put(param));
        } else {
            let _ = writeln!(
                out,
                "{INDENT}{INDENT}if ({} != null) {{",
                camel(&param.name)
            );
            let _ = writeln!(out, "{INDENT}{INDENT}{INDENT}{}", put(param));
            let _ = writeln!(out, "{INDENT}{INDENT}}}");
        }
    }
    let _ = writeln!(out, "{INDENT}{INDENT}return call(\"{}\", args);", op.name);
    let _ = writeln!(out, "{INDENT}}}");
}

/// A registry doc as javadoc text on one logical line: HTML and `@` escaped, Markdown code
/// spans as `{@code …}`.
fn inline(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(joined.len());
    for (i, part) in joined.split('`').enumerate() {
        // Odd parts were between backticks; an unpaired backtick leaves its text as prose.
        let code = i % 2 == 1 && joined.matches('`').count() > i;
        if code && !part.contains(['{', '}', '@']) && !part.contains("*/") {
            let _ = write!(out, "{{@code {part}}}");
        } else if code {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// Prose made safe in javadoc: no HTML, no tags, no comment end.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('@', "&#64;")
        .replace("*/", "*&#47;")
}

/// Words of `text` filled into lines of at most `width` characters (a longer word stays
/// whole on its own line). `{@code …}` spans are never split.
fn fill(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words(text) {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Space-separated words, except that a `{@code …}` span with spaces counts as one word.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match out.last_mut() {
            Some(last) if depth > 0 => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_owned()),
        }
        depth += word.matches('{').count();
        depth = depth.saturating_sub(word.matches('}').count());
    }
    out
}

/// A `/** … */` block at [`INDENT`]: the summary, a blank line, then the tags, each filled.
fn javadoc(out: &mut String, summary: &str, tags: &[String]) {
    let width = WIDTH - INDENT.len() - 3;
    let _ = writeln!(out, "{INDENT}/**");
    for line in fill(summary, width) {
        let _ = writeln!(out, "{INDENT} * {line}");
    }
    if !tags.is_empty() {
        let _ = writeln!(out, "{INDENT} *");
    }
    for tag in tags {
        for (i, line) in fill(tag, width - 4).into_iter().enumerate() {
            let lead = if i == 0 { "" } else { "    " };
            let _ = writeln!(out, "{INDENT} * {lead}{line}");
        }
    }
    let _ = writeln!(out, "{INDENT} */");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn docs_are_escaped_and_code_spans_kept_whole() {
        assert_eq!(
            inline("Absent is left\nout, never `null`; a <b> & @x */"),
            "Absent is left out, never {@code null}; a &lt;b&gt; &amp; &#64;x *&#47;"
        );
        assert_eq!(inline("odd `tick"), "odd tick");
        assert_eq!(inline("`{x}`"), "<code>{x}</code>");
        assert_eq!(fill("aa {@code b c} dd", 8), ["aa", "{@code b c}", "dd"]);
    }

    #[test]
    fn methods_build_the_arguments_and_leave_absent_options_out() {
        let ops = crate::model::typed_operations().unwrap();
        let out = &outputs(&ops)[0];
        assert_eq!(out.region, Some("operations"));
        let body = &out.body;
        assert!(body.contains(
            "public Reply changeGoldPlanStatus(String subMchid, String operationType, \
             String operationPayScene) {"
        ));
        assert!(body.contains(
            "        if (operationPayScene != null) {\n            \
             args.addProperty(\"operation_pay_scene\", operationPayScene);\n        }\n"
        ));
        assert!(body.contains(
            "public Reply setAdvertisingIndustryFilter(String subMchid, \
             List<String> advertisingIndustryFilters) {"
        ));
        assert!(body.contains(
            "args.add(\"advertising_industry_filters\", list(advertisingIndustryFilters));"
        ));
        assert!(body.contains("{@code \"MINIPROGRAM\"}"));
        assert!(body.contains("return call(\"close_advertising_show\", args);"));
        assert!(
            body.lines()
                .filter(|l| l.trim_start().starts_with('*'))
                .all(|l| l.chars().count() <= WIDTH),
            "{body}"
        );
    }
}
