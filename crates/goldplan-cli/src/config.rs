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
    /// Merchant API certificate (apiclient_cert.pem), PEM file or text, to check that the key
    /// and serial belong together. Also read from GOLDPLAN_MERCHANT_CERT (older name).
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_MERCHANT_CERTIFICATE",
        value_name = "PEM_FILE",
        allow_hyphen_values = true
    )]
    pub merchant_certificate: Option<OsString>,
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
    /// WeChat Pay public key (-----BEGIN PUBLIC KEY-----), PEM file or text.
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_PUBLIC_KEY",
        value_name = "PEM_FILE",
        allow_hyphen_values = true
    )]
    pub public_key: Option<OsString>,
    /// Which keys verify: certificate, combined or public_key (default: public_key when a
    /// public key is configured, else certificate). Given before the command (`goldplan
    /// --mode public_key gold-plan …`): after `sandbox` it is the sandbox's own mode.
    #[arg(long, env = "GOLDPLAN_MODE")]
    pub mode: Option<String>,
    /// Same as --mode combined (platform certificates as well as the public key).
    #[arg(long, global = true)]
    pub combined: bool,
    /// Total timeout per HTTP exchange, in seconds (default 30). Also read from
    /// GOLDPLAN_TIMEOUT_SECS (older name).
    #[arg(long, global = true, env = "GOLDPLAN_TIMEOUT", alias = "timeout-secs")]
    pub timeout: Option<f64>,
    /// Connection timeout, in seconds (default 10).
    #[arg(long, global = true, env = "GOLDPLAN_CONNECT_TIMEOUT")]
    pub connect_timeout: Option<f64>,
    /// Proxy URL for every request.
    #[arg(long, global = true, env = "GOLDPLAN_PROXY", hide_env_values = true)]
    pub proxy: Option<String>,
    /// Attempts per call, the first included (default 3).
    #[arg(long, global = true, env = "GOLDPLAN_MAX_ATTEMPTS")]
    pub max_attempts: Option<u32>,
    /// Accepted clock skew of responses and callbacks, in seconds (default 300).
    #[arg(long, global = true, env = "GOLDPLAN_MAX_SKEW_SECS")]
    pub max_skew_secs: Option<i64>,
    /// Largest response body read, in bytes (default 4 MiB).
    #[arg(long, global = true, env = "GOLDPLAN_MAX_RESPONSE_BODY")]
    pub max_response_body: Option<usize>,
    /// Where the processes of a fleet share certificate downloads: `memory` or
    /// `redis://host:port/db` (default: none).
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_CERTIFICATE_STORE",
        hide_env_values = true
    )]
    pub certificate_store: Option<String>,
}

/// A setting from its older environment variable, when the current one is not set.
fn legacy_env(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
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
            c.private_key = Some(KeySource::from_pem_or_path(value.clone()));
        }
        let certificate = self
            .merchant_certificate
            .clone()
            .or_else(|| legacy_env("GOLDPLAN_MERCHANT_CERT"));
        if let Some(value) = certificate {
            c.merchant_certificate = Some(KeySource::from_pem_or_path(value));
        }
        if let Some(key) = &self.apiv3_key {
            c.apiv3_key = Some(Zeroizing::new(key.clone()));
        }
        // A public key given by flag or environment replaces the file's and applies.
        if self.public_key_id.is_some() || self.public_key.is_some() {
            c.public_key_id = self.public_key_id.clone();
            c.public_key = self.public_key.clone().map(KeySource::from_pem_or_path);
            if c.public_key_id.is_none() {
                return Err(missing(
                    "WeChat Pay public key id",
                    "public-key-id",
                    "GOLDPLAN_PUBLIC_KEY_ID",
                ));
            }
            if c.public_key.is_none() {
                return Err(missing(
                    "WeChat Pay public key file",
                    "public-key",
                    "GOLDPLAN_PUBLIC_KEY",
                ));
            }
            c.mode = None;
        }
        if let Some(mode) = &self.mode {
            c.mode = Some(mode.parse::<KeyMode>()?);
        }
        if self.combined {
            c.mode = Some(KeyMode::Combined);
        }
        let timeout = match self.timeout {
            Some(t) => Some(t),
            None => legacy_env("GOLDPLAN_TIMEOUT_SECS")
                .map(|v| {
                    v.to_str()
                        .and_then(|t| t.trim().parse::<f64>().ok())
                        .ok_or_else(|| {
                            Error::Configuration("GOLDPLAN_TIMEOUT_SECS must be a number".into())
                        })
                })
                .transpose()?,
        };
        c.timeout = timeout.or(c.timeout);
        c.connect_timeout = self.connect_timeout.or(c.connect_timeout);
        if let Some(proxy) = &self.proxy {
            c.proxy = Some(proxy.clone());
        }
        c.max_attempts = self.max_attempts.or(c.max_attempts);
        c.max_skew_secs = self.max_skew_secs.or(c.max_skew_secs);
        c.max_response_body = self.max_response_body.or(c.max_response_body);
        if let Some(store) = &self.certificate_store {
            c.certificate_store = Some(store.clone());
        }
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
        if c.private_key.is_none() {
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
