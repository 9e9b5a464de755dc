//! The report: per special merchant, the last state WeChat Pay confirmed for each switch, when,
//! and under which Request-ID, plus the failures with their error reports. WeChat Pay offers no
//! API to read the switches back, so this is the provider's only record of them: it is built
//! from confirmed (`done`) operations only, never from the plan's wishes.

use std::io::Write;

use goldplan::client::Operation;
use serde::Serialize;
use serde_json::Value;

use crate::error::{BulkError, Result};
use crate::journal::{FailureKind, JobInfo, Journal, JournalOperation, OpStatus};
use crate::plan::operation_name;

/// One switch as WeChat Pay last confirmed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmed {
    /// The value: `OPEN`/`CLOSE`, or the industry tags joined with `|`.
    pub value: String,
    /// When it was confirmed (Unix seconds).
    pub at: i64,
    /// When, as RFC 3339 (UTC).
    pub at_rfc3339: String,
    /// The Request-ID of the confirming answer.
    pub request_id: Option<String>,
}

/// A failed operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureRow {
    /// Journal id.
    pub id: i64,
    /// The operation.
    #[serde(serialize_with = "operation_name")]
    pub operation: Operation,
    /// Why.
    pub kind: FailureKind,
    /// In words.
    pub reason: String,
    /// Request-ID of the last answer.
    pub request_id: Option<String>,
    /// Times sent.
    pub attempts: u32,
    /// The core's `ErrorReport` of the last error, as JSON.
    pub error: Option<Value>,
}

/// One special merchant's confirmed state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MerchantReport {
    /// The special merchant.
    pub sub_mchid: String,
    /// Its plan line.
    pub line: u64,
    /// Gold Plan.
    pub gold_plan: Option<Confirmed>,
    /// The pay scene sent with the confirmed Gold Plan change (`None`: omitted, WeChat Pay's
    /// default JSAPI).
    pub pay_scene: Option<String>,
    /// The merchant receipt.
    pub custom_page: Option<Confirmed>,
    /// The industry filter (set by the filter call, or by opening ads with tags).
    pub industry_filter: Option<Confirmed>,
    /// Ad display.
    pub ad_show: Option<Confirmed>,
    /// Operations not finished yet.
    pub pending: u32,
    /// Failed operations.
    pub failures: Vec<FailureRow>,
}

/// The report of a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The job.
    pub job: JobInfo,
    /// One row per merchant, in plan order.
    pub merchants: Vec<MerchantReport>,
}

/// The CSV columns of [`Report::write_csv`].
pub const CSV_COLUMNS: &[&str] = &[
    "sub_mchid",
    "line",
    "gold_plan",
    "pay_scene",
    "gold_plan_at",
    "gold_plan_request_id",
    "custom_page",
    "custom_page_at",
    "custom_page_request_id",
    "industry_filter",
    "industry_filter_at",
    "industry_filter_request_id",
    "ad_show",
    "ad_show_at",
    "ad_show_request_id",
    "pending",
    "failed",
    "failures",
];

fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn confirmed(op: &JournalOperation, value: String) -> Confirmed {
    let at = op.confirmed_at.unwrap_or(0);
    Confirmed {
        value,
        at,
        at_rfc3339: rfc3339(at),
        request_id: op.last_request_id.clone(),
    }
}

fn tags(arguments: &Value) -> Option<String> {
    let list = arguments.get("advertising_industry_filters")?.as_array()?;
    let tags: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
    (!tags.is_empty()).then(|| tags.join("|"))
}

fn merchant_report(sub_mchid: String, line: u64, ops: &[JournalOperation]) -> MerchantReport {
    let mut row = MerchantReport {
        sub_mchid,
        line,
        gold_plan: None,
        pay_scene: None,
        custom_page: None,
        industry_filter: None,
        ad_show: None,
        pending: 0,
        failures: Vec::new(),
    };
    // In sequence order, so a later confirmation overwrites an earlier one, as on the wire.
    for op in ops {
        match op.status {
            OpStatus::Pending | OpStatus::InFlight => row.pending += 1,
            OpStatus::Failed => row.failures.push(FailureRow {
                id: op.id,
                operation: op.operation,
                kind: op.failure.unwrap_or(FailureKind::Error),
                reason: op.reason.clone().unwrap_or_default(),
                request_id: op.last_request_id.clone(),
                attempts: op.attempts,
                error: op.last_error.clone(),
            }),
            OpStatus::Done => {
                let switch = op.arguments["operation_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                match op.operation {
                    Operation::ChangeGoldPlanStatus => {
                        row.pay_scene = op.arguments["operation_pay_scene"]
                            .as_str()
                            .map(str::to_owned);
                        row.gold_plan = Some(confirmed(op, switch));
                    }
                    Operation::ChangeCustomPageStatus => {
                        row.custom_page = Some(confirmed(op, switch));
                    }
                    Operation::SetAdvertisingIndustryFilter => {
                        row.industry_filter = tags(&op.arguments).map(|t| confirmed(op, t));
                    }
                    Operation::OpenAdvertisingShow => {
                        if let Some(t) = tags(&op.arguments) {
                            row.industry_filter = Some(confirmed(op, t));
                        }
                        row.ad_show = Some(confirmed(op, "OPEN".into()));
                    }
                    Operation::CloseAdvertisingShow => {
                        row.ad_show = Some(confirmed(op, "CLOSE".into()));
                    }
                    _ => {}
                }
            }
        }
    }
    row
}

/// Builds the report of `journal`'s job.
pub fn report(journal: &Journal) -> Result<Report> {
    let mut merchants = Vec::new();
    let mut current: Vec<JournalOperation> = Vec::new();
    let flush = |ops: &mut Vec<JournalOperation>, out: &mut Vec<MerchantReport>| -> Result<()> {
        if let Some(first) = ops.first() {
            let sub = first.sub_mchid.clone();
            let line = journal.merchant_line(&sub)?.unwrap_or(first.line);
            ops.sort_by_key(|o| o.seq);
            out.push(merchant_report(sub, line, ops));
        }
        ops.clear();
        Ok(())
    };
    // Operations are stored merchant by merchant, so plan order groups them.
    for op in journal.operations()? {
        if current
            .first()
            .is_some_and(|first| first.sub_mchid != op.sub_mchid)
        {
            flush(&mut current, &mut merchants)?;
        }
        current.push(op);
    }
    flush(&mut current, &mut merchants)?;
    Ok(Report {
        job: journal.job().clone(),
        merchants,
    })
}

impl Report {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| BulkError::Internal(e.to_string()))
    }

    /// The report as CSV ([`CSV_COLUMNS`]); `failures` holds a compact JSON array of
    /// `{operation, kind, reason, request_id}`.
    pub fn write_csv<W: Write>(&self, out: W) -> Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let csv_error = |e: csv::Error| BulkError::Internal(format!("cannot write CSV: {e}"));
        w.write_record(CSV_COLUMNS).map_err(csv_error)?;
        for m in &self.merchants {
            let cells = |c: &Option<Confirmed>| -> [String; 3] {
                match c {
                    Some(c) => [
                        c.value.clone(),
                        c.at_rfc3339.clone(),
                        c.request_id.clone().unwrap_or_default(),
                    ],
                    None => [String::new(), String::new(), String::new()],
                }
            };
            let failures: Vec<Value> = m
                .failures
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "operation": f.operation.as_str(),
                        "kind": f.kind,
                        "reason": f.reason,
                        "request_id": f.request_id,
                    })
                })
                .collect();
            let [gp, gp_at, gp_rid] = cells(&m.gold_plan);
            let [cp, cp_at, cp_rid] = cells(&m.custom_page);
            let [f, f_at, f_rid] = cells(&m.industry_filter);
            let [ad, ad_at, ad_rid] = cells(&m.ad_show);
            let record = [
                m.sub_mchid.clone(),
                m.line.to_string(),
                gp,
                m.pay_scene.clone().unwrap_or_default(),
                gp_at,
                gp_rid,
                cp,
                cp_at,
                cp_rid,
                f,
                f_at,
                f_rid,
                ad,
                ad_at,
                ad_rid,
                m.pending.to_string(),
                m.failures.len().to_string(),
                if failures.is_empty() {
                    String::new()
                } else {
                    Value::Array(failures).to_string()
                },
            ];
            w.write_record(&record).map_err(csv_error)?;
        }
        w.flush().map_err(|e| BulkError::Io {
            path: "report output".into(),
            source: e,
        })?;
        Ok(())
    }
}
