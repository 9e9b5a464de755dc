//! The contract an APIv3 call implements to plug into the client and the operation registry.
//!
//! A service (Gold Plan today) is a module of request types. Each implements [`ApiCall`]: its
//! stable name, endpoint (a path template with `{name}` parameters), query, whether it is safe
//! to send again, its reply type and its client-side validation. The client sends any
//! `ApiCall` ([`crate::Client::call`]), and the registry
//! ([`crate::client::Operation`]) describes each one as data ([`OperationDescriptor`]) that
//! bindings and generators read instead of re-stating it.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};

/// An HTTP method and path of one operation. The path may hold `{name}` parameters that
/// [`ApiCall::path_params`] fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Absolute path template (no query).
    pub path: &'static str,
}

impl Endpoint {
    /// Whether `path` (no query, still percent-encoded) is this endpoint's path; `Some` holds
    /// the values of the template's `{name}` parameters, as sent (each one non-empty segment
    /// text). What a server routes with.
    pub fn match_path(&self, path: &str) -> Option<Vec<(&'static str, String)>> {
        let mut params = Vec::new();
        let mut template = self.path.split('/');
        let mut given = path.split('/');
        loop {
            match (template.next(), given.next()) {
                (None, None) => return Some(params),
                (Some(t), Some(g)) if t.starts_with('{') && t.ends_with('}') => {
                    if g.is_empty() {
                        return None;
                    }
                    params.push((&t[1..t.len() - 1], g.to_owned()));
                }
                (Some(t), Some(g)) if t == g => {}
                _ => return None,
            }
        }
    }
}

/// One WeChat Pay API call: the request type is the argument type of its operation (unknown
/// fields are refused by its `Deserialize`), and everything about the call is stated here once.
pub trait ApiCall: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// The stable snake_case operation name, the same in every language
    /// (`change_gold_plan_status`; camelCase in JavaScript and Java).
    const NAME: &'static str;
    /// The service it belongs to (`gold_plan`, `payments`): how the CLI and the documentation
    /// group operations.
    const SERVICE: &'static str;
    /// One line for documentation in every language.
    const DOC: &'static str;
    /// Where it goes.
    const ENDPOINT: Endpoint;
    /// Whether sending it twice has the effect of sending it once (spec §7.4): such a call is
    /// sent again after an ambiguous failure (timeout, reset, 5xx).
    const IDEMPOTENT: bool;
    /// The decoded answer; [`NoContent`] for `204`.
    type Reply: Serialize + DeserializeOwned + JsonSchema + Send + 'static;

    /// Client-side validation (the spec's rules): refuse what the server would refuse anyway,
    /// before anything is signed or sent.
    fn validate(&self) -> Result<()>;

    /// Values of the path template's `{name}` parameters (percent-encoded when the target is
    /// built). Fields that go into the path are skipped when the body is serialised.
    fn path_params(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }

    /// Query parameters, in order (percent-encoded when the target is built).
    fn query(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// What a path parameter or query value may hold unencoded (RFC 3986 unreserved).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The request target (`/path?query`) of `call`: the endpoint's template with its parameters
/// filled in, then the query, every value percent-encoded.
pub fn request_target<R: ApiCall>(call: &R) -> Result<String> {
    let params = call.path_params();
    let mut target = String::with_capacity(R::ENDPOINT.path.len() + 32);
    let mut rest = R::ENDPOINT.path;
    while let Some(open) = rest.find('{') {
        target.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            Error::Internal(format!("{}: unclosed parameter in its path", R::NAME))
        })?;
        let name = &after[..close];
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                Error::Internal(format!("{}: no value for path parameter {name}", R::NAME))
            })?;
        if value.is_empty() {
            return Err(Error::InvalidInput(format!("{name} must not be empty")));
        }
        target.extend(utf8_percent_encode(value, COMPONENT));
        rest = &after[close + 1..];
    }
    target.push_str(rest);
    for (i, (name, value)) in call.query().iter().enumerate() {
        target.push(if i == 0 { '?' } else { '&' });
        target.push_str(name);
        target.push('=');
        target.extend(utf8_percent_encode(value, COMPONENT));
    }
    Ok(target)
}

/// The body of `call`: its JSON, or none for a `GET`.
pub fn request_body<R: ApiCall>(call: &R) -> Result<Option<Vec<u8>>> {
    if R::ENDPOINT.method == "GET" {
        return Ok(None);
    }
    serde_json::to_vec(call)
        .map(Some)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise the body: {e}")))
}

/// Decodes the verified body of a reply: an empty body is JSON `null` (what [`NoContent`] and
/// `Option` replies take).
pub fn decode_reply<T: DeserializeOwned>(body: &[u8], request_id: Option<&str>) -> Result<T> {
    let body: &[u8] = if body.is_empty() { b"null" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        Error::Decode(format!(
            "unexpected response body{}: {}",
            request_id
                .map(|id| format!(" (Request-ID {})", crate::error::Untrusted(id, 128)))
                .unwrap_or_default(),
            crate::redact::redact_quoted(&e.to_string())
        ))
    })
}

/// The reply of a call answered with `204 No Content`: `null` in JSON; whatever body comes
/// with it is ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoContent;

impl Serialize for NoContent {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for NoContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<NoContent, D::Error> {
        IgnoredAny::deserialize(d).map(|_| NoContent)
    }
}

impl JsonSchema for NoContent {
    fn schema_name() -> Cow<'static, str> {
        "NoContent".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "null" })
    }
}

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
    /// A whole number (64 bits).
    Integer,
    /// Any JSON value, or a structure (such as a list of header pairs) that crosses as JSON.
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

impl ParamType {
    /// The stable name of the type in [`OperationDescriptor::parameters`]: `text`, `choice`,
    /// `text_list`, `choice_list`, `flag`, `integer` or `json`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Choice(_) => "choice",
            ParamType::TextList => "text_list",
            ParamType::ChoiceList(_) => "choice_list",
            ParamType::Flag => "flag",
            ParamType::Integer => "integer",
            ParamType::Json => "json",
        }
    }
}

impl Serialize for Param {
    /// `{name, type, required, choices?, doc}`: what a binding's test reads to call a typed
    /// method with positional arguments.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = s.serialize_map(None)?;
        out.serialize_entry("name", &self.name)?;
        out.serialize_entry("type", self.ty.as_str())?;
        out.serialize_entry("required", &self.required)?;
        if let Some(choices) = self.ty.choices() {
            out.serialize_entry("choices", choices)?;
        }
        out.serialize_entry("doc", &self.doc)?;
        out.end()
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

/// The parameters of an operation, read from the JSON Schema of its arguments: the required
/// ones in declaration order, then the optional ones by name (the order of a binding's
/// signature).
pub fn parameters(schema: &Value) -> Result<Vec<Param>> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(Error::Internal(
            "an arguments schema is not an object".into(),
        ));
    }
    let empty = serde_json::Map::new();
    // No properties: an operation without arguments.
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(properties.len());
    for name in &required {
        let property = properties
            .get(*name)
            .ok_or_else(|| Error::Internal(format!("required {name} is not a property")))?;
        out.push(param(name, property, true)?);
    }
    // serde_json's map is ordered by key: the optional ones follow by name.
    for (name, property) in properties {
        if !required.contains(&name.as_str()) {
            out.push(param(name, property, false)?);
        }
    }
    Ok(out)
}

fn param(name: &str, property: &Value, required: bool) -> Result<Param> {
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
                // A list of structures (such as header pairs) crosses as JSON.
                _ => ParamType::Json,
            }
        }
        ["boolean"] => ParamType::Flag,
        ["integer"] => ParamType::Integer,
        [] | ["object"] => ParamType::Json,
        other => {
            return Err(Error::Internal(format!(
                "{name}: no binding type for {other:?}"
            )));
        }
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

/// An operation described as data: what the registry gives every binding and generator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationDescriptor {
    /// The stable snake_case name.
    pub name: &'static str,
    /// The service of a remote call or a client operation (`gold_plan`, `payments`, `media`,
    /// `core`); `None` for helpers and methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<&'static str>,
    /// `remote` (a signed call to WeChat Pay), `client` (served by the client itself, such
    /// as a certificate download that updates its trusted set), `local` (a helper that needs
    /// no client) or `method` (an operation of an object a binding holds, with no JSON form).
    pub kind: &'static str,
    /// Where a binding offers it: `client`, `module` (a function), `signer` or `verifier`.
    pub receiver: &'static str,
    /// One line of documentation.
    pub doc: &'static str,
    /// The HTTP method of a remote call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    /// The path template of a remote call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'static str>,
    /// Whether it is sent again after an ambiguous failure.
    pub idempotent: bool,
    /// The arguments as a binding's signature takes them, in call order (see
    /// [`parameters`]).
    pub parameters: Vec<Param>,
    /// JSON Schema of the arguments object.
    pub arguments: serde_json::Value,
    /// JSON Schema of the result.
    pub reply: serde_json::Value,
}

/// The JSON Schema of `T`, self-contained (definitions inlined): what a generator reads.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(object) = schema.as_object_mut() {
        // The same for every schema; a descriptor says what the schema is of.
        object.remove("$schema");
    }
    schema
}

/// The descriptor of a remote call.
pub fn describe<R: ApiCall>() -> OperationDescriptor {
    let arguments = schema_of::<R>();
    OperationDescriptor {
        name: R::NAME,
        service: Some(R::SERVICE),
        kind: "remote",
        receiver: "client",
        doc: R::DOC,
        method: Some(R::ENDPOINT.method),
        path: Some(R::ENDPOINT.path),
        idempotent: R::IDEMPOTENT,
        parameters: parameters_of(&arguments),
        arguments,
        reply: schema_of::<R::Reply>(),
    }
}

/// The parameters of an arguments schema; a schema this cannot read (not an object of
/// parameters a binding can spell) describes none, and the registry test refuses it.
pub fn parameters_of(arguments: &Value) -> Vec<Param> {
    parameters(arguments).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct QueryOrder {
        #[serde(skip_serializing)]
        out_trade_no: String,
        sp_mchid: String,
    }

    impl ApiCall for QueryOrder {
        const NAME: &'static str = "query_order";
        const SERVICE: &'static str = "payments";
        const DOC: &'static str = "Query an order.";
        const ENDPOINT: Endpoint = Endpoint {
            method: "GET",
            path: "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}",
        };
        const IDEMPOTENT: bool = true;
        type Reply = NoContent;
        fn validate(&self) -> Result<()> {
            Ok(())
        }
        fn path_params(&self) -> Vec<(&'static str, &str)> {
            vec![("out_trade_no", &self.out_trade_no)]
        }
        fn query(&self) -> Vec<(&'static str, String)> {
            vec![("sp_mchid", self.sp_mchid.clone())]
        }
    }

    #[test]
    fn path_parameters_and_query_are_filled_in_and_encoded() {
        let call = QueryOrder {
            out_trade_no: "a b/c".into(),
            sp_mchid: "1900000100&x=1".into(),
        };
        assert_eq!(
            request_target(&call).unwrap(),
            "/v3/pay/partner/transactions/out-trade-no/a%20b%2Fc?sp_mchid=1900000100%26x%3D1"
        );
        assert_eq!(request_body(&call).unwrap(), None);
        let empty = QueryOrder {
            out_trade_no: String::new(),
            sp_mchid: "1".into(),
        };
        assert_eq!(
            request_target(&empty).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn templated_paths_match_with_their_parameters() {
        let endpoint = QueryOrder::ENDPOINT;
        assert_eq!(
            endpoint.match_path("/v3/pay/partner/transactions/out-trade-no/a%20b"),
            Some(vec![("out_trade_no", "a%20b".to_owned())])
        );
        assert_eq!(
            endpoint.match_path("/v3/pay/partner/transactions/out-trade-no/"),
            None
        );
        assert_eq!(
            endpoint.match_path("/v3/pay/partner/transactions/out-trade-no/a/b"),
            None
        );
        let literal = Endpoint {
            method: "POST",
            path: "/v3/goldplan/merchants/close-advertising-show",
        };
        assert_eq!(literal.match_path(literal.path), Some(Vec::new()));
        assert_eq!(literal.match_path("/v3/goldplan/merchants"), None);
    }

    #[test]
    fn no_content_takes_any_body_and_is_null() {
        let _: NoContent = decode_reply(b"", None).unwrap();
        let _: NoContent = decode_reply(br#"{"ignored":1}"#, None).unwrap();
        assert_eq!(serde_json::to_string(&NoContent).unwrap(), "null");
        let d = describe::<QueryOrder>();
        assert_eq!(d.reply["type"], "null");
        assert_eq!(
            d.arguments["required"],
            serde_json::json!(["out_trade_no", "sp_mchid"])
        );
        assert_eq!(
            d.arguments["additionalProperties"],
            serde_json::json!(false)
        );
    }
}
