//! The python binding's generated regions: the typed methods of `Client` and `AsyncClient`
//! (literal method text inside the `#[pymethods]` block of the `client_class!` macro, because
//! pyo3 cannot expand a macro there) and their declarations in the type stub, with one
//! `Literal` alias per documented value set.
//!
//! A generated method only takes the arguments in the shapes JSON carries (a `str`, a sequence
//! of `str`, a `bool`, a JSON-able value) and sends them through the client's one `call_json`
//! path: which values are allowed, how many and in what case is the core's rule, so enum
//! values pass through as strings and the core's message is the one a caller sees.

use std::fmt::Write as _;

use crate::model::pascal;
use crate::{Op, Output, Param, ParamType};

const CLIENT: &str = "bindings/python/src/client.rs";
const STUB: &str = "bindings/python/python/goldplan/_goldplan.pyi";

/// Indentation of a method inside `client_class!`'s `#[pymethods] impl` block.
const RUST_INDENT: &str = "            ";

/// rustfmt's `max_width`: a signature that fits stays on one line.
const RUST_WIDTH: usize = 100;

/// clippy's `too_many_arguments` threshold.
const CLIPPY_MAX_ARGUMENTS: usize = 7;

/// Beyond this a stub alias is written one value per line.
const STUB_WIDTH: usize = 99;

pub(crate) fn outputs(ops: &[Op]) -> Vec<Output> {
    let aliases = Aliases::new(ops);
    vec![
        Output {
            path: CLIENT,
            region: Some("operations"),
            body: rust_methods(ops),
        },
        Output {
            path: STUB,
            region: Some("choices"),
            body: aliases.definitions(),
        },
        Output {
            path: STUB,
            region: Some("client"),
            body: stub_methods(ops, &aliases, "Reply"),
        },
        Output {
            path: STUB,
            region: Some("async-client"),
            body: stub_methods(ops, &aliases, "Awaitable[Reply]"),
        },
    ]
}

/// The Google-style docstring lines of an operation, wrapped to `width` characters: its doc,
/// then `Args:` with each documented parameter (Python tools show that section; rustdoc never
/// sees these private methods).
fn doc_lines(op: &Op, width: usize) -> Vec<String> {
    let mut lines = wrap("", "", &op.doc, width);
    let documented: Vec<&Param> = op.params.iter().filter(|p| !p.doc.is_empty()).collect();
    if !documented.is_empty() {
        lines.push(String::new());
        lines.push("Args:".to_owned());
        for p in documented {
            let first = format!("    {}: ", p.name);
            lines.extend(wrap(&first, "        ", &p.doc, width));
        }
    }
    lines
}

/// `text` (its line breaks are the schema's, not meant to be kept) as lines of at most
/// `width` characters where the words allow, the first starting with `first`, the others with
/// `rest`.
fn wrap(first: &str, rest: &str, text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// The Rust type pyo3 extracts a parameter as.
fn rust_type(p: &Param) -> String {
    let ty = match p.ty {
        ParamType::Text | ParamType::Choice(_) => "String",
        ParamType::TextList | ParamType::ChoiceList(_) => "Vec<String>",
        ParamType::Flag => "bool",
        ParamType::Integer => "i64",
        ParamType::Json => "crate::convert::JsonArg",
    };
    if p.required {
        ty.to_owned()
    } else {
        format!("Option<{ty}>")
    }
}

/// The methods of the `client_class!` macro, formatted as rustfmt leaves them.
fn rust_methods(ops: &[Op]) -> String {
    let i = RUST_INDENT;
    let mut out = String::new();
    for (n, op) in ops.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        for line in doc_lines(op, RUST_WIDTH - i.len() - "/// ".len()) {
            if line.is_empty() {
                let _ = writeln!(out, "{i}///");
            } else {
                let _ = writeln!(out, "{i}/// {line}");
            }
        }
        let signature: Vec<String> = op
            .params
            .iter()
            .map(|p| {
                if p.required {
                    p.name.clone()
                } else {
                    format!("{}=None", p.name)
                }
            })
            .collect();
        let _ = writeln!(out, "{i}#[pyo3(signature = ({}))]", signature.join(", "));
        // The parameters are the wire fields: a prepay has many, and a Python caller names
        // them (`self` and `py` count too).
        if op.params.len() + 2 > CLIPPY_MAX_ARGUMENTS {
            let _ = writeln!(out, "{i}#[allow(clippy::too_many_arguments)]");
        }
        let mut params = vec!["&self".to_owned(), "py: Python<'_>".to_owned()];
        params.extend(
            op.params
                .iter()
                .map(|p| format!("{}: {}", p.name, rust_type(p))),
        );
        let one_line = format!(
            "{i}fn {}({}) -> PyResult<Py<PyAny>> {{",
            op.name,
            params.join(", ")
        );
        if one_line.len() <= RUST_WIDTH {
            let _ = writeln!(out, "{one_line}");
        } else {
            let _ = writeln!(out, "{i}fn {}(", op.name);
            for p in &params {
                let _ = writeln!(out, "{i}    {p},");
            }
            let _ = writeln!(out, "{i}) -> PyResult<Py<PyAny>> {{");
        }
        let _ = writeln!(out, "{i}    let args = serde_json::json!({{");
        for p in &op.params {
            let _ = writeln!(out, "{i}        \"{0}\": {0},", p.name);
        }
        let _ = writeln!(out, "{i}    }});");
        let _ = writeln!(
            out,
            "{i}    self.call(py, Operation::{:?}, &args)",
            op.operation
        );
        let _ = writeln!(out, "{i}}}");
    }
    out
}

/// The stub's `Literal` aliases: one per distinct documented value set, named after the first
/// parameter that has it (`_OperationTypeChoice`), numbered when two different sets would
/// share a name.
struct Aliases {
    /// `(name, values)` in first-use order.
    sets: Vec<(String, Vec<String>)>,
}

impl Aliases {
    fn new(ops: &[Op]) -> Aliases {
        let mut sets: Vec<(String, Vec<String>)> = Vec::new();
        for p in ops.iter().flat_map(|op| &op.params) {
            let Some(values) = p.ty.choices() else {
                continue;
            };
            if sets.iter().any(|(_, v)| v == values) {
                continue;
            }
            let base = format!("_{}Choice", pascal(&p.name));
            let mut name = base.clone();
            let mut k = 2;
            while sets.iter().any(|(n, _)| *n == name) {
                name = format!("{base}{k}");
                k += 1;
            }
            sets.push((name, values.to_vec()));
        }
        Aliases { sets }
    }

    fn name(&self, values: &[String]) -> &str {
        self.sets
            .iter()
            .find(|(_, v)| v == values)
            .map_or("str", |(n, _)| n.as_str())
    }

    fn definitions(&self) -> String {
        let mut out = String::new();
        for (name, values) in &self.sets {
            let quoted: Vec<String> = values.iter().map(|v| py_string(v)).collect();
            let one_line = format!("{name} = Literal[{}]", quoted.join(", "));
            if one_line.len() <= STUB_WIDTH {
                let _ = writeln!(out, "{one_line}");
            } else {
                let _ = writeln!(out, "{name} = Literal[");
                for v in &quoted {
                    let _ = writeln!(out, "    {v},");
                }
                let _ = writeln!(out, "]");
            }
        }
        out
    }

    /// The stub type of a parameter: a documented value or any other string (the core takes
    /// the documented ones in any case and refuses the rest).
    fn stub_type(&self, p: &Param) -> String {
        let ty = match &p.ty {
            ParamType::Text => "str".to_owned(),
            ParamType::Choice(values) => format!("Union[{}, str]", self.name(values)),
            ParamType::TextList => "Sequence[str]".to_owned(),
            ParamType::ChoiceList(values) => {
                format!("Sequence[Union[{}, str]]", self.name(values))
            }
            ParamType::Flag => "bool".to_owned(),
            ParamType::Integer => "int".to_owned(),
            ParamType::Json => "Any".to_owned(),
        };
        if p.required {
            ty
        } else {
            format!("Optional[{ty}] = ...")
        }
    }
}

/// A Python string literal.
fn py_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The method declarations of one stub class; `reply` is the return type.
fn stub_methods(ops: &[Op], aliases: &Aliases, reply: &str) -> String {
    let mut out = String::new();
    for op in ops {
        let _ = writeln!(out, "    def {}(", op.name);
        let _ = writeln!(out, "        self,");
        for p in &op.params {
            let _ = writeln!(out, "        {}: {},", p.name, aliases.stub_type(p));
        }
        let _ = writeln!(out, "    ) -> {reply}:");
        // The first line also holds the opening quotes.
        let lines = doc_lines(op, STUB_WIDTH - "        \"\"\"".len());
        let escaped = |line: &str| line.replace('\\', "\\\\").replace('"', "\\\"");
        if lines.len() == 1 {
            let _ = writeln!(out, "        \"\"\"{}\"\"\"", escaped(&lines[0]));
        } else {
            for (n, line) in lines.iter().enumerate() {
                let quotes = if n == 0 { "\"\"\"" } else { "" };
                if line.is_empty() {
                    let _ = writeln!(out);
                } else {
                    let _ = writeln!(out, "        {quotes}{}", escaped(line));
                }
            }
            let _ = writeln!(out, "        \"\"\"");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::typed_operations;

    #[test]
    fn methods_take_wire_names_and_call_the_registry_operation() {
        let ops = typed_operations().unwrap();
        let out = outputs(&ops);
        let rust = &out[0].body;
        assert!(rust.contains(
            "            #[pyo3(signature = (sub_mchid, advertising_industry_filters=None))]\n"
        ));
        assert!(
            rust.contains("                advertising_industry_filters: Option<Vec<String>>,\n")
        );
        assert!(rust.contains(
            "                \"advertising_industry_filters\": advertising_industry_filters,\n"
        ));
        assert!(rust.contains("self.call(py, Operation::OpenAdvertisingShow, &args)\n"));
        // Too wide for one line at this indentation, so rustfmt puts each parameter on its own.
        assert!(rust.contains(
            "            fn close_advertising_show(\n                &self,\n                py: Python<'_>,\n                sub_mchid: String,\n            ) -> PyResult<Py<PyAny>> {\n"
        ));
        assert!(rust.contains("            ///     operation_type: OPEN or CLOSE.\n"));
        let aliases = &out[1].body;
        assert!(aliases.contains("_OperationTypeChoice = Literal[\"OPEN\", \"CLOSE\"]\n"));
        assert!(
            aliases.contains("_AdvertisingIndustryFiltersChoice = Literal[\n    \"E_COMMERCE\",\n")
        );
        assert_eq!(aliases.matches("_OperationTypeChoice").count(), 1);
        let client = &out[2].body;
        assert!(client.contains(
            "        advertising_industry_filters: Optional[Sequence[Union[_AdvertisingIndustryFiltersChoice, str]]] = ...,\n    ) -> Reply:\n"
        ));
        assert!(out[3].body.contains("    ) -> Awaitable[Reply]:\n"));
        assert!(client.contains("        \"\"\"关闭广告展示: turns ad display off.\n"));
    }

    #[test]
    fn docs_are_rewrapped_with_hanging_parameter_lines() {
        assert_eq!(
            wrap("    p: ", "        ", "one two\nthree  four", 16),
            ["    p: one two", "        three", "        four"]
        );
        assert_eq!(wrap("", "", "", 10), [""]);
        assert_eq!(
            wrap("", "", "unbreakable-long-word x", 5),
            ["unbreakable-long-word", "x"]
        );
        let ops = typed_operations().unwrap();
        for output in outputs(&ops) {
            for line in output.body.lines() {
                let width = if output.path == CLIENT {
                    RUST_WIDTH
                } else {
                    STUB_WIDTH + 3
                };
                let aliased = line.contains("Sequence[Union[_");
                // rustfmt leaves attribute arguments as written: a long signature stays on one
                // line, as `cargo fmt --check` accepts.
                let attribute = line.trim_start().starts_with("#[pyo3(signature");
                assert!(
                    aliased || attribute || line.chars().count() <= width,
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn different_sets_of_one_name_get_numbered_aliases() {
        let mut ops = typed_operations().unwrap();
        let page = ops
            .iter_mut()
            .find(|o| o.name == "change_custom_page_status")
            .unwrap();
        page.params[1].ty = ParamType::Choice(vec!["ON".into(), "OFF\"".into()]);
        page.params.push(Param {
            name: "extra".into(),
            doc: "Anything.".into(),
            ty: ParamType::Json,
            required: false,
        });
        let aliases = Aliases::new(&ops);
        let text = aliases.definitions();
        assert!(text.contains("_OperationTypeChoice = Literal[\"OPEN\", \"CLOSE\"]\n"));
        assert!(text.contains("_OperationTypeChoice2 = Literal[\"ON\", \"OFF\\\"\"]\n"));
        let rust = rust_methods(&ops);
        assert!(rust.contains("extra: Option<crate::convert::JsonArg>,\n"));
        assert!(rust.contains("#[pyo3(signature = (sub_mchid, operation_type, extra=None))]\n"));
        let stub = stub_methods(&ops, &aliases, "Reply");
        assert!(stub.contains("        operation_type: Union[_OperationTypeChoice2, str],\n"));
        assert!(stub.contains("        extra: Optional[Any] = ...,\n"));
    }
}
