//! `goldplan_client`: the client over the core's JSON surface (`Operation` + `call_json`),
//! configured by the core's `ClientConfig` JSON, fork-safe (`goldplan_host::ForkSafeClient`)
//! and run on the fork-aware runtime of `goldplan_host`. And `goldplan_response`, the JSON
//! result of a call.

use std::ffi::c_void;
use std::future::Future;
use std::os::raw::c_char;
use std::path::Path;

use goldplan::Error;
use goldplan::client::{JsonReply, Operation};
use goldplan::config::ClientConfig;
use goldplan_host::ForkSafeClient;
use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{FfiError, FfiResult, GoldplanStatus, guard, guard_keep};
use crate::memory::{
    Handle, borrow, bytes_arg, out_arg, register, release, str_arg, write_out, write_string,
};
use crate::replay::{GoldplanReplayGuard, GoldplanReplayHook, call_guard};

/// A WeChat Pay APIv3 client for one merchant. Thread-safe: one handle may be used from many
/// threads at once. A process that forks after creating it (PHP-FPM, Apache prefork) can keep
/// using it in the child, which gets new connections on first use.
pub struct GoldplanClient {
    client: ForkSafeClient,
}

impl Handle for GoldplanClient {}

/// The result of a call: a JSON document and the WeChat Pay `Request-ID`, when there was one.
/// Read it with `goldplan_response_json` / `goldplan_response_request_id`; free it with
/// `goldplan_response_free`.
pub struct GoldplanResponse {
    /// The JSON text followed by a NUL.
    json: Vec<u8>,
    /// The Request-ID followed by a NUL.
    request_id: Option<Vec<u8>>,
}

impl Handle for GoldplanResponse {}

impl Drop for GoldplanResponse {
    fn drop(&mut self) {
        // Results may carry decrypted callbacks or sensitive fields.
        self.json.zeroize();
    }
}

fn nul_terminated(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(0);
    bytes
}

/// Hands out a response handle.
///
/// # Safety
/// `out` must come from `out_arg`.
pub(crate) unsafe fn write_response(
    out: *mut *mut GoldplanResponse,
    json: Vec<u8>,
    request_id: Option<String>,
) -> FfiResult<()> {
    let response = GoldplanResponse {
        json: nul_terminated(json),
        request_id: request_id.map(|id| nul_terminated(id.into_bytes())),
    };
    let handle = register(response)?;
    // SAFETY: forwarded contract.
    unsafe { write_out(out, handle) };
    Ok(())
}

/// Hands out a response whose JSON is `value`.
///
/// # Safety
/// `out` must come from `out_arg`.
pub(crate) unsafe fn write_value(
    out: *mut *mut GoldplanResponse,
    value: &Value,
    request_id: Option<String>,
) -> FfiResult<()> {
    let json = serde_json::to_vec(value)
        .map_err(|e| Error::Decode(format!("cannot encode the result: {e}")))?;
    // SAFETY: forwarded contract.
    unsafe { write_response(out, json, request_id) }
}

/// Runs a future of the core on this process's runtime (created on first use, and again in a
/// child after `fork()`), blocking the calling thread.
pub(crate) fn block_on<F: Future>(future: F) -> FfiResult<F::Output> {
    let handle = goldplan_host::runtime()
        .map_err(|e| Error::Internal(format!("cannot start the tokio runtime: {e}")))?;
    Ok(handle.block_on(future))
}

fn new_client(mut config: ClientConfig) -> FfiResult<GoldplanClient> {
    config.user_agent_suffix = Some(format!("goldplan-c/{}", goldplan::client::VERSION));
    // Building the client may start its connection pool on the runtime.
    let handle = goldplan_host::runtime()
        .map_err(|e| Error::Internal(format!("cannot start the tokio runtime: {e}")))?;
    let _entered = handle.enter();
    goldplan_host::register_certificate_stores();
    Ok(GoldplanClient {
        client: ForkSafeClient::new(config.build()?),
    })
}

/// The headers of a callback or response as `(name, value)` pairs, from a JSON object
/// (`{"Wechatpay-Serial": "…", …}`) or a JSON array of pairs (`[["Wechatpay-Serial", "…"], …]`,
/// for repeated names).
pub(crate) fn headers_from_json(text: &[u8]) -> FfiResult<Vec<(String, String)>> {
    // Parsing into a `Value` fails only on syntax, and serde's syntax errors never quote the
    // input (only tokens such as `:`), so unlike a typed parse its message is shown as is.
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| Error::InvalidInput(format!("headers_json is not JSON: {e}")))?;
    let bad = || {
        FfiError::Core(Error::InvalidInput(
            "headers_json must be an object of strings or an array of [name, value] pairs".into(),
        ))
    };
    match value {
        Value::Object(map) => map
            .into_iter()
            .map(|(name, v)| match v {
                Value::String(s) => Ok((name, s)),
                _ => Err(bad()),
            })
            .collect(),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Array(pair) => match <[Value; 2]>::try_from(pair) {
                    Ok([Value::String(n), Value::String(v)]) => Ok((n, v)),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// A notification as JSON, by the core's serialisation: the envelope, the decrypted
/// `plaintext`, and `resource`, the plaintext parsed as JSON (null when it is not JSON).
pub(crate) fn notification_value(n: &goldplan::notification::Notification) -> FfiResult<Value> {
    Ok(serde_json::to_value(n)
        .map_err(|e| Error::Decode(format!("cannot encode the notification: {e}")))?)
}

/// Creates a client from a JSON configuration with the core's field names (`mchid`,
/// `serial_no`, `private_key` (PEM text or a file), `apiv3_key`, `public_key_id`,
/// `public_key`, `mode`, `base_url`, `timeout`, `certificate_store` (`redis://…`: certificate
/// downloads shared by the processes of a fleet, e.g. PHP-FPM workers), …; the older spellings
/// `private_key_pem` / `_path`, `public_key_pem` / `_path`, `timeout_secs` are also accepted; a
/// sandbox's `sandbox.json` works as is). Relative paths are taken from the working directory.
///
/// # Safety
/// `config_json` must point to `config_json_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_new(
    config_json: *const c_char,
    config_json_len: usize,
    out: *mut *mut GoldplanClient,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let text = unsafe { str_arg(config_json, config_json_len, "config_json") }?;
        let text = Zeroizing::new(text.to_owned());
        let client = new_client(ClientConfig::from_json(&text, None)?)?;
        // SAFETY: `out` was checked.
        unsafe { write_out(out, register(client)?) };
        Ok(())
    })
}

/// Creates a client from a JSON configuration file (relative paths in it are taken from the
/// file's folder).
///
/// # Safety
/// `path` must point to `path_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_new_from_file(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut GoldplanClient,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let path = unsafe { str_arg(path, path_len, "path") }?;
        let client = new_client(ClientConfig::from_file(Path::new(path))?)?;
        // SAFETY: `out` was checked.
        unsafe { write_out(out, register(client)?) };
        Ok(())
    })
}

/// Frees a client. NULL is a no-op; a handle already freed (or never issued) is reported
/// (`GOLDPLAN_STATUS_INVALID_HANDLE`) and frees nothing. Calls that other threads are making
/// with the client finish normally (the client is released when the last one returns); any
/// call made with the handle afterwards returns `GOLDPLAN_STATUS_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn goldplan_client_free(client: *mut GoldplanClient) -> GoldplanStatus {
    guard_keep(|| release(client, "client"))
}

/// The core client for this process (a new one in a child after `fork()`). It is shared, so a
/// call keeps using it even if the handle is freed meanwhile.
pub(crate) fn core_client(client: *const GoldplanClient) -> FfiResult<goldplan::Client> {
    Ok(borrow(client, "client")?.client.get()?)
}

/// Runs an operation by its stable name (`change_gold_plan_status`,
/// `change_custom_page_status`, `set_advertising_industry_filter`, `open_advertising_show`,
/// `close_advertising_show`, `upload_image`, `request`, `refresh_certificates`) with its
/// arguments as a JSON object; the result is JSON in `*out`. API errors are
/// `GOLDPLAN_STATUS_API` with `status` and `code` in the last error's report.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_call(
    client: *const GoldplanClient,
    operation: *const c_char,
    operation_len: usize,
    args_json: *const c_char,
    args_json_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let (name, args) = unsafe {
            (
                str_arg(operation, operation_len, "operation")?,
                bytes_arg(args_json.cast::<u8>(), args_json_len, "args_json")?,
            )
        };
        let operation: Operation = name.parse()?;
        let client = core_client(client)?;
        let JsonReply { json, request_id } =
            block_on(async { client.call_json(operation, args).await })??;
        // SAFETY: `out` was checked.
        unsafe { write_response(out, json, request_id) }
    })
}

/// Runs a helper of the operation registry that needs no client (`check_code_input`,
/// `expected_check_code`, `verify_check_code`, `parse_receipt_query`, `canonical_url`,
/// `message_to_sign`, `message_to_verify`, `decrypt_certificates`; `kind: "local"` in
/// `bindings/operations.json`) with its arguments as a JSON object; the result is JSON in
/// `*out`. What every binding's helper functions go through.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_call_local(
    operation: *const c_char,
    operation_len: usize,
    args_json: *const c_char,
    args_json_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let (name, args) = unsafe {
            (
                str_arg(operation, operation_len, "operation")?,
                bytes_arg(args_json.cast::<u8>(), args_json_len, "args_json")?,
            )
        };
        let operation: Operation = name.parse()?;
        let json = goldplan::client::call_local_json(operation, args)?;
        // SAFETY: `out` was checked.
        unsafe { write_response(out, json, None) }
    })
}

/// Sends one signed request to the gateway and reports whether this configuration works there
/// (reachability, signature, clock skew, key mode) as JSON: the core's probe report plus
/// `"ok"`. A failed check is data, not an error: the status is OK unless the call itself could
/// not be made.
///
/// # Safety
/// `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_probe(
    client: *const GoldplanClient,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let client = core_client(client)?;
        let report = block_on(async { client.probe().await })?;
        // The core's report serialises with its `ok`.
        let value = serde_json::to_value(&report)
            .map_err(|e| Error::Decode(format!("cannot encode the probe report: {e}")))?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, report.request_id.clone()) }
    })
}

/// Verifies and decrypts a callback from its raw headers (JSON object or array of pairs, see
/// the header) and its body exactly as received. The result is JSON: `id`, `create_time`,
/// `event_type`, `resource_type`, `summary`, `original_type`, `request_id`, `serial`,
/// `plaintext` (the decrypted resource) and `resource` (it parsed as JSON, or null). No replay
/// check: see `goldplan_client_parse_notification_with_guard`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_parse_notification(
    client: *const GoldplanClient,
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    // SAFETY: forwarded contract; no guard and no hook.
    unsafe {
        goldplan_client_parse_notification_with_guard(
            client,
            headers_json,
            headers_json_len,
            body,
            body_len,
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            out,
        )
    }
}

/// `goldplan_client_parse_notification` with a replay check: an authentic callback whose id
/// `replay_guard` holds (see `goldplan_replay_guard_record_processed`) or `hook` reports as
/// processed fails with `GOLDPLAN_STATUS_REPLAY` (answer WeChat with success: it was handled).
/// Either may be NULL; with both, either one's "processed" is a replay. The id is never
/// recorded here: record it once your handler succeeded.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable;
/// `hook`, when not NULL, must be callable with `hook_context` during this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_parse_notification_with_guard(
    client: *const GoldplanClient,
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    replay_guard: *const GoldplanReplayGuard,
    hook: GoldplanReplayHook,
    hook_context: *mut c_void,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let (headers, body) = unsafe {
            (
                bytes_arg(headers_json.cast::<u8>(), headers_json_len, "headers_json")?,
                bytes_arg(body, body_len, "body")?,
            )
        };
        let headers = headers_from_json(headers)?;
        let client = core_client(client)?;
        let replay = call_guard(replay_guard, hook, hook_context)?;
        let notification = block_on(async {
            client
                .parse_notification(headers.iter().map(|(n, v)| (n, v)), body, replay)
                .await
        })??;
        let value = notification_value(&notification)?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, notification.request_id.clone()) }
    })
}

/// Encrypts a sensitive field for WeChat Pay (RSA-OAEP) with the public key, or the newest
/// platform certificate: `{"ciphertext", "wechatpay_serial"}`. Send the request carrying the
/// ciphertext with `Wechatpay-Serial: <wechatpay_serial>`.
///
/// # Safety
/// `plaintext` must point to `plaintext_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_encrypt_sensitive(
    client: *const GoldplanClient,
    plaintext: *const c_char,
    plaintext_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let plaintext = unsafe { str_arg(plaintext, plaintext_len, "plaintext") }?;
        let client = core_client(client)?;
        let sealed = block_on(async { client.encrypt_sensitive(plaintext).await })??;
        let value = serde_json::to_value(&sealed)
            .map_err(|e| Error::Decode(format!("cannot encode the ciphertext: {e}")))?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, None) }
    })
}

/// Decrypts a sensitive field of a response with the merchant private key; the plaintext is a
/// string freed (and wiped) by `goldplan_string_free`.
///
/// # Safety
/// `ciphertext` must point to `ciphertext_len` readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_client_decrypt_sensitive(
    client: *const GoldplanClient,
    ciphertext: *const c_char,
    ciphertext_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let ciphertext = unsafe { str_arg(ciphertext, ciphertext_len, "ciphertext") }?;
        let client = core_client(client)?;
        let plaintext = client.decrypt_sensitive(ciphertext)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, plaintext.as_bytes()) };
        Ok(())
    })
}

/// The JSON text of a response (NUL-terminated; `*out_len` excludes the NUL). The pointer is
/// borrowed: valid until `goldplan_response_free`.
///
/// # Safety
/// `out` and `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_response_json(
    response: *const GoldplanResponse,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        let response = borrow(response, "response")?;
        // SAFETY: both out-pointers were checked; `json` ends with the NUL pushed at creation.
        unsafe {
            write_out(out, response.json.as_ptr().cast::<c_char>());
            write_out(out_len, response.json.len() - 1);
        }
        Ok(())
    })
}

/// The `Request-ID` of a response, borrowed like `goldplan_response_json`; NULL and 0 when
/// the call had none (a sans-IO helper, a certificate refresh).
///
/// # Safety
/// `out` and `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_response_request_id(
    response: *const GoldplanResponse,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        let response = borrow(response, "response")?;
        let (ptr, len) = match &response.request_id {
            Some(id) => (id.as_ptr().cast::<c_char>(), id.len() - 1),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: both out-pointers were checked.
        unsafe {
            write_out(out, ptr);
            write_out(out_len, len);
        }
        Ok(())
    })
}

/// Frees a response (and wipes its JSON); its borrowed pointers (JSON, Request-ID) are invalid
/// afterwards. NULL is a no-op; a freed handle is reported (`GOLDPLAN_STATUS_INVALID_HANDLE`)
/// and frees nothing.
#[unsafe(no_mangle)]
pub extern "C" fn goldplan_response_free(response: *mut GoldplanResponse) -> GoldplanStatus {
    guard_keep(|| release(response, "response"))
}
