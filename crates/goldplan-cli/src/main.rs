//! `goldplan`: the command-line face of the goldplan SDK.
//!
//! Exit codes: 0 success, 1 other failure, 2 bad arguments or configuration, 3 WeChat Pay API
//! error, 4 verification failure (signature, serial, clock skew, decryption, check code),
//! 5 network failure or timeout, 6 `doctor` found problems, 7 `receipt test` found a rule the
//! receipt page breaks.

#![forbid(unsafe_code)]
// A binary: `pub` marks what modules share, there is no outside API to reach.
#![allow(unreachable_pub)]

mod bulk;
mod commands;
mod config;
mod demo;
mod demo_receipt;
mod doctor;
mod operations;
mod output;
mod receipt_test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use goldplan::redact::Rejected;

use crate::config::ConfigArgs;
use crate::output::{Out, exit};

/// WeChat Pay APIv3 and Gold Plan (点金计划) from the command line.
#[derive(Parser)]
#[command(name = "goldplan", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// Print one JSON document instead of human-readable lines.
    #[arg(long, global = true)]
    json: bool,
    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, env = "GOLDPLAN_LOG", default_value = "warn")]
    log: String,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success, 1 other failure, 2 bad arguments or \
configuration, 3 WeChat Pay API error, 4 verification failure, 5 network failure or timeout, \
6 doctor found problems, 7 receipt test found a rule the receipt page breaks.";

#[derive(Subcommand)]
enum Command {
    /// Run the whole Gold Plan story against a sandbox started in-process (no configuration).
    Demo,
    /// Serve the sandbox (a local WeChat Pay simulator) until Ctrl-C.
    Sandbox {
        #[command(flatten)]
        serve: goldplan_sandbox::serve::ServeArgs,
    },
    /// Download, verify and write the platform certificates (one wechatpay_SERIAL.pem each).
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// The Gold Plan calls of the operation registry, one subcommand each.
    GoldPlan {
        #[command(subcommand)]
        operation: operations::GoldPlanCall,
    },
    /// Partner JSAPI payments of the operation registry: prepay, sign (the front-end
    /// pay-sign), query, query-by-id, close, resolve.
    Pay {
        #[command(subcommand)]
        operation: operations::PayCall,
    },
    /// Roll Gold Plan out to many special merchants: a plan file, a resumable journaled run
    /// (rate-limited, adaptive to 命中频率限制), a report of what WeChat Pay confirmed.
    Bulk {
        #[command(subcommand)]
        command: bulk::BulkCommand,
    },
    /// Send any signed APIv3 request and print the verified response.
    Request {
        /// HTTP method (GET, POST, PUT, PATCH, DELETE).
        method: String,
        /// Path and query, e.g. /v3/certificates?algorithm_type=RSA.
        path: String,
        /// JSON body, or @FILE to read it from a file.
        body: Option<String>,
    },
    /// Callback notifications.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// Merchant receipt (商家小票) links and pages.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Check a configuration and say how to fix what is wrong.
    Doctor,
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Fetch, decrypt, validate and write every valid platform certificate.
    Download {
        /// Output directory (created if missing).
        #[arg(short, long, default_value = ".")]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum NotifyCommand {
    /// Verify and decrypt a captured callback.
    Verify {
        /// Headers: JSON object, or `Name: value` lines.
        #[arg(long, value_name = "FILE")]
        headers: PathBuf,
        /// The raw body exactly as received.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// Check the timestamp window against this Unix time instead of now (old captures).
        #[arg(long)]
        now: Option<i64>,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Verify the check_code of a received receipt URL.
    Check {
        /// The URL the receipt page was opened with.
        #[arg(long)]
        url: String,
        /// The receipt link exactly as configured in the portal.
        #[arg(long)]
        link: String,
        /// The WeChat transaction id of the order.
        #[arg(long)]
        transaction_id: String,
    },
    /// Load a receipt page in a headless Chromium inside a Gold Plan page stand-in and check
    /// it: onIframeReady within 3 s, message format and target origin, check_code verified,
    /// jumpOut targets, console errors, failed sub-resources; optionally a screenshot.
    Test(receipt_test::ReceiptTestArgs),
}

fn main() -> ExitCode {
    let cli = match parse_command_line() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // chromiumoxide warns about every DevTools event newer than its protocol tables (the
    // receipt tester's Chromium sends many); only its errors matter unless asked for.
    let directives = if cli.log.contains("chromiumoxide") {
        cli.log.clone()
    } else {
        format!("{},chromiumoxide=error", cli.log)
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // Colour codes only for a terminal: a log file or a CI transcript gets plain text that
        // grep (and a secret scan) reads as written.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    goldplan_host::register_certificate_stores();
    let out = Out { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let result = runtime.block_on(run(cli, out));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if out.json {
                println!("{}", output::error_json(&e));
            } else {
                eprintln!("error: {e}");
                if let Some(api) = e.api()
                    && let Some(detail) = &api.detail
                {
                    // Unsigned and possibly huge: escaped and bounded here; --json has it whole.
                    eprintln!(
                        "detail: {}",
                        goldplan::error::Untrusted(&detail.to_string(), 4096)
                    );
                }
            }
            ExitCode::from(output::exit_code(&e))
        }
    }
}

/// Parses flags and `GOLDPLAN_*` variables. clap quotes a value it rejects, and that value
/// may be a key given to the wrong flag or variable: it is described instead (length and what
/// it looks like), everything else in clap's message is kept.
fn parse_command_line() -> Result<Cli, ExitCode> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};

    let error = match Cli::try_parse() {
        Ok(cli) => return Ok(cli),
        Err(error) => error,
    };
    if !error.use_stderr() {
        // --help and --version.
        let _ = error.print();
        return Err(ExitCode::from(exit::OK));
    }
    let mut text = error.render().to_string();
    let mut rejected = vec![ContextKind::InvalidValue, ContextKind::InvalidSubcommand];
    if error.kind() == ErrorKind::UnknownArgument {
        rejected.push(ContextKind::InvalidArg);
    }
    for kind in rejected {
        if let Some(ContextValue::String(value)) = error.get(kind)
            && !value.is_empty()
            && !is_flag_name(value)
        {
            text = text.replace(value.as_str(), &format!("<{}>", Rejected(value)));
        }
    }
    eprint!("{text}");
    Err(ExitCode::from(exit::USAGE))
}

/// `--name` or `-n`: what a mistyped flag looks like, safe to repeat.
fn is_flag_name(text: &str) -> bool {
    let name = text.trim_start_matches('-');
    text.starts_with('-')
        && text.len() <= 40
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

async fn run(cli: Cli, out: Out) -> goldplan::Result<u8> {
    match cli.command {
        Command::Demo => demo::run(out).await,
        Command::Sandbox { serve } => Ok(goldplan_sandbox::serve::serve(serve).await),
        Command::Certs {
            command: CertsCommand::Download { output },
        } => commands::certs_download(&cli.config.resolve()?, &output, out).await,
        Command::GoldPlan { operation } => {
            commands::registry_call(&cli.config.resolve()?, operation.0, out).await
        }
        Command::Pay { operation } => {
            commands::registry_call(&cli.config.resolve()?, operation.0, out).await
        }
        Command::Bulk { command } => bulk::run(command, &cli.config, out).await,
        Command::Request { method, path, body } => {
            commands::request(&cli.config.resolve()?, &method, &path, body.as_deref(), out).await
        }
        Command::Notify {
            command: NotifyCommand::Verify { headers, body, now },
        } => commands::notify_verify(&cli.config.resolve()?, &headers, &body, now, out).await,
        Command::Receipt {
            command:
                ReceiptCommand::Check {
                    url,
                    link,
                    transaction_id,
                },
        } => commands::receipt_check(&url, &link, &transaction_id, out),
        Command::Receipt {
            command: ReceiptCommand::Test(args),
        } => receipt_test::run(args, out).await,
        Command::Doctor => doctor::run(&cli.config, out).await,
    }
}
