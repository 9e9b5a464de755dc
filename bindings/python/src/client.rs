//! `Client` (blocking, GIL released during every call) and `AsyncClient` (asyncio), both over
//! one core [`goldplan::Client`] and the extension's fork-aware runtime.

use std::path::PathBuf;

use goldplan::client::{JsonReply, Operation, ProbeReport};
use goldplan::config::{ClientConfig, KeyMode};
use goldplan::{Reply, RequestOptions, Response};
use goldplan_host::ForkSafeClient;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::certificates::{PyPlatformCertificate, certificate_list};
use crate::convert::{body_arg, bytes_arg, headers_arg, pem_or_path};
use crate::error::{ToPy, guard, pyclass_to_py, to_pyerr};
use crate::json::json_to_py;
use crate::notification::PyNotification;
use crate::runtime;

/// What `Client` and `AsyncClient` share.
pub(crate) struct Shared {
    client: ForkSafeClient,
    mode: KeyMode,
    base_url: String,
}

impl Shared {
    pub(crate) fn new(py: Python<'_>, mut config: ClientConfig) -> PyResult<Shared> {
        let python = Python::version_str();
        let python = python.split_whitespace().next().unwrap_or("unknown");
        config.user_agent_suffix = Some(format!(
            "goldplan-python/{} CPython/{python}",
            goldplan::client::VERSION
        ));
        goldplan_host::register_certificate_stores();
        let client = guard(py, || config.build())?;
        Ok(Shared {
            client: ForkSafeClient::new(client),
            mode: config.mode(),
            base_url: config
                .base_url
                .clone()
                .unwrap_or_else(|| goldplan::client::DEFAULT_BASE_URL.to_owned()),
        })
    }

    /// The core client for this process (a child after `fork()` gets one with new
    /// connections).
    fn client(&self, py: Python<'_>) -> PyResult<goldplan::Client> {
        guard(py, || self.client.get())
    }

    fn repr(&self, py: Python<'_>, class: &str) -> String {
        let mchid = self
            .client(py)
            .map(|c| c.mchid().to_owned())
            .unwrap_or_default();
        format!(
            "{class}(mchid={mchid:?}, base_url={:?}, mode={:?})",
            self.base_url,
            self.mode.as_str()
        )
    }
}

/// The core client of a `Client` or `AsyncClient` (for `goldplan.bulk`).
pub(crate) fn core_client(obj: &Bound<'_, PyAny>) -> PyResult<goldplan::Client> {
    let py = obj.py();
    if let Ok(c) = obj.cast::<PyClient>() {
        return c.get().shared.client(py);
    }
    if let Ok(c) = obj.cast::<PyAsyncClient>() {
        return c.get().shared.client(py);
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "client must be a goldplan.Client or goldplan.AsyncClient",
    ))
}

/// Builds the core configuration from the constructor's keyword arguments.
#[allow(clippy::too_many_arguments)]
fn config_from_kwargs(
    mchid: String,
    serial_no: String,
    private_key: &Bound<'_, PyAny>,
    apiv3_key: Option<&Bound<'_, PyAny>>,
    public_key_id: Option<String>,
    public_key: Option<&Bound<'_, PyAny>>,
    mode: Option<&str>,
    merchant_certificate: Option<&Bound<'_, PyAny>>,
    base_url: Option<String>,
    timeout: Option<f64>,
    connect_timeout: Option<f64>,
    proxy: Option<String>,
    max_attempts: Option<u32>,
    max_skew_secs: Option<i64>,
    max_response_body: Option<usize>,
    certificate_store: Option<String>,
    rate_limit: Option<crate::convert::JsonArg>,
) -> PyResult<ClientConfig> {
    let py = private_key.py();
    let mut config = ClientConfig {
        mchid: Some(mchid),
        serial_no: Some(serial_no),
        private_key: Some(pem_or_path(private_key, "private_key")?),
        public_key_id,
        base_url,
        timeout,
        connect_timeout,
        proxy,
        max_attempts,
        max_skew_secs,
        max_response_body,
        certificate_store,
        ..ClientConfig::default()
    };
    if let Some(rate_limit) = rate_limit {
        config.rate_limit = Some(guard(py, || {
            serde_json::from_value(rate_limit.0).map_err(|e| {
                goldplan::Error::Configuration(format!(
                    "rate_limit must be {{\"per_second\": …, \"burst\"?: …, \"store\"?: …}}: {}",
                    goldplan::redact::redact_quoted(&e.to_string())
                ))
            })
        })?);
    }
    if let Some(key) = apiv3_key {
        let bytes = Zeroizing::new(bytes_arg(key, "apiv3_key")?);
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            crate::error::to_pyerr(
                py,
                &goldplan::Error::Configuration("the APIv3 key must be ASCII text".into()),
            )
        })?;
        config.apiv3_key = Some(Zeroizing::new(text));
    }
    if let Some(pk) = public_key {
        config.public_key = Some(pem_or_path(pk, "public_key")?);
    }
    if let Some(cert) = merchant_certificate {
        config.merchant_certificate = Some(pem_or_path(cert, "merchant_certificate")?);
    }
    if let Some(mode) = mode {
        config.mode = Some(guard(py, || mode.parse::<KeyMode>())?);
    }
    Ok(config)
}

fn config_from_file(py: Python<'_>, path: PathBuf) -> PyResult<ClientConfig> {
    guard(py, || ClientConfig::from_file(&path))
}

/// A verified 2xx response of [`Client.request`].
#[pyclass(module = "goldplan._goldplan", name = "Response", frozen)]
pub(crate) struct PyResponse {
    inner: Response,
}

#[pymethods]
impl PyResponse {
    /// HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }
    /// Response headers as `(name, value)` pairs.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.inner.headers.clone()
    }
    /// The raw body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.body)
    }
    /// The body as text.
    #[getter]
    fn text(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || self.inner.text().map(str::to_owned))
    }
    /// `Request-ID`.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    /// The serial or key id whose signature was verified.
    #[getter]
    fn serial(&self) -> &str {
        &self.inner.serial
    }
    /// First value of a header, case-insensitively.
    fn header(&self, name: &str) -> Option<&str> {
        self.inner.header(name)
    }
    /// The body parsed as JSON (`None` for an empty body).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.body.is_empty() {
            return Ok(py.None().into_bound(py));
        }
        let value: serde_json::Value = guard(py, || self.inner.json())?;
        json_to_py(py, &value)
    }
    fn __repr__(&self) -> String {
        format!(
            "Response(status={}, request_id={:?}, body_len={})",
            self.inner.status,
            self.inner.request_id,
            self.inner.body.len()
        )
    }
}

/// The result of a typed call: `data` (the decoded JSON body, `None` for 204) and
/// `request_id`.
#[pyclass(module = "goldplan._goldplan", name = "Reply", frozen, get_all)]
pub(crate) struct PyReply {
    data: Py<PyAny>,
    request_id: Option<String>,
}

#[pymethods]
impl PyReply {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Reply(data={}, request_id={:?})",
            self.data.bind(py).repr()?,
            self.request_id
        ))
    }
}

impl<T: Serialize> ToPy for Reply<T> {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = serde_json::to_value(&self.data).map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!("cannot convert the reply: {e}"))
        })?;
        let reply = PyReply {
            data: json_to_py(py, &value)?.unbind(),
            request_id: self.request_id,
        };
        Ok(Py::new(py, reply)?.into_any())
    }
}

impl ToPy for Response {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, PyResponse { inner: self })?.into_any())
    }
}

impl ToPy for goldplan::notification::Notification {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, PyNotification::from(self))?.into_any())
    }
}

pyclass_to_py!(PyResponse);

/// The JSON text of an operation's arguments.
fn json_args(py: Python<'_>, args: &serde_json::Value) -> PyResult<Vec<u8>> {
    guard(py, || {
        serde_json::to_vec(args)
            .map_err(|e| goldplan::Error::InvalidInput(format!("cannot encode the arguments: {e}")))
    })
}

impl ToPy for JsonReply {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value: serde_json::Value = serde_json::from_slice(&self.json).map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!("cannot convert the reply: {e}"))
        })?;
        let reply = PyReply {
            data: json_to_py(py, &value)?.unbind(),
            request_id: self.request_id,
        };
        Ok(Py::new(py, reply)?.into_any())
    }
}

/// The core's probe report (with its `ok` verdict) as a `dict`.
fn probe_report(py: Python<'_>, report: &ProbeReport) -> PyResult<Py<PyAny>> {
    let value = serde_json::to_value(report).map_err(|e| {
        pyo3::exceptions::PyValueError::new_err(format!("cannot convert the probe report: {e}"))
    })?;
    Ok(json_to_py(py, &value)?.unbind())
}

/// Runs a core future for the blocking client.
fn run_blocking<F, T>(py: Python<'_>, fut: F) -> PyResult<Py<PyAny>>
where
    F: std::future::Future<Output = goldplan::Result<T>> + Send + 'static,
    T: ToPy + Send + 'static,
{
    runtime::block_on(py, fut)
}

/// Starts a core future for the asyncio client.
fn run_async<F, T>(py: Python<'_>, fut: F) -> PyResult<Py<PyAny>>
where
    F: std::future::Future<Output = goldplan::Result<T>> + Send + 'static,
    T: ToPy + Send + 'static,
{
    runtime::future_into_py(py, fut).map(Bound::unbind)
}

/// [`run_blocking`] with the caller's conversion of the outcome.
fn run_blocking_with<F, T, C>(py: Python<'_>, fut: F, convert: C) -> PyResult<Py<PyAny>>
where
    F: std::future::Future<Output = goldplan::Result<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, goldplan::Result<T>) -> PyResult<Py<PyAny>> + Send + 'static,
{
    runtime::block_on_with(py, fut, convert)
}

/// [`run_async`] with the caller's conversion of the outcome (on the event loop's thread).
fn run_async_with<F, T, C>(py: Python<'_>, fut: F, convert: C) -> PyResult<Py<PyAny>>
where
    F: std::future::Future<Output = goldplan::Result<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, goldplan::Result<T>) -> PyResult<Py<PyAny>> + Send + 'static,
{
    runtime::future_into_py_with(py, fut, convert).map(Bound::unbind)
}

/// The methods of both clients; `$run` decides whether a call blocks (GIL released) or
/// returns an asyncio awaitable.
macro_rules! client_class {
    ($ty:ident, $name:literal, $run:ident, $run_with:ident) => {
        #[doc = concat!("The WeChat Pay APIv3 client (`", $name, "`).")]
        #[pyclass(module = "goldplan._goldplan", name = $name, frozen)]
        pub(crate) struct $ty {
            shared: Shared,
        }

        impl $ty {
            // Used by `goldplan.testing` (the `testing` feature) to hand out clients.
            #[cfg_attr(not(feature = "testing"), allow(dead_code))]
            pub(crate) fn from_shared(shared: Shared) -> $ty {
                $ty { shared }
            }

            /// Runs an operation of the core's JSON surface; the result becomes a `Reply`.
            fn call(
                &self,
                py: Python<'_>,
                operation: Operation,
                args: &serde_json::Value,
            ) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                let args = json_args(py, args)?;
                $run(py, async move { client.call_json(operation, &args).await })
            }
        }

        #[pymethods]
        impl $ty {
            #[new]
            #[pyo3(signature = (*, mchid, serial_no, private_key, apiv3_key=None, public_key_id=None, public_key=None, mode=None, merchant_certificate=None, base_url=None, timeout=None, connect_timeout=None, proxy=None, max_attempts=None, max_skew_secs=None, max_response_body=None, certificate_store=None, rate_limit=None))]
            #[allow(clippy::too_many_arguments)]
            fn new(
                py: Python<'_>,
                mchid: String,
                serial_no: String,
                private_key: &Bound<'_, PyAny>,
                apiv3_key: Option<&Bound<'_, PyAny>>,
                public_key_id: Option<String>,
                public_key: Option<&Bound<'_, PyAny>>,
                mode: Option<&str>,
                merchant_certificate: Option<&Bound<'_, PyAny>>,
                base_url: Option<String>,
                timeout: Option<f64>,
                connect_timeout: Option<f64>,
                proxy: Option<String>,
                max_attempts: Option<u32>,
                max_skew_secs: Option<i64>,
                max_response_body: Option<usize>,
                certificate_store: Option<String>,
                rate_limit: Option<crate::convert::JsonArg>,
            ) -> PyResult<$ty> {
                let config = config_from_kwargs(
                    mchid,
                    serial_no,
                    private_key,
                    apiv3_key,
                    public_key_id,
                    public_key,
                    mode,
                    merchant_certificate,
                    base_url,
                    timeout,
                    connect_timeout,
                    proxy,
                    max_attempts,
                    max_skew_secs,
                    max_response_body,
                    certificate_store,
                    rate_limit,
                )?;
                Ok($ty {
                    shared: Shared::new(py, config)?,
                })
            }

            /// A client configured by a JSON file (a sandbox's `sandbox.json` works).
            #[classmethod]
            fn from_file(
                _cls: &Bound<'_, PyType>,
                py: Python<'_>,
                path: PathBuf,
            ) -> PyResult<$ty> {
                let config = config_from_file(py, path)?;
                Ok($ty {
                    shared: Shared::new(py, config)?,
                })
            }

            /// Caller merchant id.
            #[getter]
            fn mchid(&self, py: Python<'_>) -> PyResult<String> {
                Ok(self.shared.client(py)?.mchid().to_owned())
            }

            /// The gateway.
            #[getter]
            fn base_url(&self) -> &str {
                &self.shared.base_url
            }

            /// `certificate`, `combined` or `public_key`.
            #[getter]
            fn mode(&self) -> &'static str {
                self.shared.mode.as_str()
            }

            /// The User-Agent sent with every request.
            #[getter]
            fn user_agent(&self, py: Python<'_>) -> PyResult<String> {
                Ok(self.shared.client(py)?.user_agent().to_owned())
            }

            /// The platform certificates currently trusted (empty in public-key mode).
            fn platform_certificates(
                &self,
                py: Python<'_>,
            ) -> PyResult<Vec<PyPlatformCertificate>> {
                Ok(certificate_list(
                    &self.shared.client(py)?.platform_certificates(),
                ))
            }

            /// Decrypts a sensitive field of a response with the merchant private key.
            fn decrypt_sensitive(&self, py: Python<'_>, ciphertext: &str) -> PyResult<String> {
                let client = self.shared.client(py)?;
                guard(py, || client.decrypt_sensitive(ciphertext)).map(|s| s.to_string())
            }

            /// Sends a signed request to any APIv3 endpoint; returns the verified response.
            #[pyo3(signature = (method, path, body=None, *, idempotent=None, wechatpay_serial=None))]
            fn request(
                &self,
                py: Python<'_>,
                method: String,
                path: String,
                body: Option<&Bound<'_, PyAny>>,
                idempotent: Option<bool>,
                wechatpay_serial: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                let body = body.map(|b| body_arg(py, b)).transpose()?;
                let options = RequestOptions {
                    idempotent,
                    wechatpay_serial,
                };
                $run(py, async move {
                    client
                        .request_with(&method, &path, body.as_deref(), &options)
                        .await
                })
            }

            // The typed calls, one per remote operation of the registry. The lines between the
            // markers are generated by `cargo run -p goldplan-codegen` from the operation
            // registry (crates/goldplan-codegen/src/python.rs): do not edit them by hand.
            // goldplan-codegen:begin operations
            /// 点金计划管理: opens or closes Gold Plan for a special merchant (without a scene, JSAPI
            /// only).
            ///
            /// Args:
            ///     sub_mchid: Special merchant id.
            ///     operation_type: OPEN or CLOSE.
            ///     operation_pay_scene: The payment scenes it applies to (WeChat Pay's default:
            ///         JSAPI). Absent is left out of the body, never sent as `null`.
            #[pyo3(signature = (sub_mchid, operation_type, operation_pay_scene=None))]
            fn change_gold_plan_status(
                &self,
                py: Python<'_>,
                sub_mchid: String,
                operation_type: String,
                operation_pay_scene: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sub_mchid": sub_mchid,
                    "operation_type": operation_type,
                    "operation_pay_scene": operation_pay_scene,
                });
                self.call(py, Operation::ChangeGoldPlanStatus, &args)
            }

            /// 商家小票管理: turns the merchant receipt on or off for a special merchant.
            ///
            /// Args:
            ///     sub_mchid: Special merchant id.
            ///     operation_type: OPEN enables the merchant receipt, CLOSE disables it.
            #[pyo3(signature = (sub_mchid, operation_type))]
            fn change_custom_page_status(
                &self,
                py: Python<'_>,
                sub_mchid: String,
                operation_type: String,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sub_mchid": sub_mchid,
                    "operation_type": operation_type,
                });
                self.call(py, Operation::ChangeCustomPageStatus, &args)
            }

            /// 同业过滤标签管理: replaces the industry filter (1 to 3 tags).
            ///
            /// Args:
            ///     sub_mchid: Special merchant id.
            ///     advertising_industry_filters: 1 to 3 industry tags.
            #[pyo3(signature = (sub_mchid, advertising_industry_filters))]
            fn set_advertising_industry_filter(
                &self,
                py: Python<'_>,
                sub_mchid: String,
                advertising_industry_filters: Vec<String>,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sub_mchid": sub_mchid,
                    "advertising_industry_filters": advertising_industry_filters,
                });
                self.call(py, Operation::SetAdvertisingIndustryFilter, &args)
            }

            /// 开通广告展示: turns ad display on, optionally with up to 3 industry filters.
            ///
            /// Args:
            ///     sub_mchid: Special merchant id.
            ///     advertising_industry_filters: At most 3 industry tags; absent or empty, the key
            ///         is left out of the body.
            #[pyo3(signature = (sub_mchid, advertising_industry_filters=None))]
            fn open_advertising_show(
                &self,
                py: Python<'_>,
                sub_mchid: String,
                advertising_industry_filters: Option<Vec<String>>,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sub_mchid": sub_mchid,
                    "advertising_industry_filters": advertising_industry_filters,
                });
                self.call(py, Operation::OpenAdvertisingShow, &args)
            }

            /// 关闭广告展示: turns ad display off.
            ///
            /// Args:
            ///     sub_mchid: Special merchant id.
            #[pyo3(signature = (sub_mchid))]
            fn close_advertising_show(
                &self,
                py: Python<'_>,
                sub_mchid: String,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sub_mchid": sub_mchid,
                });
                self.call(py, Operation::CloseAdvertisingShow, &args)
            }

            /// JSAPI下单 (partner): creates an order for a special merchant and answers the prepay_id
            /// a pay-sign needs.
            ///
            /// Args:
            ///     sp_appid: An AppID bound to the provider.
            ///     sp_mchid: The provider's merchant id: the client's own `mchid`.
            ///     sub_mchid: The special merchant the order belongs to.
            ///     description: Shown in the payer's bill (at most 127 characters).
            ///     out_trade_no: The merchant order number: 6 to 32 of `0-9 A-Z a-z _ - | *`,
            ///         unique.
            ///     notify_url: Where the payment notification goes: `https://` (or `http://` to a
            ///         loopback host), no query string, at most 255 characters.
            ///     amount: `{total, currency?}`: the amount in fen.
            ///     payer: `{sp_openid}` or `{sub_openid}`: exactly one.
            ///     attach: Merchant data echoed by the query and the notification once paid (at
            ///         most 128).
            ///     detail: `{cost_price?, invoice_id?, goods_detail?}`.
            ///     goods_tag: Coupon or discount tag.
            ///     limit_pay: Funding sources the payer may not use.
            ///     scene_info: `{payer_client_ip, device_id?, store_info?}`.
            ///     settle_info: `{profit_sharing?}`.
            ///     sub_appid: An AppID bound to the special merchant; required with
            ///         `payer.sub_openid`.
            ///     support_fapiao: Whether an e-invoice entry is shown after payment.
            ///     time_expire: The last moment the payer may pay, RFC 3339 (not in the past).
            #[pyo3(signature = (sp_appid, sp_mchid, sub_mchid, description, out_trade_no, notify_url, amount, payer, attach=None, detail=None, goods_tag=None, limit_pay=None, scene_info=None, settle_info=None, sub_appid=None, support_fapiao=None, time_expire=None))]
            #[allow(clippy::too_many_arguments)]
            fn jsapi_prepay(
                &self,
                py: Python<'_>,
                sp_appid: String,
                sp_mchid: String,
                sub_mchid: String,
                description: String,
                out_trade_no: String,
                notify_url: String,
                amount: crate::convert::JsonArg,
                payer: crate::convert::JsonArg,
                attach: Option<String>,
                detail: Option<crate::convert::JsonArg>,
                goods_tag: Option<String>,
                limit_pay: Option<Vec<String>>,
                scene_info: Option<crate::convert::JsonArg>,
                settle_info: Option<crate::convert::JsonArg>,
                sub_appid: Option<String>,
                support_fapiao: Option<bool>,
                time_expire: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sp_appid": sp_appid,
                    "sp_mchid": sp_mchid,
                    "sub_mchid": sub_mchid,
                    "description": description,
                    "out_trade_no": out_trade_no,
                    "notify_url": notify_url,
                    "amount": amount,
                    "payer": payer,
                    "attach": attach,
                    "detail": detail,
                    "goods_tag": goods_tag,
                    "limit_pay": limit_pay,
                    "scene_info": scene_info,
                    "settle_info": settle_info,
                    "sub_appid": sub_appid,
                    "support_fapiao": support_fapiao,
                    "time_expire": time_expire,
                });
                self.call(py, Operation::JsapiPrepay, &args)
            }

            /// 商户订单号查询订单 (partner): the order in any state; 404 ORDER_NOT_EXIST when there is none.
            ///
            /// Args:
            ///     out_trade_no: The merchant order number (sent in the path).
            ///     sp_mchid: The provider's merchant id.
            ///     sub_mchid: The special merchant.
            #[pyo3(signature = (out_trade_no, sp_mchid, sub_mchid))]
            fn query_order_by_out_trade_no(
                &self,
                py: Python<'_>,
                out_trade_no: String,
                sp_mchid: String,
                sub_mchid: String,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "out_trade_no": out_trade_no,
                    "sp_mchid": sp_mchid,
                    "sub_mchid": sub_mchid,
                });
                self.call(py, Operation::QueryOrderByOutTradeNo, &args)
            }

            /// 微信支付订单号查询订单 (partner): a paid order; 404 ORDER_NOT_EXIST otherwise.
            ///
            /// Args:
            ///     transaction_id: The WeChat Pay order number (sent in the path).
            ///     sp_mchid: The provider's merchant id.
            ///     sub_mchid: The special merchant.
            #[pyo3(signature = (transaction_id, sp_mchid, sub_mchid))]
            fn query_order_by_transaction_id(
                &self,
                py: Python<'_>,
                transaction_id: String,
                sp_mchid: String,
                sub_mchid: String,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "transaction_id": transaction_id,
                    "sp_mchid": sp_mchid,
                    "sub_mchid": sub_mchid,
                });
                self.call(py, Operation::QueryOrderByTransactionId, &args)
            }

            /// 关闭订单 (partner): closes an unpaid order (204); a paid order cannot be closed.
            ///
            /// Args:
            ///     out_trade_no: The merchant order number (sent in the path).
            ///     sp_mchid: The provider's merchant id.
            ///     sub_mchid: The special merchant.
            #[pyo3(signature = (out_trade_no, sp_mchid, sub_mchid))]
            fn close_order(
                &self,
                py: Python<'_>,
                out_trade_no: String,
                sp_mchid: String,
                sub_mchid: String,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "out_trade_no": out_trade_no,
                    "sp_mchid": sp_mchid,
                    "sub_mchid": sub_mchid,
                });
                self.call(py, Operation::CloseOrder, &args)
            }

            /// JSAPI调起支付: the six values a page passes to getBrandWCPayRequest, signed with the
            /// merchant key.
            ///
            /// Args:
            ///     app_id: The AppID the payer is in: `sub_appid` when the prepay named
            ///         `sub_openid`, else `sp_appid` (PAYMENTS.md §2.3).
            ///     prepay_id: The prepay's `prepay_id`.
            ///     nonce_str: The nonce to sign with (default: 32 fresh random characters); fixed
            ///         only to reproduce a vector.
            ///     time_stamp: Unix seconds to sign at (default: now); fixed only to reproduce a
            ///         vector.
            #[pyo3(signature = (app_id, prepay_id, nonce_str=None, time_stamp=None))]
            fn request_payment(
                &self,
                py: Python<'_>,
                app_id: String,
                prepay_id: String,
                nonce_str: Option<String>,
                time_stamp: Option<i64>,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "app_id": app_id,
                    "prepay_id": prepay_id,
                    "nonce_str": nonce_str,
                    "time_stamp": time_stamp,
                });
                self.call(py, Operation::RequestPayment, &args)
            }

            /// The transaction_id a receipt's check_code needs, by one order query within a
            /// deadline; null when the order is not paid or unknown.
            ///
            /// Args:
            ///     sub_mch_id: The receipt's `sub_mch_id`.
            ///     out_trade_no: The receipt's `out_trade_no`, decoded.
            ///     timeout_ms: How long the query may take, in milliseconds (default 1000,
            ///         PAYMENTS.md §6.1).
            #[pyo3(signature = (sub_mch_id, out_trade_no, timeout_ms=None))]
            fn resolve_transaction_id(
                &self,
                py: Python<'_>,
                sub_mch_id: String,
                out_trade_no: String,
                timeout_ms: Option<i64>,
            ) -> PyResult<Py<PyAny>> {
                let args = serde_json::json!({
                    "sub_mch_id": sub_mch_id,
                    "out_trade_no": out_trade_no,
                    "timeout_ms": timeout_ms,
                });
                self.call(py, Operation::ResolveTransactionId, &args)
            }
            // goldplan-codegen:end operations

            /// Verifies and decrypts a callback from its raw headers and body;
            /// `replay_guard(notification_id) -> bool` reports ids already processed (`True`
            /// raises `ReplayError`; a guard that raises fails the call with
            /// `InvalidInputError` chained to its exception).
            #[pyo3(signature = (headers, body, *, replay_guard=None))]
            fn parse_notification(
                &self,
                py: Python<'_>,
                headers: &Bound<'_, PyAny>,
                body: &Bound<'_, PyAny>,
                replay_guard: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                let pairs = headers_arg(headers)?;
                let body = bytes_arg(body, "body")?;
                let replay_guard = crate::notification::replay_guard(replay_guard)?;
                // The guard is asked here, with the GIL, not by the core: see `PyReplayGuard`.
                $run_with(
                    py,
                    async move { client.parse_notification(pairs, &body, None).await },
                    move |py, parsed| {
                        let notification = parsed.map_err(|e| to_pyerr(py, &e))?;
                        if let Some(replay_guard) = &replay_guard {
                            replay_guard.check(py, &notification)?;
                        }
                        notification.to_py(py)
                    },
                )
            }

            /// Encrypts a sensitive field; returns `(ciphertext, wechatpay_serial)`.
            fn encrypt_sensitive(&self, py: Python<'_>, plaintext: String) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                let plaintext = Zeroizing::new(plaintext);
                $run(py, async move { client.encrypt_sensitive(&plaintext).await })
            }

            /// Downloads, verifies and trusts the platform certificates now; returns those
            /// trusted afterwards (what `platform_certificates()` returns from then on).
            fn refresh_certificates(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                $run_with(
                    py,
                    async move {
                        client.refresh_certificates().await?;
                        Ok(client.platform_certificates())
                    },
                    |py, trusted| {
                        let trusted = trusted.map_err(|e| to_pyerr(py, &e))?;
                        Ok(certificate_list(&trusted).into_pyobject(py)?.into_any().unbind())
                    },
                )
            }

            /// Sends one signed request to the gateway and reports whether this configuration
            /// works there: the core's probe report as a `dict` (`base_url`, `status`,
            /// `request_id`, `clock_skew_secs`, `checks`) with its verdict as `ok`. A failed
            /// check is data, not an exception.
            fn probe(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                $run_with(
                    py,
                    async move { Ok::<_, goldplan::Error>(client.probe().await) },
                    |py, report| {
                        let report = report.map_err(|e| to_pyerr(py, &e))?;
                        probe_report(py, &report)
                    },
                )
            }

            /// Number of certificate downloads so far.
            fn certificate_downloads(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                $run(py, async move {
                    Ok::<u64, goldplan::Error>(client.certificate_downloads().await)
                })
            }

            /// Uploads an image (JPG, PNG or BMP, at most 2 MiB); returns its `media_id`.
            fn upload_image(
                &self,
                py: Python<'_>,
                filename: String,
                data: &Bound<'_, PyAny>,
            ) -> PyResult<Py<PyAny>> {
                let client = self.shared.client(py)?;
                let data = bytes_arg(data, "data")?;
                $run(py, async move { client.upload_image(&filename, &data).await })
            }

            fn __repr__(&self, py: Python<'_>) -> String {
                self.shared.repr(py, $name)
            }
        }
    };
}

client_class!(PyClient, "Client", run_blocking, run_blocking_with);
client_class!(PyAsyncClient, "AsyncClient", run_async, run_async_with);
