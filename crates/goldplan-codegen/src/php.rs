//! The php binding's generated regions: one API through two doors, so every operation is
//! written three times from the same [`Op`] — the FFI package's `Client` method
//! (`bindings/php/src/Client.php`), its declaration in the shared stub
//! (`bindings/php/goldplan.stub.php`, from which PHP's `gen_stub.php` writes the extension's
//! arginfo) and the extension's `ZEND_METHOD` body (`bindings/php/ext/goldplan_client.c`).
//! Every method builds the arguments object under the wire names and hands it to the door's
//! generic `goldplan_client_call` path; values (enum values included) go as given, because the
//! core is the one place that checks them.

use crate::{Op, Output, Param, ParamType};

/// The FFI package's `GoldPlan\Client`.
const FFI_CLIENT: &str = "bindings/php/src/Client.php";
/// The API both doors implement.
const STUB: &str = "bindings/php/goldplan.stub.php";
/// The extension's `GoldPlan\Client`.
const EXT_CLIENT: &str = "bindings/php/ext/goldplan_client.c";
/// The region's name in each of the three files.
const REGION: &str = "operations";
/// Doc comments are wrapped to stay within this many columns.
const WIDTH: usize = 100;

pub(crate) fn outputs(ops: &[Op]) -> Vec<Output> {
    let mut ffi = String::new();
    let mut stub = String::new();
    let mut ext = String::new();
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            ffi.push('\n');
            stub.push('\n');
            ext.push('\n');
        }
        ffi.push_str(&ffi_method(op));
        stub.push_str(&stub_method(op));
        ext.push_str(&ext_method(op));
    }
    vec![
        Output {
            path: FFI_CLIENT,
            region: Some(REGION),
            body: ffi,
        },
        Output {
            path: STUB,
            region: Some(REGION),
            body: stub,
        },
        Output {
            path: EXT_CLIENT,
            region: Some(REGION),
            body: ext,
        },
    ]
}

/// The PHP declaration type of a parameter (nullable, with a null default, when optional).
fn php_type(param: &Param) -> &'static str {
    match (&param.ty, param.required) {
        (ParamType::Text | ParamType::Choice(_), true) => "string",
        (ParamType::Text | ParamType::Choice(_), false) => "?string",
        (ParamType::TextList | ParamType::ChoiceList(_), true) => "array",
        (ParamType::TextList | ParamType::ChoiceList(_), false) => "?array",
        (ParamType::Flag, true) => "bool",
        (ParamType::Flag, false) => "?bool",
        (ParamType::Integer, true) => "int",
        (ParamType::Integer, false) => "?int",
        // `mixed` already includes null, and PHP refuses `?mixed`.
        (ParamType::Json, _) => "mixed",
    }
}

/// The PHPDoc type of a parameter. gen_stub.php reads `@param` types with a pattern that has
/// no `?`, so nullable ones are spelt as unions.
fn doc_type(param: &Param) -> &'static str {
    match (&param.ty, param.required) {
        (ParamType::Text | ParamType::Choice(_), true) => "string",
        (ParamType::Text | ParamType::Choice(_), false) => "string|null",
        (ParamType::TextList | ParamType::ChoiceList(_), true) => "string[]",
        (ParamType::TextList | ParamType::ChoiceList(_), false) => "string[]|null",
        (ParamType::Flag, true) => "bool",
        (ParamType::Flag, false) => "bool|null",
        (ParamType::Integer, true) => "int",
        (ParamType::Integer, false) => "int|null",
        (ParamType::Json, _) => "mixed",
    }
}

/// The PHP name of a parameter: its wire name in camelCase, which PHP 8's named arguments use.
fn php_name(param: &Param) -> String {
    crate::model::camel(&param.name)
}

/// `type $name[ = null]`, comma-separated.
fn signature(op: &Op) -> String {
    let params: Vec<String> = op
        .params
        .iter()
        .map(|p| {
            let default = if p.required { "" } else { " = null" };
            format!("{} ${}{default}", php_type(p), php_name(p))
        })
        .collect();
    format!(
        "public function {}({}): array",
        op.camel(),
        params.join(", ")
    )
}

/// A parameter's documentation, with the documented values of a choice unless the text
/// already names them all. Any case is taken (the core checks), so the values are named, not
/// enforced, here.
fn param_doc(param: &Param) -> String {
    let mut doc = param.doc.trim().to_owned();
    let named = |values: &[String]| {
        let words: Vec<&str> = doc
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        values.iter().all(|v| words.contains(&v.as_str()))
    };
    match &param.ty {
        ParamType::Choice(values) if !named(values) => {
            doc.push_str(&format!(" One of {}.", values.join(", ")));
        }
        ParamType::ChoiceList(values) if !named(values) => {
            doc.push_str(&format!(" Each one of {}.", values.join(", ")));
        }
        _ => {}
    }
    doc.trim().to_owned()
}

/// The lines of an operation's PHPDoc comment (without the comment's own punctuation).
fn doc_lines(op: &Op) -> Vec<String> {
    let descriptor = op.operation.descriptor();
    let mut paragraphs = vec![op.doc.trim().to_owned()];
    let mut endpoint = match (descriptor.method, descriptor.path) {
        (Some(method), Some(path)) => format!("{method} {path}: "),
        _ => String::new(),
    };
    endpoint.push_str(if op.no_content {
        "returns [] (the API answers 204 No Content)."
    } else {
        "returns WeChat Pay's reply as an array."
    });
    paragraphs.push(endpoint);
    let mut lines = Vec::new();
    for (i, paragraph) in paragraphs.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(wrap(paragraph, WIDTH - 11, 0));
    }
    if !op.params.is_empty() {
        lines.push(String::new());
        for param in &op.params {
            let text = format!(
                "@param {} ${} {}",
                doc_type(param),
                php_name(param),
                param_doc(param)
            );
            // Continuation lines are indented under the tag's text.
            lines.extend(wrap(&text, WIDTH - 11, 2));
        }
    }
    lines
}

/// A PHPDoc comment at four spaces of indentation.
fn doc_comment(op: &Op) -> String {
    let mut out = String::from("    /**\n");
    for line in doc_lines(op) {
        if line.is_empty() {
            out.push_str("     *\n");
        } else {
            out.push_str(&format!("     * {}\n", comment_safe(&line)));
        }
    }
    out.push_str("     */\n");
    out
}

/// The FFI package's method: the arguments array, optional ones only when given, and the
/// shared `call()`.
fn ffi_method(op: &Op) -> String {
    // The local's name must not be a parameter's.
    let local = if op.params.iter().any(|p| php_name(p) == "args") {
        "arguments"
    } else {
        "args"
    };
    let mut out = doc_comment(op);
    out.push_str(&format!("    {}\n    {{\n", signature(op)));
    let required: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| format!("'{}' => {}", php_literal(&p.name), ffi_value(p)))
        .collect();
    let one_line = format!("        ${local} = [{}];\n", required.join(", "));
    if one_line.chars().count() <= WIDTH + 1 {
        out.push_str(&one_line);
    } else {
        out.push_str(&format!("        ${local} = [\n"));
        for entry in &required {
            out.push_str(&format!("            {entry},\n"));
        }
        out.push_str("        ];\n");
    }
    for p in op.params.iter().filter(|p| !p.required) {
        out.push_str(&format!(
            "        if (${} !== null) {{\n            ${local}['{}'] = {};\n        }}\n",
            php_name(p),
            php_literal(&p.name),
            ffi_value(p)
        ));
    }
    out.push_str(&format!(
        "        return $this->call('{}', ${local});\n    }}\n",
        php_literal(&op.name)
    ));
    out
}

/// A parameter's value as sent: a list goes as a JSON list whatever its PHP keys are, as the
/// extension sends it.
fn ffi_value(param: &Param) -> String {
    if param.ty.is_list() {
        format!("array_values(${})", php_name(param))
    } else {
        format!("${}", php_name(param))
    }
}

/// The stub's declaration (gen_stub.php reads the signature; the doc is the API reference).
fn stub_method(op: &Op) -> String {
    let mut out = String::new();
    for line in doc_comment(op).lines() {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str(&format!("        {} {{}}\n", signature(op)));
    out
}

/// The extension's method: parameters parsed as the stub declares them, the arguments array
/// built under the wire names, and the shared `call_operation()`.
fn ext_method(op: &Op) -> String {
    let descriptor = op.operation.descriptor();
    let mut out = String::new();
    let mut wrapped = wrap(op.doc.trim(), WIDTH - 3, 0);
    if let (Some(method), Some(path)) = (descriptor.method, descriptor.path) {
        wrapped.push(format!("{method} {path}"));
    }
    for (i, line) in wrapped.iter().enumerate() {
        let lead = if i == 0 { "/* " } else { " * " };
        let tail = if i + 1 == wrapped.len() { " */" } else { "" };
        out.push_str(&format!("{lead}{}{tail}\n", comment_safe(line)));
    }
    out.push_str(&format!(
        "ZEND_METHOD(GoldPlan_Client, {})\n{{\n",
        op.camel()
    ));
    for p in &op.params {
        let name = c_name(p);
        let declaration = match (&p.ty, p.required) {
            (ParamType::Text | ParamType::Choice(_), true) => format!("zend_string *{name};"),
            (ParamType::Text | ParamType::Choice(_), false) => {
                format!("zend_string *{name} = NULL;")
            }
            (ParamType::TextList | ParamType::ChoiceList(_), true) => {
                format!("HashTable *{name};")
            }
            (ParamType::TextList | ParamType::ChoiceList(_), false) => {
                format!("HashTable *{name} = NULL;")
            }
            (ParamType::Integer, true) => format!("zend_long {name} = 0;"),
            (ParamType::Integer, false) => {
                format!("zend_long {name} = 0;\n\tbool {name}_is_null = true;")
            }
            (ParamType::Flag, true) => format!("bool {name} = false;"),
            (ParamType::Flag, false) => {
                format!("bool {name} = false;\n\tbool {name}_is_null = true;")
            }
            (ParamType::Json, true) => format!("zval *{name};"),
            (ParamType::Json, false) => format!("zval *{name} = NULL;"),
        };
        out.push_str(&format!("\t{declaration}\n"));
    }
    let min = op.params.iter().filter(|p| p.required).count();
    let max = op.params.len();
    if max == 0 {
        out.push_str("\tZEND_PARSE_PARAMETERS_NONE();\n");
    } else {
        out.push_str(&format!("\tZEND_PARSE_PARAMETERS_START({min}, {max})\n"));
        for (i, p) in op.params.iter().enumerate() {
            if i == min {
                out.push_str("\t\tZ_PARAM_OPTIONAL\n");
            }
            let name = c_name(p);
            let parse = match (&p.ty, p.required) {
                (ParamType::Text | ParamType::Choice(_), true) => format!("Z_PARAM_STR({name})"),
                (ParamType::Text | ParamType::Choice(_), false) => {
                    format!("Z_PARAM_STR_OR_NULL({name})")
                }
                (ParamType::TextList | ParamType::ChoiceList(_), true) => {
                    format!("Z_PARAM_ARRAY_HT({name})")
                }
                (ParamType::TextList | ParamType::ChoiceList(_), false) => {
                    format!("Z_PARAM_ARRAY_HT_OR_NULL({name})")
                }
                (ParamType::Integer, true) => format!("Z_PARAM_LONG({name})"),
                (ParamType::Integer, false) => {
                    format!("Z_PARAM_LONG_OR_NULL({name}, {name}_is_null)")
                }
                (ParamType::Flag, true) => format!("Z_PARAM_BOOL({name})"),
                (ParamType::Flag, false) => {
                    format!("Z_PARAM_BOOL_OR_NULL({name}, {name}_is_null)")
                }
                (ParamType::Json, true) => format!("Z_PARAM_ZVAL({name})"),
                (ParamType::Json, false) => format!("Z_PARAM_ZVAL_OR_NULL({name})"),
            };
            out.push_str(&format!("\t\t{parse}\n"));
        }
        out.push_str("\tZEND_PARSE_PARAMETERS_END();\n");
    }
    out.push_str("\tzval args;\n\tarray_init(&args);\n");
    for p in &op.params {
        let name = c_name(p);
        let key = c_literal(&p.name);
        let add = match &p.ty {
            ParamType::Text | ParamType::Choice(_) => {
                format!("add_assoc_str(&args, \"{key}\", zend_string_copy({name}));")
            }
            ParamType::TextList | ParamType::ChoiceList(_) => {
                format!("gp_add_list(&args, \"{key}\", {name});")
            }
            ParamType::Flag => format!("add_assoc_bool(&args, \"{key}\", {name});"),
            ParamType::Integer => format!("add_assoc_long(&args, \"{key}\", {name});"),
            ParamType::Json => {
                format!("Z_TRY_ADDREF_P({name});\n\tadd_assoc_zval(&args, \"{key}\", {name});")
            }
        };
        if p.required {
            out.push_str(&format!("\t{add}\n"));
        } else {
            let present = match p.ty {
                ParamType::Flag | ParamType::Integer => format!("!{name}_is_null"),
                _ => name.clone(),
            };
            let add = add.replace('\n', "\n\t");
            out.push_str(&format!("\tif ({present}) {{\n\t\t{add}\n\t}}\n"));
        }
    }
    out.push_str(&format!(
        "\tcall_operation(ZEND_THIS, \"{}\", &args, return_value);\n}}\n",
        c_literal(&op.name)
    ));
    out
}

/// The C variable of a parameter: its wire name, unless that is a C keyword or a name the
/// method body already uses.
fn c_name(param: &Param) -> String {
    const TAKEN: &[&str] = &[
        "args",
        "return_value",
        "execute_data",
        "auto",
        "bool",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "false",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "true",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
    ];
    if TAKEN.contains(&param.name.as_str()) {
        format!("{}_arg", param.name)
    } else {
        param.name.clone()
    }
}

/// Text for a single-quoted PHP string.
fn php_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

/// Text for a C string literal.
fn c_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Text that cannot end the comment it is in.
fn comment_safe(text: &str) -> String {
    text.replace("*/", "*\u{2215}")
}

/// `text` in lines of at most `width` characters where words allow, continuation lines
/// indented by `hang` spaces.
fn wrap(text: &str, width: usize, hang: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            if !lines.is_empty() {
                line.push_str(&" ".repeat(hang));
            }
        } else {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn op(name: &str) -> Op {
        crate::model::typed_operations()
            .unwrap()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap()
    }

    #[test]
    fn both_doors_send_the_wire_names_and_leave_absent_optionals_out() {
        let status = op("change_gold_plan_status");
        assert_eq!(
            signature(&status),
            "public function changeGoldPlanStatus(string $subMchid, string $operationType, \
             ?string $operationPayScene = null): array"
        );
        let ffi = ffi_method(&status);
        assert!(
            ffi.contains("$args = ['sub_mchid' => $subMchid, 'operation_type' => $operationType];")
        );
        assert!(ffi.contains("if ($operationPayScene !== null) {"));
        assert!(ffi.contains("@param string|null $operationPayScene"));
        let ext = ext_method(&status);
        assert!(ext.contains("ZEND_PARSE_PARAMETERS_START(2, 3)"));
        assert!(
            ext.contains("\t\tZ_PARAM_OPTIONAL\n\t\tZ_PARAM_STR_OR_NULL(operation_pay_scene)\n")
        );
        assert!(ext.contains("\tif (operation_pay_scene) {\n"));
        assert!(ext.contains(
            "call_operation(ZEND_THIS, \"change_gold_plan_status\", &args, return_value);"
        ));

        let open = op("open_advertising_show");
        let ffi = ffi_method(&open);
        assert!(ffi.contains("array_values($advertisingIndustryFilters)"));
        assert!(
            doc_lines(&open)
                .join(" ")
                .contains("returns [] (the API answers 204 No Content)")
        );
        assert!(ext_method(&open).contains(
            "gp_add_list(&args, \"advertising_industry_filters\", advertising_industry_filters);"
        ));
    }

    #[test]
    fn every_parameter_type_has_a_spelling_in_each_door() {
        let mut custom = op("close_advertising_show");
        custom.params = vec![
            Param {
                name: "return".into(),
                doc: "A flag.".into(),
                ty: ParamType::Flag,
                required: true,
            },
            Param {
                name: "extra".into(),
                doc: "Any JSON; */ stays inside the comment.".into(),
                ty: ParamType::Json,
                required: false,
            },
            Param {
                name: "maybe".into(),
                doc: "An optional flag.".into(),
                ty: ParamType::Flag,
                required: false,
            },
        ];
        assert!(
            signature(&custom).contains("(bool $return, mixed $extra = null, ?bool $maybe = null)")
        );
        let ext = ext_method(&custom);
        assert!(ext.contains("\tbool return_arg = false;\n"));
        assert!(ext.contains("\t\tZ_PARAM_ZVAL_OR_NULL(extra)\n"));
        assert!(ext.contains("\t\tZ_PARAM_BOOL_OR_NULL(maybe, maybe_is_null)\n"));
        assert!(
            ext.contains("\tif (!maybe_is_null) {\n\t\tadd_assoc_bool(&args, \"maybe\", maybe);\n")
        );
        assert!(ext.contains("\tif (extra) {\n\t\tZ_TRY_ADDREF_P(extra);\n\t\tadd_assoc_zval(&args, \"extra\", extra);\n"));
        let doc = stub_method(&custom);
        assert!(!doc.contains("; */ stays"), "{doc}");
        assert!(doc.contains("@param bool|null $maybe"));
    }

    #[test]
    fn long_docs_wrap_under_their_tag() {
        assert_eq!(
            wrap("@param string[] $x one two three", 20, 2),
            ["@param string[] $x", "  one two three"]
        );
        assert_eq!(wrap("", 20, 2), Vec::<String>::new());
    }
}
