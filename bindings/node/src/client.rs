//! `NativeClient`: one core [`goldplan::Client`], every network call a Promise settled from
//! napi's tokio runtime (RSA and I/O never run on the JS thread).
//!
//! No method here is an `async fn` over `&self`: such a future borrows the `NativeClient`, which
//! the environment of a worker thread frees when the worker ends, while the future still runs on
//! a runtime thread. Each method clones the core client (a handle onto shared state) and copies
//! its arguments on the JS thread, and the future it spawns owns all it touches
//! (`error::spawn_owned`).

use std::path::PathBuf;

use goldplan::client::Operation;
use goldplan::config::ClientConfig;
use napi::Env;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::error::{check, guard, guard_async, invalid_input, spawn_owned};
use crate::protocol::{JsCertificate, JsNotification, certificate_list, header_pairs};

/// The result of a call through the core's JSON surface.
#[napi(object)]
pub struct JsJsonReply {
    /// The result as JSON text.
    pub json: String,
    /// The `Request-ID` of the exchange.
    pub request_id: Option<String>,
}

/// An encrypted sensitive field and the `Wechatpay-Serial` to send with it.
#[napi(object)]
pub struct JsSensitiveCiphertext {
    /// base64 RSA-OAEP ciphertext.
    pub ciphertext: String,
    /// The serial or public key id the field was encrypted to.
    pub wechatpay_serial: String,
}

/// What `util.inspect(client)` shows: never a key.
#[napi(object)]
pub struct JsClientInfo {
    /// Caller merchant id.
    pub mchid: String,
    /// Gateway base URL.
    pub base_url: String,
    /// `certificate`, `public_key` or `combined`.
    pub mode: String,
    /// The User-Agent sent.
    pub user_agent: String,
}

/// The native client; the facade's `Client` wraps it.
#[napi]
pub struct NativeClient {
    client: goldplan::Client,
    mode: &'static str,
    base_url: String,
}

fn build(
    mut config: ClientConfig,
    user_agent_suffix: Option<String>,
) -> napi::Result<NativeClient> {
    config.user_agent_suffix = user_agent_suffix;
    goldplan_host::register_certificate_stores();
    let client = guard(|| config.build())?;
    Ok(NativeClient {
        client,
        mode: config.mode().as_str(),
        base_url: config
            .base_url
            .clone()
            .unwrap_or_else(|| goldplan::client::DEFAULT_BASE_URL.to_owned()),
    })
}

fn operation(name: &str) -> napi::Result<Operation> {
    check(name.parse())
}

impl NativeClient {
    /// The core client (for `bulk`).
    pub(crate) fn core(&self) -> goldplan::Client {
        self.client.clone()
    }
}

#[napi]
impl NativeClient {
    /// A client from configuration JSON in the core's names (`ClientConfig`); relative
    /// `*_path` members are taken from `baseDir`.
    #[napi(constructor)]
    pub fn new(
        config_json: String,
        base_dir: Option<String>,
        user_agent_suffix: Option<String>,
    ) -> napi::Result<NativeClient> {
        let config_json = Zeroizing::new(config_json);
        let dir = base_dir.map(PathBuf::from);
        let config = guard(|| ClientConfig::from_json(&config_json, dir.as_deref()))?;
        build(config, user_agent_suffix)
    }

    /// A client from a JSON configuration file such as a sandbox's `sandbox.json`.
    #[napi(factory, js_name = "fromFile")]
    pub fn from_file(
        path: String,
        user_agent_suffix: Option<String>,
    ) -> napi::Result<NativeClient> {
        let config = guard(|| ClientConfig::from_file(&path))?;
        build(config, user_agent_suffix)
    }

    /// Merchant id, base URL, mode and User-Agent (no secret).
    #[napi]
    pub fn info(&self) -> JsClientInfo {
        JsClientInfo {
            mchid: self.client.mchid().to_owned(),
            base_url: self.base_url.clone(),
            mode: self.mode.to_owned(),
            user_agent: self.client.user_agent().to_owned(),
        }
    }

    /// Runs an operation of the core's JSON surface (`change_gold_plan_status`, `request`, …)
    /// with its arguments as JSON text.
    #[napi(js_name = "callJson")]
    pub fn call_json<'env>(
        &self,
        env: &'env Env,
        operation: String,
        arguments: String,
    ) -> napi::Result<PromiseRaw<'env, JsJsonReply>> {
        let client = self.client.clone();
        spawn_owned(env, async move {
            let op = self::operation(&operation)?;
            let reply = guard_async(client.call_json(op, arguments.as_bytes())).await?;
            let json = String::from_utf8(reply.json)
                .map_err(|_| invalid_input("the core returned a result that is not UTF-8"))?;
            Ok(JsJsonReply {
                json,
                request_id: reply.request_id,
            })
        })
    }

    /// Verifies and decrypts a callback from its raw header pairs and body bytes.
    #[napi(js_name = "parseNotification")]
    pub fn parse_notification<'env>(
        &self,
        env: &'env Env,
        names: Vec<String>,
        values: Vec<String>,
        body: Buffer,
    ) -> napi::Result<PromiseRaw<'env, JsNotification>> {
        // Copied here: the Buffer belongs to the JS heap, which a worker may free meanwhile.
        let body = body.to_vec();
        let client = self.client.clone();
        spawn_owned(env, async move {
            let pairs = header_pairs(names, values)?;
            let parsed = guard_async(client.parse_notification(pairs, &body, None)).await?;
            Ok(JsNotification::from(parsed))
        })
    }

    /// Encrypts a sensitive field for WeChat Pay (downloads certificates when needed).
    #[napi(js_name = "encryptSensitive")]
    pub fn encrypt_sensitive<'env>(
        &self,
        env: &'env Env,
        plaintext: String,
    ) -> napi::Result<PromiseRaw<'env, JsSensitiveCiphertext>> {
        let plaintext = Zeroizing::new(plaintext);
        let client = self.client.clone();
        spawn_owned(env, async move {
            let c = guard_async(client.encrypt_sensitive(&plaintext)).await?;
            Ok(JsSensitiveCiphertext {
                ciphertext: c.ciphertext,
                wechatpay_serial: c.wechatpay_serial,
            })
        })
    }

    /// Decrypts a sensitive field of a response with the merchant private key (on a runtime
    /// thread: RSA decryption takes milliseconds).
    #[napi(js_name = "decryptSensitive")]
    pub fn decrypt_sensitive<'env>(
        &self,
        env: &'env Env,
        ciphertext: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let client = self.client.clone();
        spawn_owned(env, async move {
            let plain = guard_async(async { client.decrypt_sensitive(&ciphertext) }).await?;
            Ok(plain.to_string())
        })
    }

    /// Downloads, verifies and trusts the platform certificates now, and resolves to those
    /// trusted afterwards (the shape of `platformCertificates`, as every binding returns them).
    #[napi(js_name = "refreshCertificates")]
    pub fn refresh_certificates<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Vec<JsCertificate>>> {
        let client = self.client.clone();
        spawn_owned(env, async move {
            guard_async(client.refresh_certificates()).await?;
            Ok(certificate_list(&client.platform_certificates()))
        })
    }

    /// The platform certificates currently trusted (no network).
    #[napi(js_name = "platformCertificates")]
    pub fn platform_certificates(&self) -> Vec<JsCertificate> {
        certificate_list(&self.client.platform_certificates())
    }

    /// How many certificate downloads this client made.
    #[napi(js_name = "certificateDownloads")]
    pub fn certificate_downloads<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, u32>> {
        let client = self.client.clone();
        spawn_owned(env, async move {
            let n = client.certificate_downloads().await;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    /// Checks the configuration against the gateway; the core's `ProbeReport` as JSON text,
    /// with its verdict as `ok`.
    #[napi]
    pub fn probe<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, String>> {
        let client = self.client.clone();
        spawn_owned(env, async move {
            let report = guard_async(async { Ok(client.probe().await) }).await?;
            let mut value = serde_json::to_value(&report)
                .map_err(|e| invalid_input(format!("cannot encode the probe report: {e}")))?;
            // The core's verdict (`ProbeReport::is_ok`) travels with the checks.
            if let Some(map) = value.as_object_mut() {
                map.insert("ok".to_owned(), report.is_ok().into());
            }
            Ok(value.to_string())
        })
    }
}
