"""A WeChat Pay sandbox for your own tests, running inside your test process.

The sandbox is goldplan's local WeChat Pay APIv3 gateway simulator (the same Rust library the
project's own end-to-end tests use), started from the native module: no separate binary, no
network beyond 127.0.0.1. It checks your request signatures, signs every response, serves
encrypted platform certificates and rotates them, supports public-key mode, enforces the Gold
Plan business rules, delivers signed and encrypted callbacks, and injects faults.

As a context manager::

    from goldplan.testing import Sandbox

    with Sandbox() as sandbox:
        client = sandbox.client()
        client.change_gold_plan_status(sandbox.sub_mchids[0], "OPEN")

As pytest fixtures (registered automatically when goldplan is installed)::

    def test_open(goldplan_sandbox, goldplan_client):
        goldplan_client.change_gold_plan_status("1900000109", "OPEN")
        assert goldplan_sandbox.sub_merchant("1900000109")["gold_plan"] == "OPEN"

The sandbox is compiled into testing builds only (``maturin develop --features testing``);
production wheels leave it out, and ``Sandbox()`` then raises
:class:`goldplan.errors.SandboxError` with ``code == "NOT_BUILT"``.

Every admin method returns plain ``dict``/``list`` values, as the sandbox's admin API would.
The keys it holds are test keys generated at start: never use them anywhere else.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Iterator, List, Optional, Type

from goldplan import _goldplan, errors
from goldplan._goldplan import AsyncClient, Client

__all__ = ["Sandbox", "goldplan_sandbox", "goldplan_client", "goldplan_async_client"]


def _fields(**values: Any) -> Dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class Sandbox:
    """A running in-process sandbox on ``127.0.0.1`` with a random port.

    ``mode`` is the built-in provider's key mode: ``"combined"`` (default: public key and
    platform certificates), ``"certificate"`` or ``"public_key"``. ``settings`` patches the
    sandbox settings (``{"reopen_wait_secs": 0}``, ``{"rate_limit": {...}}``, ...).
    ``state_dir`` keeps ``sandbox.json`` and the generated keys on disk.
    """

    def __init__(
        self,
        *,
        mode: Optional[str] = None,
        mchid: Optional[str] = None,
        sub_mchids: Optional[List[str]] = None,
        settings: Optional[Dict[str, Any]] = None,
        state_dir: Optional[str] = None,
    ) -> None:
        options = _fields(
            mode=mode, mchid=mchid, sub_mchids=sub_mchids, settings=settings, state_dir=state_dir
        )
        if not _goldplan.HAS_SANDBOX:
            raise errors.SandboxError(
                "this build of goldplan has no sandbox (production wheels leave it out); "
                "install a testing build: MATURIN_PEP517_ARGS='--features testing' "
                "pip install ./bindings/python, or maturin develop --features testing",
                code="NOT_BUILT",
            )
        self._native = _goldplan._Sandbox.start(options)

    # -- lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        """Stops the server (idempotent)."""
        self._native.stop()

    @property
    def running(self) -> bool:
        return self._native.running

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self.base_url!r}, running={self.running})"

    # -- what a client needs ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._native.base_url

    @property
    def info(self) -> Dict[str, Any]:
        """What ``sandbox.json`` holds: ``base_url``, ``mchid``, ``serial_no``, the test keys,
        ``apiv3_key``, ``public_key_id``, ``platform_certificates``, ``sub_mchids``, ``mode``."""
        info: Dict[str, Any] = self._native.info()
        return info

    @property
    def mchid(self) -> str:
        """The built-in service provider's merchant id."""
        return str(self.info["mchid"])

    @property
    def sub_mchids(self) -> List[str]:
        """The special merchants registered for the built-in provider."""
        return list(self.info["sub_mchids"])

    def client(
        self,
        *,
        mode: Optional[str] = None,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
    ) -> Client:
        """A ready :class:`goldplan.Client` for the built-in provider."""
        return self._native.client(mode=mode, timeout=timeout, max_attempts=max_attempts)

    def async_client(
        self,
        *,
        mode: Optional[str] = None,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
    ) -> AsyncClient:
        """A ready :class:`goldplan.AsyncClient` for the built-in provider."""
        return self._native.async_client(mode=mode, timeout=timeout, max_attempts=max_attempts)

    # -- merchants -------------------------------------------------------------------------

    def add_merchant(
        self,
        mchid: str,
        *,
        apiv3_key: str,
        certificate_pem: Optional[str] = None,
        public_key_pem: Optional[str] = None,
        serial_no: Optional[str] = None,
        mode: Optional[str] = None,
        sub_mchids: Optional[List[str]] = None,
    ) -> Dict[str, Any]:
        """Registers another service provider with your own merchant key (its certificate, or
        its public key and serial), so you can test your real credentials' code path."""
        registration = _fields(
            mchid=mchid,
            apiv3_key=apiv3_key,
            certificate_pem=certificate_pem,
            public_key_pem=public_key_pem,
            serial_no=serial_no,
            mode=mode,
            sub_mchids=sub_mchids,
        )
        result: Dict[str, Any] = self._native.register_merchant(registration)
        return result

    def merchants(self) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = self._native.merchants()
        return result

    def merchant(self, mchid: Optional[str] = None) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.merchant(mchid or self.mchid)
        return result

    def update_merchant(self, mchid: Optional[str] = None, **patch: Any) -> Dict[str, Any]:
        """Changes a provider: ``mode``, ``callback_public_key_share``, ``receipt_link``,
        ``gold_plan_joined``, ``punished``, ``provider_type``."""
        result: Dict[str, Any] = self._native.update_merchant(mchid or self.mchid, patch)
        return result

    def add_sub_merchant(
        self,
        sub_mchid: str,
        *,
        mchid: Optional[str] = None,
        receipt_link: Optional[str] = None,
    ) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.add_sub_merchant(
            mchid or self.mchid, _fields(sub_mchid=sub_mchid, receipt_link=receipt_link)
        )
        return result

    def sub_merchant(self, sub_mchid: str, *, mchid: Optional[str] = None) -> Dict[str, Any]:
        """The Gold Plan state of a special merchant (``gold_plan``, ``custom_page``, ...)."""
        result: Dict[str, Any] = self._native.sub_merchant(mchid or self.mchid, sub_mchid)
        return result

    def update_sub_merchant(
        self, sub_mchid: str, *, mchid: Optional[str] = None, **patch: Any
    ) -> Dict[str, Any]:
        """Changes a special merchant: ``receipt_link``, ``punished``."""
        result: Dict[str, Any] = self._native.update_sub_merchant(
            mchid or self.mchid, sub_mchid, patch
        )
        return result

    # -- certificates ----------------------------------------------------------------------

    def platform_certificates(self) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = self._native.platform_certificates()
        return result

    def rotate_certificates(
        self,
        *,
        mchid: Optional[str] = None,
        validity_secs: Optional[int] = None,
        overlap_secs: Optional[int] = None,
        lead_secs: Optional[int] = None,
        sign_with_new: Optional[bool] = None,
    ) -> Dict[str, Any]:
        """Issues a new platform certificate, as WeChat Pay does: it is listed at once and
        signs responses only after ``lead_secs`` (default: the ``rotation_lead_secs``
        setting) on the sandbox clock. ``sign_with_new=True`` switches signing at once (to test
        a client's refresh on an unknown serial); ``False`` keeps the current signer until it
        is switched, retires or expires. ``mchid`` names another registered provider (default:
        the built-in one). Returns ``new_serial_no`` and the ``previous`` ones."""
        result: Dict[str, Any] = self._native.rotate_platform_certificate(
            _fields(
                mchid=mchid,
                validity_secs=validity_secs,
                overlap_secs=overlap_secs,
                lead_secs=lead_secs,
                sign_with_new=sign_with_new,
            )
        )
        return result

    def expire_certificate(self, serial_no: str) -> None:
        self._native.expire_platform_certificate(serial_no)

    # -- faults, clock, settings -----------------------------------------------------------

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        method: Optional[str] = None,
        path: Optional[str] = None,
        delay_ms: Optional[int] = None,
        target: Optional[str] = None,
    ) -> None:
        """Makes the next ``count`` matching requests fail: ``system_error``,
        ``too_many_requests``, ``rate_limited``, ``delay``, ``connection_reset``,
        ``truncated_body``, ``bad_signature``, ``unknown_serial``, ``stale_timestamp``.
        ``target="callback"`` applies it to callback deliveries instead."""
        self._native.inject_fault(
            _fields(
                kind=kind, count=count, method=method, path=path, delay_ms=delay_ms, target=target
            )
        )

    def faults(self) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = self._native.faults()
        return result

    def clear_faults(self) -> None:
        self._native.clear_faults()

    def advance_clock(self, seconds: int) -> Dict[str, Any]:
        """Moves the sandbox's business clock forward (the 24-hour re-open rule, certificate
        expiry) without waiting."""
        result: Dict[str, Any] = self._native.advance_clock(seconds)
        return result

    def reset_clock(self) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.reset_clock()
        return result

    @property
    def clock(self) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.clock()
        return result

    def settings(self) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.settings()
        return result

    def update_settings(self, **patch: Any) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.update_settings(patch)
        return result

    # -- callbacks and records -------------------------------------------------------------

    def send_callback(
        self,
        url: str,
        resource: Any,
        *,
        event_type: Optional[str] = None,
        mchid: Optional[str] = None,
        summary: Optional[str] = None,
        original_type: Optional[str] = None,
        max_attempts: Optional[int] = None,
        retry_delays_ms: Optional[List[int]] = None,
        timeout_ms: Optional[int] = None,
        wait: bool = False,
    ) -> Dict[str, Any]:
        """Delivers a signed, encrypted notification of ``resource`` (a dict, or a string
        sent verbatim) to ``url`` the way WeChat Pay does, re-delivering until acknowledged.
        With ``wait=True`` it returns when delivery finished; otherwise see
        :meth:`wait_for_callback`."""
        request = _fields(
            url=url,
            resource=resource,
            event_type=event_type,
            mchid=mchid,
            summary=summary,
            original_type=original_type,
            max_attempts=max_attempts,
            retry_delays_ms=retry_delays_ms,
            timeout_ms=timeout_ms,
            wait=wait,
        )
        result: Dict[str, Any] = self._native.send_callback(request)
        return result

    def wait_for_callback(self, callback_id: str, timeout: float = 10.0) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.wait_for_callback(callback_id, timeout)
        return result

    def callbacks(self) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = self._native.callbacks()
        return result

    def requests(self) -> List[Dict[str, Any]]:
        """The requests the gateway received (method, path, status, ...), oldest first."""
        result: List[Dict[str, Any]] = self._native.requests()
        return result

    def clear_requests(self) -> None:
        self._native.clear_requests()

    def media(self, media_id: str) -> Dict[str, Any]:
        result: Dict[str, Any] = self._native.media(media_id)
        return result


try:  # pytest is optional: the fixtures exist only where it is installed.
    import pytest
except ImportError:  # pragma: no cover
    pass
else:

    @pytest.fixture
    def goldplan_sandbox() -> Iterator[Sandbox]:
        """A fresh in-process sandbox for one test, stopped afterwards."""
        with Sandbox() as sandbox:
            yield sandbox

    @pytest.fixture
    def goldplan_client(goldplan_sandbox: Sandbox) -> Client:
        """A :class:`goldplan.Client` for the sandbox's built-in provider."""
        return goldplan_sandbox.client()

    @pytest.fixture
    def goldplan_async_client(goldplan_sandbox: Sandbox) -> AsyncClient:
        """A :class:`goldplan.AsyncClient` for the sandbox's built-in provider."""
        return goldplan_sandbox.async_client()
