//! WeChat Pay platform certificates: the `PlatformCertificate` class and the sans-IO
//! decryption and verification of a `GET /v3/certificates` download (spec §3.3).

use std::sync::Arc;

use goldplan::certificates;
use goldplan::verify::{self, WechatpayHeaders};
use goldplan::x509::{self, Certificate, CertificateSet};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{bytes_arg, bytes_out, headers_arg, pem_text};
use crate::error::{guard, pyclass_to_py};
use crate::keys::{certificate_set, public_key_verifier};
use crate::verification::policy;

/// A WeChat Pay platform certificate.
#[pyclass(module = "goldplan._goldplan", name = "PlatformCertificate", frozen)]
pub(crate) struct PyPlatformCertificate {
    pub(crate) inner: Arc<Certificate>,
}

#[pymethods]
impl PyPlatformCertificate {
    /// Parses one PEM certificate (text or path).
    #[staticmethod]
    fn from_pem(pem: &Bound<'_, PyAny>) -> PyResult<PyPlatformCertificate> {
        let text = pem_text(pem, "certificate")?;
        guard(pem.py(), || Certificate::from_pem(&text))
            .map(|c| PyPlatformCertificate { inner: Arc::new(c) })
    }
    /// Serial as upper-case hex of its bytes (as sent in `Wechatpay-Serial`).
    #[getter]
    fn serial_no(&self) -> &str {
        self.inner.serial_hex()
    }
    /// NotBefore, Unix seconds.
    #[getter]
    fn not_before(&self) -> i64 {
        self.inner.not_before()
    }
    /// NotAfter, Unix seconds.
    #[getter]
    fn not_after(&self) -> i64 {
        self.inner.not_after()
    }
    /// The certificate as PEM.
    #[getter]
    fn pem(&self) -> &str {
        self.inner.pem()
    }
    /// SubjectPublicKeyInfo DER of its key.
    #[getter]
    fn public_key_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes_out(py, self.inner.public_key_der())
    }
    /// Whether `now` lies in the validity window (± `tolerance` seconds).
    #[pyo3(signature = (now, tolerance=x509::VALIDITY_TOLERANCE_SECS))]
    fn is_valid_at(&self, now: i64, tolerance: i64) -> bool {
        self.inner.is_valid_at(now, tolerance)
    }
    fn __repr__(&self) -> String {
        format!(
            "PlatformCertificate(serial_no={:?}, not_before={}, not_after={})",
            self.inner.serial_hex(),
            self.inner.not_before(),
            self.inner.not_after()
        )
    }
}

/// The certificates of a core set as Python objects (sharing the parsed certificates).
pub(crate) fn certificate_list(set: &CertificateSet) -> Vec<PyPlatformCertificate> {
    set.iter()
        .map(|c| PyPlatformCertificate { inner: c.clone() })
        .collect()
}

/// The outcome of [`decrypt_certificates`].
#[pyclass(module = "goldplan._goldplan", name = "DownloadedCertificates", frozen)]
pub(crate) struct PyDownloadedCertificates {
    set: CertificateSet,
    dropped: Vec<(String, String)>,
}

#[pymethods]
impl PyDownloadedCertificates {
    /// Certificates that decrypted, matched their listing and are valid now.
    #[getter]
    fn certificates(&self) -> Vec<PyPlatformCertificate> {
        certificate_list(&self.set)
    }
    /// `(serial_no, reason)` of the entries that were listed but not kept.
    #[getter]
    fn dropped(&self) -> Vec<(String, String)> {
        self.dropped.clone()
    }
    /// The certificate to encrypt with and to advertise (spec §3.4).
    #[getter]
    fn newest(&self) -> Option<PyPlatformCertificate> {
        self.set
            .newest()
            .map(|c| PyPlatformCertificate { inner: c.clone() })
    }
    fn __repr__(&self) -> String {
        let serials: Vec<&str> = self.set.iter().map(|c| c.serial_hex()).collect();
        format!(
            "DownloadedCertificates(certificates={serials:?}, dropped={})",
            self.dropped.len()
        )
    }
}

/// Decrypts, matches and verifies a `GET /v3/certificates` response (spec §3.3): the
/// signature is checked against `trusted` plus the downloaded certificates (or the public key
/// when given).
#[pyfunction]
#[pyo3(signature = (headers, body, apiv3_key, *, trusted=Vec::new(), public_key_id=None, public_key=None, now=None, max_skew_secs=verify::DEFAULT_MAX_SKEW_SECS))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn decrypt_certificates(
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    apiv3_key: &Bound<'_, PyAny>,
    trusted: Vec<Bound<'_, PyAny>>,
    public_key_id: Option<&str>,
    public_key: Option<&Bound<'_, PyAny>>,
    now: Option<i64>,
    max_skew_secs: i64,
) -> PyResult<PyDownloadedCertificates> {
    let py = headers.py();
    let pairs = headers_arg(headers)?;
    let body = bytes_arg(body, "body")?;
    let key = crate::keys::apiv3_key(apiv3_key)?;
    let trusted = certificate_set(trusted)?;
    let pk = match (public_key_id, public_key) {
        (Some(id), Some(pem)) => Some(public_key_verifier(id, pem)?),
        (None, None) => None,
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "public_key_id and public_key go together",
            ));
        }
    };
    let policy = policy(py, now, max_skew_secs)?;
    let downloaded = guard(py, || {
        let h = WechatpayHeaders::from_pairs(pairs.iter().map(|(n, v)| (n, v)))?;
        certificates::validate_download(&h, &body, &key, &trusted, pk.as_ref(), &policy)
    })?;
    Ok(PyDownloadedCertificates {
        set: downloaded.certificates,
        dropped: downloaded
            .dropped
            .into_iter()
            .map(|d| (d.serial_no, d.reason))
            .collect(),
    })
}

pyclass_to_py!(PyPlatformCertificate);

impl crate::error::ToPy for Vec<PyPlatformCertificate> {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list = pyo3::types::PyList::empty(py);
        for c in self {
            list.append(Py::new(py, c)?)?;
        }
        Ok(list.into_any().unbind())
    }
}
