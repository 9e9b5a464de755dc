"""A WeChat Pay stand-in written in plain Python (``http.server`` + ``cryptography``), none of
goldplan's code: it records every request exactly as it arrived and answers with a response
signed by the test "WeChat Pay public key" (``keys/wechatpay_test_pubkey_key.pem``).

Tests use it to look at goldplan's requests from the outside, and, because its handler is
Python code that needs the GIL, to prove that goldplan's calls let other Python threads run.
"""

from __future__ import annotations

import base64
import http.server
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import KEYS, MCHID, PUB_KEY_ID, SERIAL

import goldplan


def _private_key(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((KEYS / name).read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _public_key(name: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key((KEYS / name).read_bytes())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


WECHAT_KEY = _private_key("wechatpay_test_pubkey_key.pem")
MERCHANT_PUBLIC_KEY = _public_key("merchant_test_pubkey.pem")


def signed_headers(body: bytes, timestamp: Optional[int] = None) -> Dict[str, str]:
    """The headers WeChat Pay puts on a response: ``ts\\nnonce\\nbody\\n`` signed with RSA."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(16)
    message = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    signature = WECHAT_KEY.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": PUB_KEY_ID,
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Request-ID": "stub-" + nonce[:8],
    }


@dataclass
class Captured:
    method: str
    target: str  # the request-target exactly as sent
    headers: List[Tuple[str, str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


AUTHORIZATION = re.compile(
    r'^WECHATPAY2-SHA256-RSA2048 mchid="(?P<mchid>[^"]*)",nonce_str="(?P<nonce_str>[^"]*)",'
    r'timestamp="(?P<timestamp>[^"]*)",serial_no="(?P<serial_no>[^"]*)",'
    r'signature="(?P<signature>[^"]*)"$'
)


def parse_authorization(value: str) -> Dict[str, str]:
    match = AUTHORIZATION.match(value)
    assert match, value
    return match.groupdict()


def string_to_sign(request: Captured, timestamp: str, nonce: str) -> bytes:
    """Spec 1.1, rebuilt by hand from what arrived on the wire."""
    head = f"{request.method}\n{request.target}\n{timestamp}\n{nonce}\n".encode()
    return head + request.body + b"\n"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Many clients connect at once in the concurrency tests.
    request_queue_size = 128


class Stub:
    """The server. ``before_answer`` runs in the handler thread before the answer is written
    (it may block); ``body`` is what every request gets back (signed)."""

    def __init__(
        self,
        body: bytes = b'{"sub_mchid":"1900000109"}',
        before_answer: Optional[Callable[[Captured], None]] = None,
    ) -> None:
        self.requests: List[Captured] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                captured = Captured(
                    self.command, self.path, list(self.headers.items()), self.rfile.read(length)
                )
                with outer._lock:
                    outer.requests.append(captured)
                if before_answer is not None:
                    before_answer(captured)
                self.send_response(200)
                for name, value in signed_headers(body).items():
                    self.send_header(name, value)
                if body:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def client_options(self, **extra: Any) -> Dict[str, Any]:
        """Keyword arguments for goldplan.Client / AsyncClient pointed at this stub."""
        options: Dict[str, Any] = dict(
            mchid=MCHID,
            serial_no=SERIAL,
            private_key=str(KEYS / "merchant_test_key.pem"),
            public_key_id=PUB_KEY_ID,
            public_key=str(KEYS / "wechatpay_test_pubkey.pem"),
            base_url=self.url,
            max_attempts=1,
            timeout=60.0,
        )
        options.update(extra)
        return options

    def client(self, **extra: Any) -> goldplan.Client:
        return goldplan.Client(**self.client_options(**extra))

    def async_client(self, **extra: Any) -> goldplan.AsyncClient:
        return goldplan.AsyncClient(**self.client_options(**extra))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "Stub":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
