//! Where the CLI's merchant configuration comes from: flags, `GOLDPLAN_*` environment
//! variables, or a JSON config file (a sandbox's `sandbox.json` is one), in that order.

use std::ffi::OsString;
use std::path::PathBuf;

use goldplan::config::{ClientConfig, KeyMode};
use goldplan::credentials::KeySource;
use goldplan::{Client, ClientBuilder, Error, Result};
use zeroize::Zeroizing;

/// Merchant settings given on the command line or in the environment.
#[derive(clap::Args, Default)]
pub struct ConfigArgs {
    /// JSON config file (fields as in sandbox.json; see README).
    #[arg(long, global = true, env = "GOLDPLAN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Gateway base URL (default: the primary WeChat Pay host, api.mch.weixin.qq.com).
    #[arg(long, global = true, env = "GOLDPLAN_BASE_URL")]
    pub base_url: Option<String>,
    /// Caller merchant id (the service provider).
    #[arg(long, global = true, env = "GOLDPLAN_MCHID")]
    pub mchid: Option<String>,
    /// Merchant API certificate serial.
    #[arg(long, global = true, env = "GOLDPLAN_SERIAL_NO")]
    pub serial_no: Option<String>,
    /// Merchant API private key: the PEM file (apiclient_key.pem), or the PEM text itself
    /// (-----BEGIN included). Never shown in errors or --help.
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_PRIVATE_KEY",
        value_name = "PEM_FILE",
        hide_env_values = true,
        // PEM text starts with `-----`: without this clap would take it for a flag and echo
        // the whole key in its "unexpected argument" error.
        allow_hyphen_values = true
    )]
    pub private_key: Option<OsString>,
    /// Merchant API certificate file (apiclient_cert.pem), to check key/serial consistency.
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_MERCHANT_CERT",
        value_name = "PEM_FILE"
    )]
    pub merchant_certificate: Option<PathBuf>,
    /// APIv3 key (prefer the environment variable or the config file over this flag).
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_APIV3_KEY",
        hide_env_values = true,
        // A key starting with `-` must not be taken for a flag (clap would echo it).
        allow_hyphen_values = true
    )]
    pub apiv3_key: Option<String>,
    /// WeChat Pay public key id (PUB_KEY_ID_…).
    #[arg(long, global = true, env = "GOLDPLAN_PUBLIC_KEY_ID")]
    pub public_key_id: Option<String>,
    /// WeChat Pay public key file (-----BEGIN PUBLIC KEY-----).
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_PUBLIC_KEY",
        value_name = "PEM_FILE"
    )]
    pub public_key: Option<PathBuf>,
    /// Use platform certificates as well as the public key (migration).
    #[arg(long, global = true)]
    pub combined: bool,
    /// Total timeout per HTTP exchange, in seconds.
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub timeout_secs: u64,
}

fn missing(what: &str, flag: &str, env: &str) -> Error {
    Error::Configuration(format!(
        "no {what}: pass --{flag}, set {env}, or put it in the --config file"
    ))
}

impl ConfigArgs {
    /// The config file (if any) with flags and environment variables laid over it.
    pub fn resolve(&self) -> Result<Settings> {
        let mut c = match &self.config {
            Some(path) => ClientConfig::from_file(path)?,
            None => ClientConfig::default(),
        };
        if let Some(url) = &self.base_url {
            c.base_url = Some(url.clone());
        }
        if let Some(mchid) = &self.mchid {
            c.mchid = Some(mchid.clone());
        }
        if let Some(serial) = &self.serial_no {
            c.serial_no = Some(serial.clone());
        }
        if let Some(value) = &self.private_key {
            // One core rule tells PEM text from a path; errors never echo either.
            match &KeySource::from_pem_or_path(value.clone()) {
                KeySource::Pem(pem) => {
                    c.private_key_pem = Some(pem.clone());
                    c.private_key_path = None;
                }
                KeySource::Path(path) => {
                    c.private_key_pem = None;
                    c.private_key_path = Some(path.clone());
                }
            }
        }
        if let Some(path) = &self.merchant_certificate {
            let pem = KeySource::Path(path.clone()).load("merchant certificate")?;
            c.certificate_pem = Some(pem.to_string());
        }
        if let Some(key) = &self.apiv3_key {
            c.apiv3_key = Some(Zeroizing::new(key.clone()));
        }
        // A public key given by flag or environment replaces the file's and applies.
        if self.public_key_id.is_some() || self.public_key.is_some() {
            c.public_key_id = self.public_key_id.clone();
            c.public_key_pem = None;
            c.public_key_path = self.public_key.clone();
            if c.public_key_id.is_none() {
                return Err(missing(
                    "WeChat Pay public key id",
                    "public-key-id",
                    "GOLDPLAN_PUBLIC_KEY_ID",
                ));
            }
            if c.public_key_path.is_none() {
                return Err(missing(
                    "WeChat Pay public key file",
                    "public-key",
                    "GOLDPLAN_PUBLIC_KEY",
                ));
            }
            c.mode = None;
        }
        if self.combined {
            c.mode = Some(KeyMode::Combined);
        }
        c.timeout_secs = Some(self.timeout_secs.max(1) as f64);
        c.user_agent_suffix = Some(format!("goldplan-cli/{}", goldplan::client::VERSION));
        if c.mchid.is_none() {
            return Err(missing("merchant id", "mchid", "GOLDPLAN_MCHID"));
        }
        if c.serial_no.is_none() {
            return Err(missing(
                "merchant certificate serial",
                "serial-no",
                "GOLDPLAN_SERIAL_NO",
            ));
        }
        if c.private_key_pem.is_none() && c.private_key_path.is_none() {
            return Err(missing(
                "merchant private key",
                "private-key",
                "GOLDPLAN_PRIVATE_KEY",
            ));
        }
        Ok(Settings { config: c })
    }
}

/// Which verification keys a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Whatever the configuration says (public key, certificates, or both).
    Configured,
    /// Platform certificates in any case (certificate download).
    WithCertificates,
}

/// Fully resolved settings.
pub struct Settings {
    /// The merged configuration.
    pub config: ClientConfig,
}

impl Settings {
    /// A client for these settings.
    pub fn client(&self, keys: Keys) -> Result<Client> {
        self.builder(keys)?.build()
    }

    /// A client builder for these settings, to adjust before building.
    pub fn builder(&self, keys: Keys) -> Result<ClientBuilder> {
        if keys == Keys::WithCertificates && self.config.mode() == KeyMode::PublicKey {
            let mut combined = self.config.clone();
            combined.mode = Some(KeyMode::Combined);
            return combined.builder();
        }
        self.config.builder()
    }

    /// Whether platform certificates are part of the configuration.
    pub fn uses_certificates(&self) -> bool {
        self.config.mode() != KeyMode::PublicKey
    }
}
