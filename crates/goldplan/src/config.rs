//! A merchant's client configuration as plain data: what a JSON config file (a sandbox's
//! `sandbox.json` is one) or a binding's keyword arguments hold, turned into a [`Client`].
//!
//! Nothing here reads the environment. Files are read only when the configuration names them
//! (`*_path` fields, or [`ClientConfig::from_file`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::client::{Client, ClientBuilder, RetryPolicy};
use crate::credentials::{ApiV3Key, KeySource, MerchantCredentials, PrivateKey};
use crate::error::{Error, Result};
use crate::files::{MAX_CONFIG_FILE, read_bounded};
use crate::redact::Rejected;
use crate::verify::PublicKeyVerifier;

closed_enum! {
    /// Which WeChat Pay keys verify responses and callbacks (spec §2.6, §3.6). Its names are
    /// the config-file spellings: `certificate`, `combined` or `public_key`.
    KeyMode {
        /// Platform certificates, downloaded and rotated (needs the APIv3 key).
        Certificate = "certificate",
        /// The WeChat Pay public key and platform certificates, routed by serial (migration).
        Combined = "combined",
        /// The WeChat Pay public key only (`PUB_KEY_ID_…`); no certificate downloads.
        PublicKey = "public_key",
    }
}

impl FromStr for KeyMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<KeyMode> {
        KeyMode::from_name(s.trim()).ok_or_else(|| {
            Error::Configuration(format!(
                "mode must be certificate, combined or public_key; got {}",
                Rejected(s.trim())
            ))
        })
    }
}

impl<'de> Deserialize<'de> for KeyMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<KeyMode, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Everything needed to build a [`Client`] for one merchant, under the names every language
/// uses: JSON files, Python keyword arguments, Node options (in camelCase), the C library's
/// JSON, CLI flags (`--private-key`, …) and `GOLDPLAN_*` variables (`GOLDPLAN_PRIVATE_KEY`, …).
///
/// Every field is optional in a file; [`ClientConfig::builder`] says what is missing. Unknown
/// fields are ignored, so a sandbox's `sandbox.json` (which also lists `sub_mchids`,
/// `platform_certificates`, ...) loads as is; its older spellings (`private_key_pem`,
/// `private_key_path`, `public_key_pem`, `public_key_path`, `certificate_pem`,
/// `timeout_secs`, `connect_timeout_secs`) are accepted too, one spelling per setting.
///
/// `Debug` never shows the private key, the APIv3 key or a key path, and they are wiped on
/// drop.
#[derive(Clone, Default, Deserialize)]
#[serde(try_from = "WireConfig")]
pub struct ClientConfig {
    /// Gateway (default `https://api.mch.weixin.qq.com` with its backup host).
    pub base_url: Option<String>,
    /// Caller merchant id (the service provider for Gold Plan).
    pub mchid: Option<String>,
    /// Merchant API certificate serial.
    pub serial_no: Option<String>,
    /// Merchant API private key: PEM (PKCS#8 or PKCS#1) or the file holding it
    /// (`apiclient_key.pem`).
    pub private_key: Option<KeySource>,
    /// Merchant API certificate (`apiclient_cert.pem`), PEM or file; when given, its serial and
    /// key must match `serial_no` and `private_key`.
    pub merchant_certificate: Option<KeySource>,
    /// The 32-character APIv3 key (certificate downloads, callbacks).
    pub apiv3_key: Option<Zeroizing<String>>,
    /// WeChat Pay public key id (`PUB_KEY_ID_…`).
    pub public_key_id: Option<String>,
    /// WeChat Pay public key (`-----BEGIN PUBLIC KEY-----`), PEM or file.
    pub public_key: Option<KeySource>,
    /// Which keys verify; default: `public_key` when a public key is configured, else
    /// `certificate`.
    pub mode: Option<KeyMode>,
    /// Total timeout per HTTP exchange in seconds (default 30).
    pub timeout: Option<f64>,
    /// Connection timeout in seconds (default 10).
    pub connect_timeout: Option<f64>,
    /// Proxy URL for every request.
    pub proxy: Option<String>,
    /// Attempts per call, the first included (default 3).
    pub max_attempts: Option<u32>,
    /// Accepted clock skew of responses and callbacks in seconds (default 300).
    pub max_skew_secs: Option<i64>,
    /// Largest response body read, in bytes (default 4 MiB).
    pub max_response_body: Option<usize>,
    /// Appended to the User-Agent (bindings put their name and version here).
    pub user_agent_suffix: Option<String>,
    /// Where the processes of a fleet share platform certificate downloads: `memory` (the
    /// clients of this process) or a store URL such as `redis://127.0.0.1:6379/0` (see
    /// [`crate::client::CertificateStore`]). Default: none, each client downloads its own.
    pub certificate_store: Option<String>,
    /// This provider's request rate, shared by every process using the same store:
    /// `{"per_second": 50, "burst": 5, "store": "redis://…"}` (the store defaults to the
    /// `certificate_store`, else this process). Default: none.
    pub rate_limit: Option<crate::client::RateLimitSettings>,
}

fn secret<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Zeroizing<String>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Zeroizing::new))
}

/// The names a configuration document may use, before they are folded into [`ClientConfig`].
#[derive(Default, Deserialize)]
#[serde(default)]
struct WireConfig {
    base_url: Option<String>,
    mchid: Option<String>,
    serial_no: Option<String>,
    #[serde(deserialize_with = "secret")]
    private_key: Option<Zeroizing<String>>,
    #[serde(deserialize_with = "secret")]
    private_key_pem: Option<Zeroizing<String>>,
    private_key_path: Option<PathBuf>,
    merchant_certificate: Option<String>,
    certificate_pem: Option<String>,
    #[serde(deserialize_with = "secret")]
    apiv3_key: Option<Zeroizing<String>>,
    public_key_id: Option<String>,
    public_key: Option<String>,
    public_key_pem: Option<String>,
    public_key_path: Option<PathBuf>,
    mode: Option<KeyMode>,
    timeout: Option<f64>,
    timeout_secs: Option<f64>,
    connect_timeout: Option<f64>,
    connect_timeout_secs: Option<f64>,
    proxy: Option<String>,
    max_attempts: Option<u32>,
    max_skew_secs: Option<i64>,
    max_response_body: Option<usize>,
    certificate_store: Option<String>,
    rate_limit: Option<crate::client::RateLimitSettings>,
}

/// One setting given under at most one of its spellings.
fn one_of<T>(
    setting: &str,
    spellings: Vec<(&str, Option<T>)>,
) -> std::result::Result<Option<T>, String> {
    let given: Vec<(&str, T)> = spellings
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect();
    if given.len() > 1 {
        let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "{setting} is given more than once ({}): keep one",
            names.join(", ")
        ));
    }
    Ok(given.into_iter().next().map(|(_, v)| v))
}

/// PEM text or a path, as a user types it (see [`KeySource::from_pem_or_path`]); the text is
/// kept in wiped memory either way.
fn pem_or_path(value: Zeroizing<String>) -> KeySource {
    if value.contains(KeySource::PEM_MARKER) {
        KeySource::Pem(value)
    } else {
        KeySource::Path(PathBuf::from(value.as_str()))
    }
}

impl TryFrom<WireConfig> for ClientConfig {
    type Error = String;

    fn try_from(w: WireConfig) -> std::result::Result<ClientConfig, String> {
        let private_key = one_of(
            "the private key",
            vec![
                ("private_key", w.private_key.map(pem_or_path)),
                ("private_key_pem", w.private_key_pem.map(KeySource::Pem)),
                ("private_key_path", w.private_key_path.map(KeySource::Path)),
            ],
        )?;
        let merchant_certificate = one_of(
            "the merchant certificate",
            vec![
                (
                    "merchant_certificate",
                    w.merchant_certificate
                        .map(|v| pem_or_path(Zeroizing::new(v))),
                ),
                (
                    "certificate_pem",
                    w.certificate_pem.map(|v| KeySource::Pem(Zeroizing::new(v))),
                ),
            ],
        )?;
        let public_key = one_of(
            "the WeChat Pay public key",
            vec![
                (
                    "public_key",
                    w.public_key.map(|v| pem_or_path(Zeroizing::new(v))),
                ),
                (
                    "public_key_pem",
                    w.public_key_pem.map(|v| KeySource::Pem(Zeroizing::new(v))),
                ),
                ("public_key_path", w.public_key_path.map(KeySource::Path)),
            ],
        )?;
        Ok(ClientConfig {
            base_url: w.base_url,
            mchid: w.mchid,
            serial_no: w.serial_no,
            private_key,
            merchant_certificate,
            apiv3_key: w.apiv3_key,
            public_key_id: w.public_key_id,
            public_key,
            mode: w.mode,
            timeout: one_of(
                "timeout",
                vec![("timeout", w.timeout), ("timeout_secs", w.timeout_secs)],
            )?,
            connect_timeout: one_of(
                "connect_timeout",
                vec![
                    ("connect_timeout", w.connect_timeout),
                    ("connect_timeout_secs", w.connect_timeout_secs),
                ],
            )?,
            proxy: w.proxy,
            max_attempts: w.max_attempts,
            max_skew_secs: w.max_skew_secs,
            max_response_body: w.max_response_body,
            user_agent_suffix: None,
            certificate_store: w.certificate_store,
            rate_limit: w.rate_limit,
        })
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |k: &Option<KeySource>| match k {
            Some(KeySource::Pem(_)) => Some("<pem>"),
            Some(KeySource::Path(_)) => Some("<file>"),
            None => None,
        };
        // Settings are shown once they pass their check; before, one may hold a key given to
        // the wrong setting, and a logged configuration would print it.
        let checked = |value: &Option<String>, valid: fn(&str) -> bool| {
            value.as_deref().map(|v| {
                if valid(v) {
                    v.to_owned()
                } else {
                    format!("<{}>", Rejected(v))
                }
            })
        };
        f.debug_struct("ClientConfig")
            .field(
                "base_url",
                &checked(&self.base_url, |v| {
                    crate::http::validate_base_url(v).is_ok()
                }),
            )
            .field(
                "mchid",
                &checked(&self.mchid, crate::credentials::is_valid_mchid),
            )
            .field(
                "serial_no",
                &checked(&self.serial_no, |v| {
                    crate::x509::SerialNumber::parse(v).is_ok()
                }),
            )
            .field("private_key", &shown(&self.private_key))
            .field("apiv3_key", &self.apiv3_key.as_ref().map(|_| "<redacted>"))
            .field(
                "public_key_id",
                &checked(&self.public_key_id, crate::verify::is_valid_public_key_id),
            )
            .field("public_key", &shown(&self.public_key))
            .field("mode", &self.mode())
            // A store URL may carry a password: its scheme says enough.
            .field(
                "certificate_store",
                &self
                    .certificate_store
                    .as_deref()
                    .map(|s| s.split_once("://").map_or("<set>", |(scheme, _)| scheme)),
            )
            .field(
                "rate_limit",
                &self.rate_limit.as_ref().map(|r| (r.per_second, r.burst())),
            )
            .finish_non_exhaustive()
    }
}

/// The configuration file itself: bounded, and named in errors when the value given looks like
/// a path. Bindings pass whatever the caller gave, and a caller may give the configuration's
/// JSON or a bare APIv3 key by mistake: those are never echoed. (The paths inside the file go
/// through [`KeySource`].)
fn read_config_file(path: &Path) -> Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(read_bounded(path, MAX_CONFIG_FILE).map_err(|e| {
        Error::Configuration(format!("the config file ({}) {e}", config_path_shown(path)))
    })?);
    std::str::from_utf8(&bytes)
        .map(|t| Zeroizing::new(t.to_owned()))
        .map_err(|_| {
            Error::Configuration(format!(
                "the config file ({}) is not UTF-8",
                config_path_shown(path)
            ))
        })
}

/// The config path as errors show it: described, never quoted. Bindings pass whatever the
/// caller gave, which may be the configuration's JSON or a key given by mistake, and a base64
/// key body contains `/` like a path does.
fn config_path_shown(path: &Path) -> String {
    match path.as_os_str().to_str() {
        Some(text) => Rejected(text).to_string(),
        None => format!(
            "a path of {} bytes that is not UTF-8",
            path.as_os_str().len()
        ),
    }
}

fn seconds(value: Option<f64>, name: &str) -> Result<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Error::Configuration(format!("{name} must be a positive number of seconds"))
                })
        })
        .transpose()
}

impl ClientConfig {
    /// Parses a JSON config. Relative `*_path` fields are resolved against `base_dir`.
    pub fn from_json(text: &str, base_dir: Option<&Path>) -> Result<ClientConfig> {
        let mut config: ClientConfig = serde_json::from_str(text).map_err(|e| {
            Error::Configuration(format!(
                "invalid JSON config: {}",
                crate::redact::redact_quoted(&e.to_string())
            ))
        })?;
        if let Some(dir) = base_dir {
            for source in [
                &mut config.private_key,
                &mut config.public_key,
                &mut config.merchant_certificate,
            ]
            .into_iter()
            .flatten()
            {
                if let KeySource::Path(path) = source
                    && path.is_relative()
                {
                    *path = dir.join(&*path);
                }
            }
        }
        Ok(config)
    }

    /// Reads a JSON config file such as a sandbox's `sandbox.json`; relative paths in it are
    /// taken from the file's folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ClientConfig> {
        let path = path.as_ref();
        let text = read_config_file(path)?;
        ClientConfig::from_json(&text, path.parent()).map_err(|e| {
            Error::Configuration(format!(
                "the config file ({}): {e}",
                config_path_shown(path)
            ))
        })
    }

    /// The effective key mode.
    pub fn mode(&self) -> KeyMode {
        self.mode.unwrap_or(
            if self.public_key_id.is_some() && self.public_key.is_some() {
                KeyMode::PublicKey
            } else {
                KeyMode::Certificate
            },
        )
    }

    /// The merchant private key.
    pub fn private_key(&self) -> Result<PrivateKey> {
        match &self.private_key {
            Some(source) => PrivateKey::from_source(source),
            None => Err(Error::Configuration(
                "no merchant private key configured".into(),
            )),
        }
    }

    /// The merchant credentials, checked against `certificate_pem` when it is given.
    pub fn credentials(&self) -> Result<MerchantCredentials> {
        let missing = |what: &str| Error::Configuration(format!("no {what} configured"));
        let mchid = self.mchid.as_deref().ok_or_else(|| missing("mchid"))?;
        let serial_no = self
            .serial_no
            .as_deref()
            .ok_or_else(|| missing("serial_no"))?;
        let key = self.private_key()?;
        match &self.merchant_certificate {
            Some(cert) => {
                let pem = cert.load("merchant certificate")?;
                MerchantCredentials::with_certificate(mchid, serial_no, key, &pem)
            }
            None => MerchantCredentials::new(mchid, serial_no, key),
        }
    }

    /// The APIv3 key, checked (exactly 32 bytes), when configured.
    pub fn apiv3_key(&self) -> Result<Option<ApiV3Key>> {
        self.apiv3_key
            .as_ref()
            .map(|k| ApiV3Key::new(k.as_bytes()))
            .transpose()
    }

    /// The WeChat Pay public key, when configured (id and key must come together).
    pub fn public_key(&self) -> Result<Option<PublicKeyVerifier>> {
        let pem = match &self.public_key {
            Some(source) => Some(source.load("WeChat Pay public key")?),
            None => None,
        };
        match (&self.public_key_id, pem) {
            (Some(id), Some(pem)) => Ok(Some(PublicKeyVerifier::from_pem(id, &pem)?)),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::Configuration(
                "public_key_id is set but the WeChat Pay public key is not".into(),
            )),
            (None, Some(_)) => Err(Error::Configuration(
                "the WeChat Pay public key is set but public_key_id is not".into(),
            )),
        }
    }

    /// A client builder for this configuration, to adjust before building.
    pub fn builder(&self) -> Result<ClientBuilder> {
        let mut builder = Client::builder().credentials(self.credentials()?);
        if let Some(key) = self.apiv3_key()? {
            builder = builder.apiv3_key(key);
        }
        let mode = self.mode();
        let public_key = self.public_key()?;
        match (mode, public_key) {
            (KeyMode::Certificate, _) => builder = builder.platform_certificates(true),
            (KeyMode::Combined, Some(pk)) => {
                builder = builder.wechatpay_public_key(pk).platform_certificates(true);
            }
            (KeyMode::PublicKey, Some(pk)) => {
                builder = builder
                    .wechatpay_public_key(pk)
                    .platform_certificates(false);
            }
            (m, None) => {
                return Err(Error::Configuration(format!(
                    "mode {m} needs public_key_id and the WeChat Pay public key"
                )));
            }
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        if let Some(t) = seconds(self.timeout, "timeout")? {
            builder = builder.timeout(t);
        }
        if let Some(t) = seconds(self.connect_timeout, "connect_timeout")? {
            builder = builder.connect_timeout(t);
        }
        if let Some(bytes) = self.max_response_body {
            builder = builder.max_response_body(bytes);
        }
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone());
        }
        if let Some(max_attempts) = self.max_attempts {
            builder = builder.retry_policy(RetryPolicy {
                max_attempts,
                ..RetryPolicy::default()
            });
        }
        if let Some(skew) = self.max_skew_secs {
            builder = builder.max_skew_secs(skew);
        }
        if let Some(suffix) = &self.user_agent_suffix {
            builder = builder.user_agent_suffix(suffix.clone());
        }
        if let Some(store) = &self.certificate_store {
            builder = builder.certificate_store(crate::client::open_store(store)?);
        }
        if let Some(rate) = &self.rate_limit {
            builder = builder.rate_limiter(crate::client::open_rate_limiter(
                rate,
                self.certificate_store.as_deref(),
            )?);
        }
        Ok(builder)
    }

    /// Checks the configuration and builds the client.
    pub fn build(&self) -> Result<Client> {
        self.builder()?.build()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ErrorKind;

    fn keys() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/keys")
    }

    fn read(name: &str) -> String {
        std::fs::read_to_string(keys().join(name)).unwrap()
    }

    fn sandbox_json(mode: &str) -> String {
        serde_json::json!({
            "base_url": "http://127.0.0.1:9",
            "admin_url": "http://127.0.0.1:9/sandbox",
            "mchid": "1900000100",
            "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
            "private_key_pem": read("merchant_test_key.pem"),
            "certificate_pem": read("merchant_test_cert.pem"),
            "apiv3_key": "0123456789abcdefghijklmnopqrstuv",
            "public_key_id": "PUB_KEY_ID_0114232134912410000000000000000001",
            "public_key_pem": read("wechatpay_test_pubkey.pem"),
            "platform_certificates": [{"serial_no": "AB", "certificate_pem": "x"}],
            "sub_mchids": ["1900000109"],
            "mode": mode,
        })
        .to_string()
    }

    #[test]
    fn sandbox_json_loads_in_every_mode() {
        for (mode, expect) in [
            ("public_key", KeyMode::PublicKey),
            ("combined", KeyMode::Combined),
            ("certificate", KeyMode::Certificate),
        ] {
            let config = ClientConfig::from_json(&sandbox_json(mode), None).unwrap();
            assert_eq!(config.mode(), expect);
            let client = config.build().unwrap();
            assert_eq!(client.mchid(), "1900000100");
            let advertised = client.verifier().accept_serial();
            match expect {
                // Certificate mode knows no key before the first download.
                KeyMode::Certificate => assert_eq!(advertised, None),
                _ => assert_eq!(
                    advertised.as_deref(),
                    Some("PUB_KEY_ID_0114232134912410000000000000000001")
                ),
            }
        }
    }

    #[test]
    fn a_secret_given_as_the_config_path_is_not_echoed() {
        let apiv3_key = "0123456789abcdefghijklmnopqrstuv";
        let json = r#"{"mchid":"1900000100","apiv3_key":"0123456789abcdefghijklmnopqrstuv"}"#;
        for value in [apiv3_key, json] {
            let e = ClientConfig::from_file(value).unwrap_err().to_string();
            assert!(!e.contains(apiv3_key), "{e}");
            assert!(e.contains(&format!("{} characters", value.len())), "{e}");
        }
        // A key body holds '/' as paths do: it is described, never quoted.
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7/JTUt9Us8cKjMzEfYyjiWA4R4";
        let e = ClientConfig::from_file(body).unwrap_err().to_string();
        assert!(!e.contains("MIIEvQIBADANBgkq"), "{e}");
        assert!(
            e.contains("no such file") && e.contains("77 characters"),
            "{e}"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let config = ClientConfig::from_json(&sandbox_json("combined"), None).unwrap();
        let shown = format!("{config:?}");
        assert!(
            shown.contains("1900000100") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("PRIVATE KEY") && !shown.contains("0123456789abcdef"));
    }

    #[test]
    fn the_shared_names_take_pem_or_path_and_one_spelling_per_setting() {
        let dir = keys();
        let json = serde_json::json!({
            "mchid": "1900000100",
            "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
            "private_key": "merchant_test_key.pem",
            "merchant_certificate": read("merchant_test_cert.pem"),
            "public_key_id": "PUB_KEY_ID_0114232134912410000000000000000001",
            "public_key": "wechatpay_test_pubkey.pem",
            "timeout": 2.5,
            "connect_timeout": 1,
            "max_attempts": 2,
            "max_response_body": 65536,
        });
        let config = ClientConfig::from_json(&json.to_string(), Some(&dir)).unwrap();
        assert!(matches!(&config.private_key, Some(KeySource::Path(p)) if p.starts_with(&dir)));
        assert!(matches!(
            &config.merchant_certificate,
            Some(KeySource::Pem(_))
        ));
        assert_eq!(config.timeout, Some(2.5));
        assert_eq!(config.max_response_body, Some(65536));
        assert_eq!(config.mode(), KeyMode::PublicKey);
        config.build().unwrap();

        let mut twice = json.clone();
        twice["private_key_pem"] = serde_json::json!(read("merchant_test_key.pem"));
        let e = ClientConfig::from_json(&twice.to_string(), Some(&dir)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration);
        assert!(
            e.to_string().contains("private_key, private_key_pem"),
            "{e}"
        );
        assert!(!e.to_string().contains("BEGIN"), "{e}");
        let mut twice = json;
        twice["timeout_secs"] = serde_json::json!(3);
        let e = ClientConfig::from_json(&twice.to_string(), None).unwrap_err();
        assert!(e.to_string().contains("timeout, timeout_secs"), "{e}");
    }

    #[test]
    fn files_are_read_relative_to_the_config_and_mistakes_are_configuration_errors() {
        let dir = keys();
        let json = serde_json::json!({
            "mchid": "1900000100",
            "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
            "private_key_path": "merchant_test_key_pkcs1.pem",
            "public_key_id": "PUB_KEY_ID_0114232134912410000000000000000001",
            "public_key_path": "wechatpay_test_pubkey.pem",
            "timeout_secs": 2.5,
        })
        .to_string();
        let config = ClientConfig::from_json(&json, Some(&dir)).unwrap();
        assert_eq!(config.mode(), KeyMode::PublicKey);
        config.build().unwrap();

        let bad = |patch: serde_json::Value| {
            let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
            for (k, x) in patch.as_object().unwrap() {
                v[k] = x.clone();
            }
            ClientConfig::from_json(&v.to_string(), Some(&dir))
                .and_then(|c| c.build())
                .unwrap_err()
                .kind()
        };
        assert_eq!(
            bad(serde_json::json!({"mode": "sm2"})),
            ErrorKind::Configuration
        );
        assert_eq!(
            bad(serde_json::json!({"timeout_secs": 0})),
            ErrorKind::Configuration
        );
        assert_eq!(
            bad(serde_json::json!({"public_key_path": null})),
            ErrorKind::Configuration
        );
        assert_eq!(
            bad(serde_json::json!({"mchid": null})),
            ErrorKind::Configuration
        );
        assert_eq!(
            bad(serde_json::json!({"private_key_path": "missing.pem"})),
            ErrorKind::Configuration
        );
        // Certificate mode needs the APIv3key.
        assert_eq!(
            bad(serde_json::json!({"mode": "certificate"})),
            ErrorKind::Configuration
        );
        assert_eq!(
            ClientConfig::from_file(dir.join("nope.json"))
                .unwrap_err()
                .kind(),
            ErrorKind::Configuration
        );
    }
}
