//! Serving the sandbox as a process until Ctrl-C or SIGTERM: the options and the loop shared by
//! the `goldplan-sandbox` binary and `goldplan sandbox`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::{KeyMode, Sandbox, SandboxConfig};

/// How to serve the sandbox from the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (0 = a random free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to bind. Anything but loopback also needs --allow-non-loopback.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Confirms that binding a non-loopback address is intended.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Directory for sandbox.json, the generated identities and the business state (reused on
    /// the next start).
    #[arg(long, default_value = "goldplan-sandbox-state")]
    pub state_dir: PathBuf,
    /// Merchant id of the built-in service provider.
    #[arg(long, default_value = crate::DEFAULT_MCHID)]
    pub mchid: String,
    /// Key mode of the built-in provider: certificate, combined or public_key.
    #[arg(long, default_value = "combined", value_parser = parse_mode)]
    pub mode: KeyMode,
}

fn parse_mode(s: &str) -> Result<KeyMode, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("unknown mode {s:?} (certificate, combined, public_key)"))
}

/// Starts the sandbox, prints its base URL as the first line on stdout, and serves until
/// Ctrl-C or SIGTERM. Returns the process exit code: 0 after a clean stop, 1 when stopping
/// failed, 2 when it could not start.
pub async fn serve(args: ServeArgs) -> u8 {
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
            return 2;
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
        Ok(()) => 0,
        Err(e) => {
            eprintln!("goldplan-sandbox: {e}");
            1
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
