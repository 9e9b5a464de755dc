//! The merchant receipt (商家小票) link: its `check_code` and the parameters WeChat appends
//! to the configured URL.

use goldplan::receipt;
use pyo3::prelude::*;

use crate::error::guard;

/// The exact string whose MD5 is the receipt `check_code`.
#[pyfunction]
pub(crate) fn check_code_input(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
) -> String {
    receipt::check_code_input(configured_link, sub_mch_id, out_trade_no, transaction_id)
}

/// The expected receipt `check_code` (lower-case hex MD5).
#[pyfunction]
pub(crate) fn expected_check_code(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
) -> String {
    receipt::expected_check_code(configured_link, sub_mch_id, out_trade_no, transaction_id)
}

/// Whether `check_code` is the one WeChat computed (constant time, case-insensitive). Pass the
/// values exactly as they appear in the received URL. The registry's name (`verify_check_code`)
/// in every language; the package keeps `verify_receipt_check_code` as a deprecated alias.
#[pyfunction]
pub(crate) fn verify_check_code(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
    check_code: &str,
) -> bool {
    receipt::verify_check_code(
        configured_link,
        sub_mch_id,
        out_trade_no,
        transaction_id,
        check_code,
    )
}

/// One query parameter as received (`raw`) and percent-decoded (`decoded`).
#[pyclass(module = "goldplan._goldplan", name = "QueryValue", frozen, get_all)]
#[derive(Clone)]
pub(crate) struct PyQueryValue {
    raw: String,
    decoded: String,
}

impl From<&receipt::QueryValue> for PyQueryValue {
    fn from(v: &receipt::QueryValue) -> PyQueryValue {
        PyQueryValue {
            raw: v.raw.clone(),
            decoded: v.decoded.clone(),
        }
    }
}

#[pymethods]
impl PyQueryValue {
    fn __repr__(&self) -> String {
        format!("QueryValue(raw={:?}, decoded={:?})", self.raw, self.decoded)
    }
}

/// The three parameters WeChat appends to the receipt link.
#[pyclass(module = "goldplan._goldplan", name = "ReceiptParams", frozen)]
pub(crate) struct PyReceiptParams {
    inner: receipt::ReceiptParams,
}

#[pymethods]
impl PyReceiptParams {
    #[getter]
    fn sub_mch_id(&self) -> PyQueryValue {
        PyQueryValue::from(&self.inner.sub_mch_id)
    }
    #[getter]
    fn out_trade_no(&self) -> PyQueryValue {
        PyQueryValue::from(&self.inner.out_trade_no)
    }
    #[getter]
    fn check_code(&self) -> PyQueryValue {
        PyQueryValue::from(&self.inner.check_code)
    }
    /// Checks the received `check_code` against the order's `transaction_id`.
    fn verify(&self, configured_link: &str, transaction_id: &str) -> bool {
        self.inner.verify(configured_link, transaction_id)
    }
    fn __repr__(&self) -> String {
        format!(
            "ReceiptParams(sub_mch_id={:?}, out_trade_no={:?})",
            self.inner.sub_mch_id.raw, self.inner.out_trade_no.raw
        )
    }
}

/// Parses a received receipt URL (or its query string).
#[pyfunction]
pub(crate) fn parse_receipt_query(py: Python<'_>, url: &str) -> PyResult<PyReceiptParams> {
    guard(py, || receipt::parse_receipt_query(url)).map(|inner| PyReceiptParams { inner })
}

/// The names of the tester's rules, in the order a report lists them (`goldplan.receipt.RULES`).
#[pyfunction]
pub(crate) fn receipt_rules() -> Vec<&'static str> {
    goldplan_receipt::Rule::ALL
        .iter()
        .map(|r| r.name())
        .collect()
}

/// Tests the receipt page at `url` in a headless Chromium inside the Gold Plan page stand-in
/// (`goldplan-receipt`); `options` and the report are JSON text (`goldplan.receipt.test`).
#[pyfunction]
pub(crate) fn receipt_test(py: Python<'_>, url: String, options: String) -> PyResult<String> {
    let options: goldplan_receipt::TestOptions = serde_json::from_str(&options).map_err(|e| {
        crate::error::to_pyerr(
            py,
            // serde quotes the value it rejects; only where it is goes into the message.
            &goldplan::Error::InvalidInput(format!(
                "receipt test options: not the expected JSON (line {}, column {})",
                e.line(),
                e.column()
            )),
        )
    })?;
    let report = crate::runtime::block_on_plain(py, async move {
        goldplan_receipt::test_receipt(&url, &options).await
    })?;
    let report = report.map_err(|e| crate::error::to_pyerr(py, &goldplan::Error::from(e)))?;
    serde_json::to_string(&report)
        .map_err(|e| crate::error::to_pyerr(py, &goldplan::Error::Internal(e.to_string())))
}
