//! Set-up shared by the `goldplan bulk` tests.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use goldplan_sandbox::{KeyMode, MerchantPatch, Sandbox, SandboxConfig, SandboxHandle, Settings};

/// A public-key-mode sandbox on `state_dir` (its `sandbox.json` is the CLI's configuration)
/// that knows `sub_mchids` and has a provider receipt link, so that every Gold Plan switch of
/// a rollout plan can be set.
pub(crate) async fn rollout_sandbox(
    state_dir: PathBuf,
    sub_mchids: Vec<String>,
    settings: Settings,
) -> SandboxHandle {
    let sandbox = Sandbox::start(SandboxConfig {
        state_dir: Some(state_dir),
        mode: KeyMode::PublicKey,
        sub_mchids,
        settings,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let mchid = sandbox.info().unwrap().mchid;
    sandbox
        .update_merchant(
            &mchid,
            MerchantPatch {
                receipt_link: Some("https://receipt.example.com/r".into()),
                ..MerchantPatch::default()
            },
        )
        .unwrap();
    sandbox
}
