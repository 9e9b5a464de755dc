//! `goldplan-sandbox`: runs the WeChat Pay gateway simulator until Ctrl-C or SIGTERM. The first line on
//! stdout is the base URL; `sandbox.json` is written to the state directory.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use goldplan_sandbox::{KeyMode, Sandbox, SandboxConfig};

/// Local WeChat Pay APIv3 gateway simulator for Gold Plan (点金计划). Never talks to WeChat Pay.
#[derive(Debug, Parser)]
#[command(name = "goldplan-sandbox", version)]
struct Args {
    /// Port to listen on (0 = a random free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind. Anything but loopback also needs --allow-non-loopback.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Confirms that binding a non-loopback address is intended.
    #[arg(long)]
    allow_non_loopback: bool,
    /// Directory for sandbox.json and the generated identities (reused on the next start).
    #[arg(long, default_value = "goldplan-sandbox-state")]
    state_dir: PathBuf,
    /// Merchant id of the built-in service provider.
    #[arg(long, default_value = goldplan_sandbox::DEFAULT_MCHID)]
    mchid: String,
    /// Key mode of the built-in provider: certificate, combined or public_key.
    #[arg(long, default_value = "combined", value_parser = parse_mode)]
    mode: KeyMode,
}

fn parse_mode(s: &str) -> Result<KeyMode, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("unknown mode {s:?} (certificate, combined, public_key)"))
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
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    if !args.bind.is_loopback() && args.allow_non_loopback {
        eprintln!(
            "WARNING: binding {} exposes the sandbox (and its test keys) to other hosts",
            args.bind
        );
    }
    let config = SandboxConfig {
        bind: SocketAddr::new(args.bind, args.port),
        allow_non_loopback: args.allow_non_loopback,
        state_dir: Some(args.state_dir.clone()),
        mchid: args.mchid,
        mode: args.mode,
        ..SandboxConfig::default()
    };
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("goldplan-sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{}", sandbox.base_url());
    eprintln!(
        "sandbox.json: {}  admin: {}/sandbox  (Ctrl-C to stop)",
        args.state_dir.join("sandbox.json").display(),
        sandbox.base_url()
    );
    wait_for_signal().await;
    match sandbox.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("goldplan-sandbox: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C, or SIGTERM (what test harnesses and process managers send).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
