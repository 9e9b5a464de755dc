//! The report: per special merchant, the last state WeChat Pay confirmed for each switch, when,
//! and under which Request-ID, plus the failures with their error reports. WeChat Pay offers no
//! API to read the switches back, so this is the provider's only record of them: it is built
//! from confirmed (`done`) operations only, never from the plan's wishes.

use std::cell::RefCell;
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

/// Merchants read from the journal at a time while reporting.
const PAGE: u32 = 512;

/// Every merchant's report in plan order, read from the journal a page at a time, so that a
/// job of any size is reported in bounded memory. A journal error ends the iteration and is
/// kept in `error`.
struct MerchantReports<'a> {
    journal: &'a Journal,
    after: i64,
    page: std::vec::IntoIter<MerchantReport>,
    finished: bool,
    error: &'a RefCell<Option<BulkError>>,
}

impl<'a> MerchantReports<'a> {
    fn new(journal: &'a Journal, error: &'a RefCell<Option<BulkError>>) -> Self {
        MerchantReports {
            journal,
            after: -1,
            page: Vec::new().into_iter(),
            finished: false,
            error,
        }
    }
}

impl Iterator for MerchantReports<'_> {
    type Item = MerchantReport;

    fn next(&mut self) -> Option<MerchantReport> {
        loop {
            if let Some(row) = self.page.next() {
                return Some(row);
            }
            if self.finished {
                return None;
            }
            match self.journal.merchant_page(self.after, PAGE) {
                Ok(page) => {
                    match page.last() {
                        Some((ord, ..)) => self.after = *ord,
                        None => self.finished = true,
                    }
                    let rows: Vec<MerchantReport> = page
                        .into_iter()
                        .filter_map(|(_, line, ops)| {
                            let sub = ops.first()?.sub_mchid.clone();
                            Some(merchant_report(sub, line, &ops))
                        })
                        .collect();
                    self.page = rows.into_iter();
                }
                Err(e) => {
                    *self.error.borrow_mut() = Some(e);
                    self.finished = true;
                }
            }
        }
    }
}

/// Calls `each` with every merchant's report, in plan order, reading the journal a page at a
/// time (memory does not grow with the job).
pub fn for_each_merchant(
    journal: &Journal,
    mut each: impl FnMut(MerchantReport) -> Result<()>,
) -> Result<()> {
    let error = RefCell::new(None);
    for row in MerchantReports::new(journal, &error) {
        each(row)?;
    }
    error.into_inner().map_or(Ok(()), Err)
}

/// Builds the report of `journal`'s job in memory (for a job of any size, prefer
/// [`write_csv`] and [`write_json`], which stream).
pub fn report(journal: &Journal) -> Result<Report> {
    let mut merchants = Vec::new();
    for_each_merchant(journal, |row| {
        merchants.push(row);
        Ok(())
    })?;
    Ok(Report {
        job: journal.job().clone(),
        merchants,
    })
}

/// Writes the report of `journal`'s job as CSV ([`CSV_COLUMNS`]), a page of merchants at a
/// time; the same text as [`Report::write_csv`].
pub fn write_csv<W: Write>(journal: &Journal, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS).map_err(csv_error)?;
    for_each_merchant(journal, |m| {
        w.write_record(csv_record(&m)).map_err(csv_error)
    })?;
    w.flush().map_err(|e| BulkError::Io {
        path: "report output".into(),
        source: e,
    })
}

/// Writes the report of `journal`'s job as pretty JSON, a page of merchants at a time; the
/// same document as [`Report::to_json`].
pub fn write_json<W: Write>(journal: &Journal, out: W) -> Result<()> {
    let error = RefCell::new(None);
    let streamed = Streamed {
        journal,
        error: &error,
    };
    serde_json::to_writer_pretty(out, &streamed).map_err(|e| {
        error.borrow_mut().take().unwrap_or_else(|| {
            if e.is_io() {
                BulkError::Io {
                    path: "report output".into(),
                    source: e.into(),
                }
            } else {
                BulkError::Internal(format!("cannot write the report: {e}"))
            }
        })
    })?;
    error.into_inner().map_or(Ok(()), Err)
}

/// [`Report`]'s shape, with the merchants read while they are written.
struct Streamed<'a> {
    journal: &'a Journal,
    error: &'a RefCell<Option<BulkError>>,
}

impl Serialize for Streamed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut report = s.serialize_struct("Report", 2)?;
        report.serialize_field("job", self.journal.job())?;
        report.serialize_field("merchants", &StreamedMerchants(self))?;
        report.end()
    }
}

struct StreamedMerchants<'a>(&'a Streamed<'a>);

impl Serialize for StreamedMerchants<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let rows = MerchantReports::new(self.0.journal, self.0.error);
        let streamed = s.collect_seq(rows)?;
        if self.0.error.borrow().is_some() {
            return Err(serde::ser::Error::custom("the journal could not be read"));
        }
        Ok(streamed)
    }
}

fn csv_error(e: csv::Error) -> BulkError {
    BulkError::Internal(format!("cannot write CSV: {e}"))
}

/// One CSV row ([`CSV_COLUMNS`]); `failures` holds a compact JSON array of
/// `{operation, kind, reason, request_id}`.
fn csv_record(m: &MerchantReport) -> [String; 18] {
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
    [
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
    ]
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
        w.write_record(CSV_COLUMNS).map_err(csv_error)?;
        for m in &self.merchants {
            w.write_record(csv_record(m)).map_err(csv_error)?;
        }
        w.flush().map_err(|e| BulkError::Io {
            path: "report output".into(),
            source: e,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::journal::Change;
    use crate::plan::Plan;

    /// A job of more than two pages of merchants in every state; the streamed CSV and JSON
    /// equal the report built in memory, row for row, in plan order.
    #[test]
    fn streamed_reports_equal_the_report_built_in_memory_across_pages() {
        let merchants = PAGE as usize * 2 + 37;
        let rows: Vec<Value> = (0..merchants)
            .map(|i| {
                serde_json::json!({"sub_mchid": format!("{}", 1_900_000_000 + i),
                                   "gold_plan": "OPEN", "industry_filter": "SOFTWARE|GAME"})
            })
            .collect();
        let plan = Plan::from_rows("paged", &rows).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("job.db"), &plan).unwrap();
        let ops = journal.operations().unwrap();
        let changes: Vec<Change> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| match i % 5 {
                0 | 1 => Change::Done {
                    id: op.id,
                    request_id: Some(format!("rid-{i}")),
                    at: 1_800_000_000 + i as i64,
                },
                2 => Change::Failed {
                    id: op.id,
                    kind: FailureKind::Error,
                    reason: "refused".into(),
                    request_id: Some(format!("rid-{i}")),
                    error: Some("{\"kind\":\"api\"}".into()),
                },
                3 => Change::InFlight { id: op.id },
                _ => Change::Pending {
                    id: op.id,
                    request_id: None,
                    error: None,
                },
            })
            .collect();
        journal.apply(&changes).unwrap();

        let built = report(&journal).unwrap();
        assert_eq!(built.merchants.len(), merchants);
        let order: Vec<&str> = built
            .merchants
            .iter()
            .map(|m| m.sub_mchid.as_str())
            .collect();
        let planned: Vec<&str> = plan
            .merchants()
            .iter()
            .map(|m| m.sub_mchid.as_str())
            .collect();
        assert_eq!(order, planned);
        assert!(built.merchants.iter().any(|m| m.gold_plan.is_some()));
        assert!(built.merchants.iter().any(|m| !m.failures.is_empty()));
        assert!(built.merchants.iter().any(|m| m.pending > 0));

        let mut streamed = Vec::new();
        write_json(&journal, &mut streamed).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            built.to_json().unwrap()
        );
        let (mut streamed, mut in_memory) = (Vec::new(), Vec::new());
        write_csv(&journal, &mut streamed).unwrap();
        built.write_csv(&mut in_memory).unwrap();
        assert_eq!(streamed, in_memory);
        assert_eq!(
            String::from_utf8(streamed).unwrap().lines().count(),
            merchants + 1
        );
    }
}
