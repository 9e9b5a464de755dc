//! `goldplan-sandbox`: runs the WeChat Pay gateway simulator until Ctrl-C or SIGTERM. The first line on
//! stdout is the base URL; `sandbox.json` is written to the state directory.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use goldplan_sandbox::serve::{ServeArgs, serve};

/// Local WeChat Pay APIv3 gateway simulator for Gold Plan (点金计划). Never talks to WeChat Pay.
#[derive(Debug, Parser)]
#[command(name = "goldplan-sandbox", version)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("goldplan-sandbox: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(runtime.block_on(serve(args.serve)))
}
