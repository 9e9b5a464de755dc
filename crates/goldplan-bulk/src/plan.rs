//! Plans: one row per special merchant saying which Gold Plan switches to set, read from CSV
//! (with a header) or JSON Lines, validated as a whole before anything is sent, and turned into
//! the registry operations that carry it out, in the order the product needs.
//!
//! Columns (every one but `sub_mchid` optional; empty means "leave this switch alone"):
//!
//! | column | values |
//! |---|---|
//! | `sub_mchid` | 1 to 32 digits |
//! | `gold_plan` | `OPEN` / `CLOSE` |
//! | `pay_scene` | `JSAPI_AND_MINIPROGRAM` / `JSAPI` / `MINIPROGRAM`, only with `gold_plan` OPEN |
//! | `custom_page` | `OPEN` / `CLOSE` (the merchant receipt, 商家小票) |
//! | `industry_filter` | 1 to 3 industry tags separated by `\|` or `;` |
//! | `ad_show` | `OPEN` / `CLOSE` |
//! | `ad_tags` | 0 to 3 industry tags, only with `ad_show` OPEN |
//!
//! The enums, the `sub_mchid` length rule and each request's own checks are the core's
//! (`goldplan::gold_plan`); this module adds only what is about plans: file lines, duplicate
//! rows and tags, and combinations of switches that cannot all hold.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use goldplan::client::Operation;
use goldplan::gold_plan::{
    ApiCall, ChangeCustomPageStatusRequest, ChangeGoldPlanStatusRequest,
    CloseAdvertisingShowRequest, IndustryType, MAX_INDUSTRY_FILTERS, OpenAdvertisingShowRequest,
    OperationPayScene, OperationType, SetAdvertisingIndustryFilterRequest, validate_sub_mchid,
};
use goldplan::redact::Rejected;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::error::BulkError;

/// The columns a plan may have, in the order a report lists them.
pub const COLUMNS: &[&str] = &[
    "sub_mchid",
    "gold_plan",
    "pay_scene",
    "custom_page",
    "industry_filter",
    "ad_show",
    "ad_tags",
];

/// Largest plan file read (a plan of 100 000 merchants is a few MiB).
pub const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;

/// How a plan file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanFormat {
    /// CSV with a header line naming the columns.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl PlanFormat {
    /// The format by file extension (`.csv`; `.jsonl`, `.ndjson`, `.json`), else by content: a
    /// first non-blank character `{` means JSON Lines.
    pub fn detect(name: &str, text: &str) -> PlanFormat {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            PlanFormat::Csv
        } else if [".jsonl", ".ndjson", ".json"]
            .iter()
            .any(|ext| lower.ends_with(ext))
            || text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with('{')
        {
            PlanFormat::JsonLines
        } else {
            PlanFormat::Csv
        }
    }
}

/// One problem of a plan, with the file line it is on (1-based; the header is line 1 of a CSV
/// file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanProblem {
    /// File line.
    pub line: u64,
    /// The column concerned, when there is one.
    pub column: Option<String>,
    /// What is wrong; a value is quoted only when it is no longer than an industry tag.
    pub message: String,
}

impl fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Every problem found in a plan: nothing of it may be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct PlanErrors {
    /// The plan's name (its file name).
    pub source_name: String,
    /// The problems, in file order.
    pub problems: Vec<PlanProblem>,
}

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the plan {} has {n} problem{}; nothing was sent",
            self.source_name,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// The desired switches of one special merchant (one plan row). `None` leaves a switch alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MerchantPlan {
    /// File line of the row.
    pub line: u64,
    /// The special merchant.
    pub sub_mchid: String,
    /// Gold Plan itself.
    pub gold_plan: Option<OperationType>,
    /// The pay scene Gold Plan is opened for (only with `gold_plan` OPEN; omitted: WeChat Pay's
    /// default, JSAPI).
    pub pay_scene: Option<OperationPayScene>,
    /// The merchant receipt (商家小票).
    pub custom_page: Option<OperationType>,
    /// The advertising industry filter (同业过滤标签), 1 to 3 tags; it replaces the previous one.
    pub industry_filter: Option<Vec<IndustryType>>,
    /// Advertising display.
    pub ad_show: Option<OperationType>,
    /// Tags sent with ad display OPEN (0 to 3).
    pub ad_tags: Vec<IndustryType>,
}

/// One operation of a plan: a registry [`Operation`] with its JSON arguments, sent through
/// `Client::call_json` (one path, the core's validation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedOperation {
    /// File line of the row it comes from.
    pub line: u64,
    /// The special merchant.
    pub sub_mchid: String,
    /// Position in this merchant's sequence (0-based).
    pub seq: u32,
    /// The registry operation.
    #[serde(serialize_with = "operation_name")]
    pub operation: Operation,
    /// Its arguments, as `call_json` takes them.
    pub arguments: Value,
    /// Positions (`seq`) of this merchant's operations that must succeed first.
    pub depends_on: Vec<u32>,
}

pub(crate) fn operation_name<S: Serializer>(op: &Operation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(op.as_str())
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    source_name: String,
    sha256: String,
    format: PlanFormat,
    merchants: Vec<MerchantPlan>,
}

impl Plan {
    /// Reads and validates a plan file (format by extension or content).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Plan, BulkError> {
        let path = path.as_ref();
        let io = |source| BulkError::Io {
            path: path.display().to_string(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_PLAN_BYTES {
            return Err(BulkError::InvalidInput(format!(
                "the plan {} has {size} bytes; at most {MAX_PLAN_BYTES} are read",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let text = String::from_utf8(bytes).map_err(|e| {
            BulkError::InvalidInput(format!(
                "the plan {name} is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Ok(Plan::parse(&name, &text, None)?)
    }

    /// Parses and validates plan text; `format` `None` detects it from `source_name` and the
    /// content. The plan's hash is the SHA-256 of `text`.
    pub fn parse(
        source_name: &str,
        text: &str,
        format: Option<PlanFormat>,
    ) -> Result<Plan, PlanErrors> {
        let format = format.unwrap_or_else(|| PlanFormat::detect(source_name, text));
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut problems = Vec::new();
        let rows = match format {
            PlanFormat::Csv => read_csv(body, &mut problems),
            PlanFormat::JsonLines => read_json_lines(body, &mut problems),
        };
        let merchants = validate_rows(rows, &mut problems);
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.line);
            return Err(PlanErrors {
                source_name: source_name.to_owned(),
                problems,
            });
        }
        Ok(Plan {
            source_name: source_name.to_owned(),
            sha256: sha256_hex(text.as_bytes()),
            format,
            merchants,
        })
    }

    /// A plan from rows given as JSON objects (what Python or Node pass): each row is one line
    /// of JSON Lines, so row `i` is reported as line `i + 1`.
    pub fn from_rows(source_name: &str, rows: &[Value]) -> Result<Plan, PlanErrors> {
        let text: Vec<String> = rows.iter().map(Value::to_string).collect();
        Plan::parse(source_name, &text.join("\n"), Some(PlanFormat::JsonLines))
    }

    /// The plan's name (its file name).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Lower-case hex SHA-256 of the plan text: what binds a journal to its plan.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The format it was read as.
    pub fn format(&self) -> PlanFormat {
        self.format
    }

    /// The merchants, in file order.
    pub fn merchants(&self) -> &[MerchantPlan] {
        &self.merchants
    }

    /// Every operation, merchant by merchant in file order, each merchant's in the order the
    /// product needs (see [`MerchantPlan::operations`]).
    pub fn operations(&self) -> Vec<PlannedOperation> {
        self.merchants
            .iter()
            .flat_map(MerchantPlan::operations)
            .collect()
    }
}

impl MerchantPlan {
    /// This merchant's operations in the order the product needs:
    ///
    /// - Gold Plan OPEN first: the receipt and ads work only while it is open, so each later
    ///   operation depends on it (a failed OPEN blocks them).
    /// - Closing: ads off, receipt off, then Gold Plan CLOSE (for every pay scene), which
    ///   depends on both: closing Gold Plan first would leave the ad calls refused
    ///   (特约商户未开通点金计划) and the switches unknown.
    /// - With Gold Plan left alone, the receipt, the filter and ad display do not depend on each
    ///   other.
    ///
    /// The industry filter is set before ads are opened, so `ad_tags`, when given, are the
    /// last word (open-advertising-show replaces the filter, spec §8.5).
    pub fn operations(&self) -> Vec<PlannedOperation> {
        let mut ops: Vec<PlannedOperation> = Vec::new();
        let sub = self.sub_mchid.as_str();
        let mut push = |operation: Operation, arguments: Value, depends_on: Vec<u32>| {
            let seq = u32::try_from(ops.len()).unwrap_or(u32::MAX);
            ops.push(PlannedOperation {
                line: self.line,
                sub_mchid: self.sub_mchid.clone(),
                seq,
                operation,
                arguments,
                depends_on,
            });
        };
        match &self.gold_plan {
            Some(OperationType::Open) => {
                let mut args = json!({"sub_mchid": sub, "operation_type": "OPEN"});
                if let (Some(scene), Value::Object(map)) = (&self.pay_scene, &mut args) {
                    map.insert("operation_pay_scene".into(), scene.as_str().into());
                }
                push(Operation::ChangeGoldPlanStatus, args, vec![]);
                if let Some(page) = &self.custom_page {
                    push(
                        Operation::ChangeCustomPageStatus,
                        custom_page_args(sub, page),
                        vec![0],
                    );
                }
                if let Some(tags) = &self.industry_filter {
                    push(
                        Operation::SetAdvertisingIndustryFilter,
                        filter_args(sub, tags),
                        vec![0],
                    );
                }
                if let Some(ad) = &self.ad_show {
                    push(ad_operation(ad), ad_args(sub, ad, &self.ad_tags), vec![0]);
                }
            }
            Some(_) => {
                if let Some(ad) = &self.ad_show {
                    push(ad_operation(ad), ad_args(sub, ad, &self.ad_tags), vec![]);
                }
                if let Some(page) = &self.custom_page {
                    push(
                        Operation::ChangeCustomPageStatus,
                        custom_page_args(sub, page),
                        vec![],
                    );
                }
                let earlier =
                    u32::from(self.ad_show.is_some()) + u32::from(self.custom_page.is_some());
                let before: Vec<u32> = (0..earlier).collect();
                // Every scene: a plan's CLOSE means Gold Plan off, and an omitted scene would
                // close JSAPI only (spec §8.2), leaving Mini Program payments open.
                push(
                    Operation::ChangeGoldPlanStatus,
                    json!({
                        "sub_mchid": sub,
                        "operation_type": "CLOSE",
                        "operation_pay_scene": "JSAPI_AND_MINIPROGRAM",
                    }),
                    before,
                );
            }
            None => {
                if let Some(page) = &self.custom_page {
                    push(
                        Operation::ChangeCustomPageStatus,
                        custom_page_args(sub, page),
                        vec![],
                    );
                }
                if let Some(tags) = &self.industry_filter {
                    push(
                        Operation::SetAdvertisingIndustryFilter,
                        filter_args(sub, tags),
                        vec![],
                    );
                }
                if let Some(ad) = &self.ad_show {
                    push(ad_operation(ad), ad_args(sub, ad, &self.ad_tags), vec![]);
                }
            }
        }
        ops
    }
}

fn custom_page_args(sub: &str, op: &OperationType) -> Value {
    json!({"sub_mchid": sub, "operation_type": op.as_str()})
}

fn tag_values(tags: &[IndustryType]) -> Vec<&str> {
    tags.iter().map(IndustryType::as_str).collect()
}

fn filter_args(sub: &str, tags: &[IndustryType]) -> Value {
    json!({"sub_mchid": sub, "advertising_industry_filters": tag_values(tags)})
}

fn ad_operation(op: &OperationType) -> Operation {
    if *op == OperationType::Open {
        Operation::OpenAdvertisingShow
    } else {
        Operation::CloseAdvertisingShow
    }
}

fn ad_args(sub: &str, op: &OperationType, tags: &[IndustryType]) -> Value {
    if *op == OperationType::Open && !tags.is_empty() {
        json!({"sub_mchid": sub, "advertising_industry_filters": tag_values(tags)})
    } else {
        json!({"sub_mchid": sub})
    }
}

/// Checks arguments with the core's own request type and rules (`ApiCall::validate`), the
/// ones `call_json` applies before sending.
pub(crate) fn validate_arguments(operation: Operation, arguments: &Value) -> goldplan::Result<()> {
    fn check<R: ApiCall + serde::de::DeserializeOwned>(arguments: &Value) -> goldplan::Result<()> {
        let request: R = serde_json::from_value(arguments.clone()).map_err(|e| {
            goldplan::Error::InvalidInput(goldplan::redact::redact_quoted(&e.to_string()))
        })?;
        request.validate()
    }
    match operation {
        Operation::ChangeGoldPlanStatus => check::<ChangeGoldPlanStatusRequest>(arguments),
        Operation::ChangeCustomPageStatus => check::<ChangeCustomPageStatusRequest>(arguments),
        Operation::SetAdvertisingIndustryFilter => {
            check::<SetAdvertisingIndustryFilterRequest>(arguments)
        }
        Operation::OpenAdvertisingShow => check::<OpenAdvertisingShowRequest>(arguments),
        Operation::CloseAdvertisingShow => check::<CloseAdvertisingShowRequest>(arguments),
        other => Err(goldplan::Error::InvalidInput(format!(
            "{other} is not a Gold Plan operation"
        ))),
    }
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// The longest documented industry tag: values up to this length may be quoted in a message
/// (a misspelt tag is easier to fix when shown); longer ones are only described, since a value
/// pasted into the wrong column may be a key.
fn longest_tag() -> usize {
    IndustryType::ALL
        .iter()
        .map(|t| t.as_str().len())
        .max()
        .unwrap_or(0)
}

/// A value as a message may show it: quoted when short and made of tag characters, else
/// described without its content.
pub(crate) fn shown(value: &str) -> String {
    let tag_like = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !value.is_empty() && tag_like && value.len() <= longest_tag() {
        format!("`{value}`")
    } else {
        Rejected(value).to_string()
    }
}

/// A row as read: its line and its non-empty cells by column.
struct RawRow {
    line: u64,
    cells: HashMap<String, String>,
}

fn problem(line: u64, column: Option<&str>, message: impl Into<String>) -> PlanProblem {
    PlanProblem {
        line,
        column: column.map(str::to_owned),
        message: message.into(),
    }
}

fn read_csv(text: &str, problems: &mut Vec<PlanProblem>) -> Vec<RawRow> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(problem(1, None, csv_message(&e)));
            return Vec::new();
        }
    };
    let header_line = headers.position().map_or(1, csv::Position::line);
    let mut names: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for h in headers.iter() {
        let name = h.to_ascii_lowercase();
        if !COLUMNS.contains(&name.as_str()) {
            problems.push(problem(
                header_line,
                None,
                format!(
                    "unknown column {}; the columns are {}",
                    shown(h),
                    COLUMNS.join(", ")
                ),
            ));
        } else if !seen.insert(name.clone()) {
            problems.push(problem(
                header_line,
                Some(&name),
                "the column appears twice in the header",
            ));
        }
        names.push(name);
    }
    if !names.iter().any(|n| n == "sub_mchid") {
        problems.push(problem(
            header_line,
            None,
            "the header has no sub_mchid column",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(rec) => {
                let line = rec.position().map_or(0, csv::Position::line);
                if rec.iter().all(str::is_empty) {
                    continue;
                }
                let cells = names
                    .iter()
                    .zip(rec.iter())
                    .filter(|(n, v)| !v.is_empty() && COLUMNS.contains(&n.as_str()))
                    .map(|(n, v)| (n.clone(), v.to_owned()))
                    .collect();
                rows.push(RawRow { line, cells });
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(problem(line, None, csv_message(&e)));
            }
        }
    }
    rows
}

/// A CSV error in words, without any cell content.
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields, the header {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the row is not UTF-8 text".into(),
        csv::ErrorKind::Io(_) => "the plan could not be read".into(),
        _ => "the row is not valid CSV".into(),
    }
}

fn read_json_lines(text: &str, problems: &mut Vec<PlanProblem>) -> Vec<RawRow> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        if raw.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                problems.push(problem(line, None, "the line is not a JSON object"));
                continue;
            }
            Err(e) => {
                problems.push(problem(
                    line,
                    None,
                    format!(
                        "the line is not JSON: {}",
                        goldplan::redact::redact_quoted(&e.to_string())
                    ),
                ));
                continue;
            }
        };
        let mut cells = HashMap::new();
        for (key, value) in object {
            if !COLUMNS.contains(&key.as_str()) {
                problems.push(problem(
                    line,
                    None,
                    format!(
                        "unknown column {}; the columns are {}",
                        shown(&key),
                        COLUMNS.join(", ")
                    ),
                ));
                continue;
            }
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.trim().to_owned(),
                // Tags may be given as a JSON array of strings.
                Value::Array(items) if key.ends_with("_filter") || key.ends_with("_tags") => {
                    let mut tags = Vec::new();
                    for item in items {
                        match item {
                            Value::String(s) => tags.push(s),
                            _ => {
                                problems.push(problem(line, Some(&key), "tags must be strings"));
                            }
                        }
                    }
                    tags.join("|")
                }
                _ => {
                    problems.push(problem(
                        line,
                        Some(&key),
                        "must be a string (quote ids: they may start with 0)",
                    ));
                    continue;
                }
            };
            if !text.is_empty() {
                cells.insert(key, text);
            }
        }
        rows.push(RawRow { line, cells });
    }
    rows
}

/// An enum cell parsed with the core's `parse_known`; the message is the plan's own so that a
/// short wrong value is quoted.
fn enum_cell<T>(
    row: &RawRow,
    column: &str,
    parse: fn(&str, &str) -> goldplan::Result<T>,
    allowed: &[&str],
    problems: &mut Vec<PlanProblem>,
) -> Option<T> {
    let value = row.cells.get(column)?;
    match parse(column, value) {
        Ok(v) => Some(v),
        Err(_) => {
            problems.push(problem(
                row.line,
                Some(column),
                format!("{} is not one of {}", shown(value), allowed.join(", ")),
            ));
            None
        }
    }
}

/// Tags separated by `|` or `;`, each a documented industry (misspelt wire values included),
/// none twice, at most three. `None` when the cell is empty or a tag is wrong (reported).
fn tags_cell(
    row: &RawRow,
    column: &str,
    problems: &mut Vec<PlanProblem>,
) -> Option<Vec<IndustryType>> {
    let value = row.cells.get(column)?;
    let mut tags = Vec::new();
    let mut ok = true;
    for piece in value.split(['|', ';']).map(str::trim) {
        if piece.is_empty() {
            problems.push(problem(
                row.line,
                Some(column),
                "an empty tag (two separators in a row, or one at an end)",
            ));
            ok = false;
            continue;
        }
        match IndustryType::parse_known(column, piece) {
            Ok(tag) if tags.contains(&tag) => {
                problems.push(problem(
                    row.line,
                    Some(column),
                    format!("the tag {} appears twice", tag.as_str()),
                ));
                ok = false;
            }
            Ok(tag) => tags.push(tag),
            Err(_) => {
                problems.push(problem(
                    row.line,
                    Some(column),
                    format!(
                        "unknown industry tag {} (the wire values include the misspellings \
                         POTOGRAPHY, BUSSINESS and INDUSTY)",
                        shown(piece)
                    ),
                ));
                ok = false;
            }
        }
    }
    if tags.len() > MAX_INDUSTRY_FILTERS {
        problems.push(problem(
            row.line,
            Some(column),
            format!(
                "{} tags; at most {MAX_INDUSTRY_FILTERS} are allowed",
                tags.len()
            ),
        ));
        ok = false;
    }
    ok.then_some(tags)
}

fn validate_rows(rows: Vec<RawRow>, problems: &mut Vec<PlanProblem>) -> Vec<MerchantPlan> {
    let switch: &[&str] = &["OPEN", "CLOSE"];
    let scenes: Vec<&str> = OperationPayScene::ALL
        .iter()
        .map(OperationPayScene::as_str)
        .collect();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut merchants = Vec::new();
    for row in rows {
        let before = problems.len();
        let line = row.line;
        let sub_mchid = match row.cells.get("sub_mchid") {
            None => {
                problems.push(problem(line, Some("sub_mchid"), "sub_mchid is required"));
                None
            }
            Some(id) => {
                if validate_sub_mchid(id).is_err() || !id.bytes().all(|b| b.is_ascii_digit()) {
                    problems.push(problem(
                        line,
                        Some("sub_mchid"),
                        format!("must be 1 to 32 digits; got {}", Rejected(id)),
                    ));
                    None
                } else if let Some(first) = first_line.get(id) {
                    problems.push(problem(
                        line,
                        Some("sub_mchid"),
                        format!(
                            "this special merchant is already planned on line {first}: one row \
                             per merchant"
                        ),
                    ));
                    None
                } else {
                    first_line.insert(id.clone(), line);
                    Some(id.clone())
                }
            }
        };
        let gold_plan = enum_cell(
            &row,
            "gold_plan",
            OperationType::parse_known,
            switch,
            problems,
        );
        let pay_scene = enum_cell(
            &row,
            "pay_scene",
            OperationPayScene::parse_known,
            &scenes,
            problems,
        );
        let custom_page = enum_cell(
            &row,
            "custom_page",
            OperationType::parse_known,
            switch,
            problems,
        );
        let ad_show = enum_cell(
            &row,
            "ad_show",
            OperationType::parse_known,
            switch,
            problems,
        );
        let industry_filter = tags_cell(&row, "industry_filter", problems);
        let ad_tags = tags_cell(&row, "ad_tags", problems).unwrap_or_default();

        if row.cells.contains_key("industry_filter")
            && industry_filter.as_ref().is_some_and(Vec::is_empty)
        {
            problems.push(problem(
                line,
                Some("industry_filter"),
                "give 1 to 3 tags (filters cannot be cleared through the API)",
            ));
        }
        if row.cells.contains_key("pay_scene") && gold_plan != Some(OperationType::Open) {
            problems.push(problem(
                line,
                Some("pay_scene"),
                "a pay scene needs gold_plan OPEN",
            ));
        }
        if !ad_tags.is_empty() && ad_show != Some(OperationType::Open) {
            problems.push(problem(line, Some("ad_tags"), "ad_tags need ad_show OPEN"));
        }
        if gold_plan == Some(OperationType::Close) {
            for (column, wants_gold_plan) in [
                ("custom_page", custom_page == Some(OperationType::Open)),
                ("ad_show", ad_show == Some(OperationType::Open)),
                ("industry_filter", industry_filter.is_some()),
            ] {
                if wants_gold_plan {
                    problems.push(problem(
                        line,
                        Some(column),
                        "conflicts with gold_plan CLOSE: it only works while Gold Plan is open",
                    ));
                }
            }
        }
        if let Some(filter) = &industry_filter
            && !ad_tags.is_empty()
            && *filter != ad_tags
        {
            problems.push(problem(
                line,
                Some("ad_tags"),
                "conflicts with industry_filter: opening ads with tags replaces the filter \
                 (spec §8.5); give the tags once, or the same tags in both",
            ));
        }
        let Some(sub_mchid) = sub_mchid else { continue };
        if problems.len() != before {
            continue;
        }
        let merchant = MerchantPlan {
            line,
            sub_mchid,
            gold_plan,
            pay_scene,
            custom_page,
            industry_filter,
            ad_show,
            ad_tags,
        };
        // The core's own checks of each request, as `call_json` will apply them.
        for op in merchant.operations() {
            if let Err(e) = validate_arguments(op.operation, &op.arguments) {
                problems.push(problem(line, None, format!("{}: {e}", op.operation)));
            }
        }
        merchants.push(merchant);
    }
    merchants
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn names(ops: &[PlannedOperation]) -> Vec<&'static str> {
        ops.iter().map(|o| o.operation.as_str()).collect()
    }

    #[test]
    fn open_comes_first_and_close_comes_last() {
        let plan = Plan::parse(
            "p.csv",
            "sub_mchid,gold_plan,pay_scene,custom_page,industry_filter,ad_show,ad_tags\n\
             1900000109,OPEN,JSAPI,OPEN,SOFTWARE|GAME,OPEN,SOFTWARE|GAME\n\
             1900000110,CLOSE,,CLOSE,,CLOSE,\n\
             1900000111,,,,potography,,\n",
            None,
        )
        .unwrap();
        let ops = plan.merchants()[0].operations();
        assert_eq!(
            names(&ops),
            [
                "change_gold_plan_status",
                "change_custom_page_status",
                "set_advertising_industry_filter",
                "open_advertising_show"
            ]
        );
        assert!(ops[1..].iter().all(|o| o.depends_on == [0]));
        assert_eq!(ops[0].arguments["operation_pay_scene"], "JSAPI");
        let ops = plan.merchants()[1].operations();
        assert_eq!(
            names(&ops),
            [
                "close_advertising_show",
                "change_custom_page_status",
                "change_gold_plan_status"
            ]
        );
        assert_eq!(ops[2].depends_on, [0, 1]);
        let ops = plan.merchants()[2].operations();
        assert_eq!(
            ops[0].arguments["advertising_industry_filters"][0],
            "POTOGRAPHY"
        );
        assert_eq!(plan.operations().len(), 8);
    }

    #[test]
    fn short_values_are_quoted_long_ones_described() {
        assert_eq!(shown("PHOTOGRAPHY"), "`PHOTOGRAPHY`");
        let key = "0123456789abcdef0123456789abcdef";
        assert!(!shown(key).contains(key));
        assert!(!shown("a b").contains("a b"));
    }

    #[test]
    fn detection_by_extension_then_content() {
        assert_eq!(PlanFormat::detect("x.csv", "{"), PlanFormat::Csv);
        assert_eq!(PlanFormat::detect("x.jsonl", ""), PlanFormat::JsonLines);
        assert_eq!(
            PlanFormat::detect("x", "\n {\"a\":1}"),
            PlanFormat::JsonLines
        );
        assert_eq!(PlanFormat::detect("x", "sub_mchid\n1"), PlanFormat::Csv);
    }
}
