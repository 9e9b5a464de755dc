"""The exceptions raised by goldplan, one class per family of the core's error kinds.

Every exception is a :class:`GoldPlanError` and carries:

* ``kind`` -- the core's stable error-kind name (``"signature_invalid"``, ``"api"``, ...);
* ``message`` -- a human-readable explanation (never secrets);
* ``retryable`` -- whether sending the same request again may succeed (decided by the core);
* ``request_id`` -- the WeChat Pay ``Request-ID``, when known;
* ``family`` -- the core's error family (``"signature"``, ``"transport"``, ...): the same
  grouping as the Node error classes, the C status codes and the CLI exit codes.

The table :data:`KIND_TO_CLASS` is the only place where kinds are mapped to classes. The
native module builds every exception through :func:`_from_native`. All classes pickle.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "GoldPlanError",
    "ConfigurationError",
    "InvalidInputError",
    "SignatureError",
    "ClockSkewError",
    "UnknownSerialError",
    "SignatureProbeError",
    "SigningError",
    "EncryptionError",
    "DecryptionError",
    "CertificateError",
    "NoPlatformCertificateError",
    "ReplayError",
    "DecodeError",
    "ApiError",
    "TransportError",
    "TimeoutError",
    "InternalError",
    "SandboxError",
    "KIND_TO_CLASS",
    "FAMILY_TO_CLASS",
]


class GoldPlanError(Exception):
    """Base class of every goldplan error."""

    kind: str = "unknown"
    family: str = "unknown"

    def __init__(
        self,
        message: str = "",
        *,
        kind: Optional[str] = None,
        retryable: bool = False,
        request_id: Optional[str] = None,
        **attributes: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        self.retryable = retryable
        self.request_id = request_id
        for name, value in attributes.items():
            setattr(self, name, value)

    def __reduce__(self) -> Any:
        # Rebuilt from the text given to Exception and the instance dict.
        text = self.args[0] if self.args else ""
        return (_rebuild, (type(self), text, dict(self.__dict__)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, kind={self.kind!r})"


def _rebuild(cls: Type[GoldPlanError], message: str, state: Dict[str, Any]) -> GoldPlanError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigurationError(GoldPlanError):
    """The SDK was configured with something unusable (bad key, wrong APIv3 key, ...)."""

    kind = "configuration"


class InvalidInputError(GoldPlanError, ValueError):
    """A caller-supplied argument is invalid (empty sub_mchid, too many filters, ...)."""

    kind = "invalid_input"


class SignatureError(GoldPlanError):
    """A response or callback is not authentic: missing or malformed headers, clock skew,
    unknown serial, bad signature, probe, unsupported signature type. ``kind`` tells which.
    The business outcome of a call that fails this way is unknown.

    Attributes: ``serial`` (the claimed ``Wechatpay-Serial``), ``request_id``.
    """

    kind = "signature_invalid"
    serial: Optional[str] = None


class ClockSkewError(SignatureError):
    """``Wechatpay-Timestamp`` is too far from now (check this host's clock, or a replay)."""

    kind = "clock_skew"


class UnknownSerialError(SignatureError):
    """``Wechatpay-Serial`` names no key this client holds."""

    kind = "unknown_serial"


class SignatureProbeError(SignatureError):
    """A WeChat Pay signature probe (``WECHATPAY/SIGNTEST/``): never valid."""

    kind = "signature_probe"


class SigningError(GoldPlanError):
    """Producing a request signature failed."""

    kind = "signing"


class EncryptionError(GoldPlanError):
    """RSA-OAEP encryption of a sensitive field failed."""

    kind = "encryption"


class DecryptionError(GoldPlanError):
    """AES-GCM or RSA-OAEP decryption failed (wrong APIv3 key, tampering, wrong key)."""

    kind = "decryption"


class CertificateError(GoldPlanError):
    """A platform certificate is unusable, or no valid one remains."""

    kind = "certificate"


class NoPlatformCertificateError(CertificateError):
    """The merchant has no platform certificate: configure the WeChat Pay public key."""

    kind = "no_platform_certificate"


class ReplayError(GoldPlanError):
    """A callback was already processed. Attribute: ``notification_id``."""

    kind = "replay"
    notification_id: Optional[str] = None


class DecodeError(GoldPlanError, ValueError):
    """A payload could not be decoded (invalid JSON, missing field, invalid UTF-8)."""

    kind = "decode"


class ApiError(GoldPlanError):
    """WeChat Pay answered with a non-2xx status.

    Attributes: ``status`` (HTTP), ``code`` (e.g. ``PARAM_ERROR``), ``message`` (WeChat's
    message), ``detail`` (the ``detail`` JSON member, or ``None``), ``request_id``,
    ``retryable``, ``rate_limited`` and ``raw_body`` (unauthenticated diagnostic text).
    ``str(error)`` gives all of it in one line.
    """

    kind = "api"
    status: int = 0
    code: str = ""
    detail: Any = None
    raw_body: str = ""
    rate_limited: bool = False

    def __init__(self, message: str = "", **attributes: Any) -> None:
        api_message = attributes.pop("api_message", None)
        super().__init__(message, **attributes)
        if api_message is not None:
            self.message = api_message


class TransportError(GoldPlanError):
    """The HTTP exchange failed. ``before_response`` is true when the request cannot have
    reached WeChat Pay (connection refused, DNS, TLS), so it is safe to send again."""

    kind = "transport"
    before_response: bool = False


class TimeoutError(TransportError):  # noqa: A001 - goldplan.errors.TimeoutError on purpose
    """The HTTP exchange timed out (the request may have been processed)."""

    kind = "timeout"


class InternalError(GoldPlanError):
    """A bug in goldplan (a Rust panic caught at the boundary). Please report it."""

    kind = "internal"


class SandboxError(GoldPlanError):
    """A :mod:`goldplan.testing` sandbox failed (start-up, state directory, not found).
    Attribute: ``code`` (``CONFIG``, ``IO``, ``IDENTITY``, ``NOT_FOUND``, ...)."""

    kind = "sandbox"
    code: str = ""


#: The core's error kinds (``goldplan._goldplan.ERROR_KINDS``), plus ``internal`` (a caught
#: panic) and ``sandbox`` (goldplan.testing), and the class of each.
KIND_TO_CLASS: Mapping[str, Type[GoldPlanError]] = {
    "configuration": ConfigurationError,
    "invalid_input": InvalidInputError,
    "missing_header": SignatureError,
    "invalid_header": SignatureError,
    "clock_skew": ClockSkewError,
    "unknown_serial": UnknownSerialError,
    "signature_invalid": SignatureError,
    "signature_probe": SignatureProbeError,
    "unsupported_signature_type": SignatureError,
    "decryption": DecryptionError,
    "encryption": EncryptionError,
    "signing": SigningError,
    "certificate": CertificateError,
    "no_platform_certificate": NoPlatformCertificateError,
    "replay": ReplayError,
    "decode": DecodeError,
    "api": ApiError,
    "transport": TransportError,
    "timeout": TimeoutError,
    "internal": InternalError,
    "sandbox": SandboxError,
}


#: The core's error families (``goldplan._goldplan.ERROR_FAMILIES`` maps each kind to one) and
#: the class of each: the class of every kind is this class or a subclass of it.
FAMILY_TO_CLASS: Mapping[str, Type[GoldPlanError]] = {
    "configuration": ConfigurationError,
    "invalid_input": InvalidInputError,
    "signature": SignatureError,
    "signing": SigningError,
    "encryption": EncryptionError,
    "decryption": DecryptionError,
    "certificate": CertificateError,
    "replay": ReplayError,
    "decode": DecodeError,
    "api": ApiError,
    "transport": TransportError,
    "internal": InternalError,
}


def _from_native(kind: str, message: str, attributes: Dict[str, Any]) -> GoldPlanError:
    """Called by the native module for every error it raises."""
    cls = KIND_TO_CLASS.get(kind, GoldPlanError)
    return cls(message, kind=kind, **attributes)
