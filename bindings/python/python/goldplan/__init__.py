"""goldplan: WeChat Pay APIv3 and the Gold Plan (点金计划) service-provider API for Python.

The protocol (signing, verification, certificate rotation, callback decryption, retries) is
the audited Rust core of the goldplan project; this package exposes it:

* :class:`Client` -- blocking; releases the GIL during every call (threads, Django, Flask,
  Celery);
* :class:`AsyncClient` -- the same calls as asyncio awaitables (FastAPI, aiohttp);
* sans-IO helpers for users who keep their own HTTP stack (:class:`Signer`,
  :class:`Verifier`, :class:`NotificationParser`, :func:`decrypt_certificates`, ...);
* :mod:`goldplan.errors` -- the exception classes;
* :mod:`goldplan.bulk` -- Gold Plan rolled out to many special merchants as one resumable job;
* :mod:`goldplan.testing` -- an in-process WeChat Pay sandbox for your own tests.
"""

from __future__ import annotations

import warnings

from goldplan import bulk, errors, receipt
from goldplan._goldplan import (
    MAX_INDUSTRY_FILTERS,
    MAX_SENSITIVE_PLAINTEXT_LEN,
    Acknowledgement,
    AsyncClient,
    Authorization,
    Client,
    DownloadedCertificates,
    EncryptionKey,
    Notification,
    NotificationParser,
    PlatformCertificate,
    PrivateKey,
    QueryValue,
    ReceiptParams,
    Reply,
    Response,
    SignedRequest,
    Signer,
    Verified,
    Verifier,
    __version__,
    acknowledgement,
    aead_decrypt,
    aead_encrypt,
    canonical_url,
    check_code_input,
    decrypt_certificates,
    decrypt_sensitive,
    expected_check_code,
    generate_nonce,
    message_to_sign,
    message_to_verify,
    parse_receipt_query,
    verify_check_code,
)
from goldplan.errors import (
    ApiError,
    CertificateError,
    ConfigurationError,
    DecryptionError,
    GoldPlanError,
    InvalidInputError,
    SignatureError,
    TransportError,
)
from goldplan.gold_plan import IndustryType, OperationPayScene, OperationType


def verify_receipt_check_code(
    configured_link: str, sub_mch_id: str, out_trade_no: str, transaction_id: str, check_code: str
) -> bool:
    """Deprecated alias of :func:`verify_check_code`, the name the operation registry gives
    this helper in every language; same arguments, same answer."""
    warnings.warn(
        "goldplan.verify_receipt_check_code is deprecated; use goldplan.verify_check_code",
        DeprecationWarning,
        stacklevel=2,
    )
    return verify_check_code(
        configured_link, sub_mch_id, out_trade_no, transaction_id, check_code
    )

__all__ = [
    "bulk",
    "receipt",
    "__version__",
    "errors",
    "Client",
    "AsyncClient",
    "Response",
    "Reply",
    "OperationType",
    "OperationPayScene",
    "IndustryType",
    "MAX_INDUSTRY_FILTERS",
    "MAX_SENSITIVE_PLAINTEXT_LEN",
    "PrivateKey",
    "Signer",
    "SignedRequest",
    "Authorization",
    "message_to_sign",
    "message_to_verify",
    "canonical_url",
    "generate_nonce",
    "Verifier",
    "Verified",
    "PlatformCertificate",
    "DownloadedCertificates",
    "decrypt_certificates",
    "aead_decrypt",
    "aead_encrypt",
    "EncryptionKey",
    "decrypt_sensitive",
    "NotificationParser",
    "Notification",
    "Acknowledgement",
    "acknowledgement",
    "check_code_input",
    "expected_check_code",
    "verify_check_code",
    "verify_receipt_check_code",
    "parse_receipt_query",
    "ReceiptParams",
    "QueryValue",
    "GoldPlanError",
    "ConfigurationError",
    "InvalidInputError",
    "SignatureError",
    "CertificateError",
    "DecryptionError",
    "ApiError",
    "TransportError",
]
