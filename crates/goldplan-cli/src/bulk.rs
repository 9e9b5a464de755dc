//! `goldplan bulk plan|run|report|retry-failed`: the bulk rollout job of `goldplan-bulk` on the
//! command line. Everything about plans, journals, rates and retries is the library's; this
//! module parses flags, shows progress and maps outcomes to exit codes.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use goldplan::client::RetryPolicy;
use goldplan_bulk::{
    BulkError, Event, Journal, Plan, Progress, RunOptions, RunSummary, Runner, report,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::config::{ConfigArgs, Keys};
use crate::output::{Out, exit};

/// `goldplan bulk …`.
#[derive(Subcommand)]
pub enum BulkCommand {
    /// Validate a plan (CSV with a header, or JSON Lines) and show what it would send; every
    /// problem names its file line.
    Plan {
        /// The plan file.
        file: PathBuf,
    },
    /// Execute a plan, journaled: run it again after a stop or a crash and it continues where
    /// it stopped; nothing WeChat Pay confirmed is sent again.
    Run(RunArgs),
    /// Per special merchant: the state WeChat Pay last confirmed for each switch, when, the
    /// Request-ID, and failures with their error reports.
    Report {
        /// The job's journal.
        #[arg(long, value_name = "JOB.db")]
        journal: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Csv)]
        format: ReportFormat,
    },
    /// Put the failed operations of a job back in line for the next `bulk run`.
    RetryFailed {
        /// The job's journal.
        #[arg(long, value_name = "JOB.db")]
        journal: PathBuf,
        /// Also those refused under the 24-hour re-open rule (send them once 24 hours have
        /// passed since the CLOSE).
        #[arg(long)]
        include_reopen_too_soon: bool,
    },
}

/// Flags of `goldplan bulk run`.
#[derive(Args)]
pub struct RunArgs {
    /// The plan file.
    plan: PathBuf,
    /// The job's journal (an SQLite file, created on the first run).
    #[arg(long, value_name = "JOB.db")]
    journal: PathBuf,
    /// Special merchants worked on at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Operations per second at most; it slows down by itself when WeChat Pay answers
    /// 命中频率限制 and speeds up again afterwards.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// No rate of our own (only WeChat Pay's answers slow the run down).
    #[arg(long, conflicts_with = "rate")]
    no_rate_limit: bool,
    /// Show what would be sent; send nothing.
    #[arg(long)]
    dry_run: bool,
}

/// `bulk report` formats.
#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// One row per special merchant.
    Csv,
    /// The whole report as one JSON document.
    Json,
}

/// Runs a `bulk` command; returns the exit code. Only `run` reads the configuration, after
/// the plan: a plan with problems is reported as such, whatever the configuration.
pub async fn run(command: BulkCommand, config: &ConfigArgs, out: Out) -> goldplan::Result<u8> {
    let outcome = match command {
        BulkCommand::Plan { file } => plan(&file, out),
        BulkCommand::Run(args) => run_plan(args, config, out).await,
        BulkCommand::Report { journal, format } => show_report(&journal, format),
        BulkCommand::RetryFailed {
            journal,
            include_reopen_too_soon,
        } => retry_failed(&journal, include_reopen_too_soon, out),
    };
    outcome.or_else(|e| failure(e, out))
}

/// Prints a job-level failure and gives its exit code (a plan with problems and bad flags
/// are usage errors; a core error keeps its family's code).
fn failure(error: BulkError, out: Out) -> goldplan::Result<u8> {
    let code = match &error {
        BulkError::Plan(_) | BulkError::InvalidInput(_) | BulkError::PlanMismatch { .. } => {
            exit::USAGE
        }
        BulkError::Core(e) => crate::output::exit_code(e),
        _ => exit::FAILURE,
    };
    if out.json {
        let detail = match &error {
            BulkError::Plan(p) => json!({"kind": "plan", "message": error.to_string(),
                                         "problems": p.problems}),
            _ => json!({"kind": "bulk", "message": error.to_string()}),
        };
        println!("{}", json!({"ok": false, "error": detail}));
    } else {
        eprintln!("goldplan: {error}");
    }
    Ok(code)
}

fn plan(file: &Path, out: Out) -> Result<u8, BulkError> {
    let plan = Plan::from_path(file)?;
    let operations = plan.operations();
    let mut by_name = std::collections::BTreeMap::<&str, u64>::new();
    for op in &operations {
        *by_name.entry(op.operation.as_str()).or_default() += 1;
    }
    out.line(format!(
        "{}: {} special merchants, {} operations, valid",
        plan.source_name(),
        plan.merchants().len(),
        operations.len()
    ));
    for (name, n) in &by_name {
        out.line(format!("  {name}: {n}"));
    }
    out.document(&json!({
        "ok": true,
        "plan": plan.source_name(),
        "sha256": plan.sha256(),
        "merchants": plan.merchants().len(),
        "operations": operations.len(),
        "by_operation": by_name,
    }));
    Ok(exit::OK)
}

async fn run_plan(args: RunArgs, config: &ConfigArgs, out: Out) -> Result<u8, BulkError> {
    let plan = Plan::from_path(&args.plan)?;
    let settings = config.resolve()?;
    let journal = Journal::open(&args.journal, &plan)?;
    // The runner retries by itself and must see every 命中频率限制 answer to slow down: the
    // client sends each call once.
    let client = settings
        .builder(Keys::Configured)?
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()?;
    let options = RunOptions {
        concurrency: args.concurrency,
        rate_per_sec: (!args.no_rate_limit).then_some(args.rate),
        dry_run: args.dry_run,
        ..RunOptions::default()
    };
    let display = Display::new(out);
    let sink = display.clone();
    let runner = Runner::new(client, journal, options).on_event(move |e| sink.event(e));
    let stop = runner.cancellation_token();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            // In-flight calls finish and are journaled; nothing new starts.
            stop.cancel();
        }
    });
    let result = runner.run().await;
    ctrl_c.abort();
    display.finish();
    let summary = result?;
    Ok(summary_exit(&summary, out))
}

/// 0 when everything is done, 3 when WeChat Pay refused operations (see `bulk report`), 1 when
/// the run stopped with operations left (run it again).
fn summary_exit(s: &RunSummary, out: Out) -> u8 {
    if !out.json {
        let what = if s.dry_run {
            format!("dry run: {} operations would be sent", s.would_send)
        } else {
            format!(
                "{} done ({} in this run), {} failed, {} left; {} requests, {} rate-limit \
                 answers absorbed, {} retries, {:.1} s",
                s.done,
                s.done_this_run,
                s.failed,
                s.remaining,
                s.requests_sent,
                s.rate_limited_answers,
                s.retries,
                s.elapsed_secs
            )
        };
        eprintln!("{what}");
        if s.cancelled && s.remaining > 0 {
            eprintln!("stopped: run the same command again to continue");
        }
    }
    if s.dry_run || (s.failed == 0 && s.remaining == 0) {
        exit::OK
    } else if s.remaining > 0 {
        exit::FAILURE
    } else {
        exit::API
    }
}

fn show_report(journal: &Path, format: ReportFormat) -> Result<u8, BulkError> {
    let journal = Journal::open_existing(journal)?;
    // Streamed a page of merchants at a time: a job of any size is reported in bounded memory.
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Csv => report::write_csv(&journal, &mut out)?,
        ReportFormat::Json => {
            report::write_json(&journal, &mut out)?;
            writeln!(out).map_err(|e| BulkError::Io {
                path: "standard output".into(),
                source: e,
            })?;
        }
    }
    Ok(exit::OK)
}

fn retry_failed(journal: &Path, include_reopen_too_soon: bool, out: Out) -> Result<u8, BulkError> {
    let journal = Journal::open_existing(journal)?;
    let moved = journal.retry_failed(include_reopen_too_soon)?;
    out.line(format!(
        "{moved} failed operations put back in line; run `goldplan bulk run` to send them"
    ));
    out.document(&json!({"ok": true, "requeued": moved}));
    Ok(exit::OK)
}

/// Progress for people (a bar on a terminal) or machines (one JSON line per event with
/// `--json`); nothing when stderr is not a terminal and `--json` is off.
#[derive(Clone)]
struct Display {
    out: Out,
    bar: Option<Arc<Mutex<ProgressBar>>>,
}

impl Display {
    fn new(out: Out) -> Display {
        let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            // The template is a constant: a parse failure would be a bug caught by the first
            // run; fall back to the default style rather than fail a job over it.
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            Arc::new(Mutex::new(bar))
        });
        Display { out, bar }
    }

    fn event(&self, event: &Event) {
        if self.out.json {
            // A failure to encode an event is not worth stopping a job for.
            if let Ok(line) = serde_json::to_string(event) {
                println!("{line}");
            }
            return;
        }
        let Some(bar) = &self.bar else { return };
        let bar = bar.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::Started {
                total,
                done,
                failed,
                ..
            } => {
                bar.set_length(*total);
                bar.set_position(done + failed);
            }
            Event::Progress(p) => {
                bar.set_position(p.done + p.failed);
                bar.set_message(progress_message(p));
            }
            Event::Failed {
                sub_mchid,
                operation,
                reason,
                ..
            } => bar.println(format!("failed: {sub_mchid} {operation}: {reason}")),
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .finish_and_clear();
        }
    }
}

fn progress_message(p: &Progress) -> String {
    let limit = match p.limit_per_sec {
        Some(l) => format!(" (limit {l:.1}/s)"),
        None => String::new(),
    };
    format!(
        "{} failed, {} left, {:.1}/s{limit}",
        p.failed, p.remaining, p.rate_per_sec
    )
}
