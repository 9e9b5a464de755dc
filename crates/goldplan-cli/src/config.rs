//! Where the CLI's merchant configuration comes from: flags, `GOLDPLAN_*` environment
//! variables, or a JSON config file (a sandbox's `sandbox.json` is one), in that order.

use std::path::{Path, PathBuf};
use std::time::Duration;

use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::verify::PublicKeyVerifier;
use goldplan::{Client, ClientBuilder, Error, Result};
use serde::Deserialize;
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
    /// Merchant API private key file (apiclient_key.pem).
    #[arg(
        long,
        global = true,
        env = "GOLDPLAN_PRIVATE_KEY",
        value_name = "PEM_FILE"
    )]
    pub private_key: Option<PathBuf>,
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
        hide_env_values = true
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

/// The JSON config file. Every field is optional; `sandbox.json` fits.
#[derive(Deserialize, Default)]
struct FileConfig {
    base_url: Option<String>,
    mchid: Option<String>,
    serial_no: Option<String>,
    private_key_pem: Option<String>,
    private_key_path: Option<PathBuf>,
    certificate_pem: Option<String>,
    apiv3_key: Option<String>,
    public_key_id: Option<String>,
    public_key_pem: Option<String>,
    public_key_path: Option<PathBuf>,
    mode: Option<String>,
}

/// Fully resolved settings.
pub struct Settings {
    pub base_url: Option<String>,
    pub mchid: String,
    pub serial_no: String,
    pub private_key_pem: Zeroizing<String>,
    pub merchant_certificate_pem: Option<String>,
    pub apiv3_key: Option<Zeroizing<String>>,
    pub public_key: Option<(String, String)>,
    pub combined: bool,
    pub timeout: Duration,
}

fn read_file(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::Configuration(format!("cannot read the {what} {}: {e}", path.display()))
    })
}

fn missing(what: &str, flag: &str, env: &str) -> Error {
    Error::Configuration(format!(
        "no {what}: pass --{flag}, set {env}, or put it in the --config file"
    ))
}

impl ConfigArgs {
    /// Merges flags/environment over the config file.
    pub fn resolve(&self) -> Result<Settings> {
        let file: FileConfig = match &self.config {
            Some(path) => serde_json::from_str(&read_file(path, "config file")?).map_err(|e| {
                Error::Configuration(format!("invalid config file {}: {e}", path.display()))
            })?,
            None => FileConfig::default(),
        };
        let relative = |p: &PathBuf| match &self.config {
            Some(cfg) if p.is_relative() => {
                cfg.parent().map_or_else(|| p.clone(), |dir| dir.join(p))
            }
            _ => p.clone(),
        };
        let private_key_pem = match (
            &self.private_key,
            &file.private_key_pem,
            &file.private_key_path,
        ) {
            (Some(path), _, _) => read_file(path, "private key file")?,
            (None, Some(pem), _) => pem.clone(),
            (None, None, Some(path)) => read_file(&relative(path), "private key file")?,
            _ => {
                return Err(missing(
                    "merchant private key",
                    "private-key",
                    "GOLDPLAN_PRIVATE_KEY",
                ));
            }
        };
        let public_key_pem = match (
            &self.public_key,
            &file.public_key_pem,
            &file.public_key_path,
        ) {
            (Some(path), _, _) => Some(read_file(path, "public key file")?),
            (None, Some(pem), _) => Some(pem.clone()),
            (None, None, Some(path)) => Some(read_file(&relative(path), "public key file")?),
            _ => None,
        };
        // A config file's `mode` (as in sandbox.json) says which WeChat keys the merchant uses;
        // a public key given by flag or environment always applies.
        let file_mode = file.mode.as_deref().unwrap_or("public_key");
        let from_flags = self.public_key_id.is_some() || self.public_key.is_some();
        let use_public_key = from_flags || file_mode != "certificate";
        let combined = self.combined || (!from_flags && file_mode == "combined");
        let public_key = match (
            self.public_key_id.clone().or(file.public_key_id),
            public_key_pem,
        ) {
            (Some(id), Some(pem)) if use_public_key => Some((id, pem)),
            (Some(_), None) if from_flags => {
                return Err(missing(
                    "WeChat Pay public key file",
                    "public-key",
                    "GOLDPLAN_PUBLIC_KEY",
                ));
            }
            (None, Some(_)) if from_flags => {
                return Err(missing(
                    "WeChat Pay public key id",
                    "public-key-id",
                    "GOLDPLAN_PUBLIC_KEY_ID",
                ));
            }
            _ => None,
        };
        let merchant_certificate_pem = match &self.merchant_certificate {
            Some(path) => Some(read_file(path, "merchant certificate")?),
            None => file.certificate_pem,
        };
        Ok(Settings {
            base_url: self.base_url.clone().or(file.base_url),
            mchid: self
                .mchid
                .clone()
                .or(file.mchid)
                .ok_or_else(|| missing("merchant id", "mchid", "GOLDPLAN_MCHID"))?,
            serial_no: self.serial_no.clone().or(file.serial_no).ok_or_else(|| {
                missing(
                    "merchant certificate serial",
                    "serial-no",
                    "GOLDPLAN_SERIAL_NO",
                )
            })?,
            private_key_pem: Zeroizing::new(private_key_pem),
            merchant_certificate_pem,
            apiv3_key: self
                .apiv3_key
                .clone()
                .or(file.apiv3_key)
                .map(Zeroizing::new),
            public_key,
            combined,
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
        })
    }
}

/// Which verification keys a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Whatever the configuration says (public key, certificates, or both with --combined).
    Configured,
    /// Platform certificates in any case (certificate download).
    WithCertificates,
}

impl Settings {
    /// The merchant credentials, checked against the merchant certificate when one is given.
    pub fn credentials(&self) -> Result<MerchantCredentials> {
        let key = PrivateKey::from_pem(&self.private_key_pem)?;
        match &self.merchant_certificate_pem {
            Some(cert) => {
                MerchantCredentials::with_certificate(&self.mchid, &self.serial_no, key, cert)
            }
            None => MerchantCredentials::new(&self.mchid, &self.serial_no, key),
        }
    }

    /// The APIv3 key, checked.
    pub fn apiv3_key(&self) -> Result<Option<ApiV3Key>> {
        self.apiv3_key
            .as_ref()
            .map(|k| ApiV3Key::new(k.as_bytes()))
            .transpose()
    }

    /// The WeChat Pay public key, parsed.
    pub fn public_key(&self) -> Result<Option<PublicKeyVerifier>> {
        self.public_key
            .as_ref()
            .map(|(id, pem)| PublicKeyVerifier::from_pem(id, pem))
            .transpose()
    }

    /// A client for these settings.
    pub fn client(&self, keys: Keys) -> Result<Client> {
        self.builder(keys)?.build()
    }

    /// A client builder for these settings, to adjust before building.
    pub fn builder(&self, keys: Keys) -> Result<ClientBuilder> {
        let mut builder = Client::builder()
            .credentials(self.credentials()?)
            .timeout(self.timeout)
            .user_agent_suffix(format!("goldplan-cli/{}", goldplan::client::VERSION));
        if let Some(key) = self.apiv3_key()? {
            builder = builder.apiv3_key(key);
        }
        if let Some(pk) = self.public_key()? {
            builder = builder.wechatpay_public_key(pk);
            if self.combined || keys == Keys::WithCertificates {
                builder = builder.platform_certificates(true);
            }
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        Ok(builder)
    }
}
