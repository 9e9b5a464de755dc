"""Regression tests of issue 11 for the binding: secrets never echoed, bounded key files,
validated skew windows, control characters in signed headers, surrogates in str bodies."""

from __future__ import annotations

import os
import pathlib

import pytest

import goldplan
from goldplan import errors
from conftest import APIV3, KEYS, MCHID, PUB_KEY_ID, SERIAL, key_text

# The public half of tests/vectors/keys/rsa1024_test_key.pem (a test key).
RSA1024_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDyOPxXs1qya0feQOAcnUV9jab+
lHLkd5fx2WIW1cITIEEF8NcYE4ZSJy+Jt1zEMgDtsq8DnWCOHS+1mWEephpEVK4C
djDldYZKK6kZLdQv6krP4/FXScZDUrDjjvcvhPQodzuffQWBI7KAgTyTveK89LWU
M9Wi/M785umBDh+C1wIDAQAB
-----END PUBLIC KEY-----
"""


def key_body() -> str:
    """The merchant test key without its BEGIN/END lines, as people put keys in env vars."""
    lines = key_text("merchant_test_key.pem").splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


def assert_not_echoed(message: str, secret: str) -> None:
    for start in range(0, len(secret) - 16, 8):
        assert secret[start : start + 16] not in message, message


def client_kwargs(**change: object) -> dict:
    kwargs: dict = {
        "mchid": MCHID,
        "serial_no": SERIAL,
        "private_key": KEYS / "merchant_test_key.pem",
        "public_key_id": PUB_KEY_ID,
        "public_key": KEYS / "wechatpay_test_pubkey.pem",
        "base_url": "http://127.0.0.1:9",
    }
    kwargs.update(change)
    return kwargs


def test_key_content_given_as_a_path_is_never_echoed() -> None:
    body = key_body()
    attempts = [
        lambda: goldplan.Client(**client_kwargs(private_key=body)),
        lambda: goldplan.PrivateKey.from_file(body),
        lambda: goldplan.Signer(MCHID, SERIAL, body),
        lambda: goldplan.decrypt_sensitive(body, "AAAA"),
    ]
    for attempt in attempts:
        with pytest.raises(errors.ConfigurationError) as info:
            attempt()
        shown = str(info.value) + repr(info.value)
        assert_not_echoed(shown, body)
        assert "private key path" in shown
        assert f"{len(body)} characters" in shown
        assert "looks like key content" in shown


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_as_the_key_path_is_refused_before_reading() -> None:
    for attempt in (
        lambda: goldplan.PrivateKey.from_file("/dev/zero"),
        lambda: goldplan.Client(**client_kwargs(private_key="/dev/zero")),
        lambda: goldplan.Client(**client_kwargs(public_key="/dev/zero")),
    ):
        with pytest.raises(errors.ConfigurationError, match="not a regular file"):
            attempt()


def test_credentials_in_base_url_and_proxy_are_refused_or_withheld() -> None:
    password = "s3cretPassw0rd-never-shown"
    with pytest.raises(errors.ConfigurationError, match="credentials") as info:
        goldplan.Client(**client_kwargs(base_url=f"https://merchant:{password}@api.example"))
    assert password not in str(info.value)
    with pytest.raises(errors.ConfigurationError) as info:
        goldplan.Client(**client_kwargs(proxy=f"http://user:{password}@proxy:99999"))
    assert password not in str(info.value)


@pytest.mark.parametrize("skew", [0, -1, -300, 86_401, 2**63 - 1])
def test_the_skew_window_of_every_helper_is_validated(skew: int) -> None:
    verifier = goldplan.Verifier.public_key(PUB_KEY_ID, KEYS / "wechatpay_test_pubkey.pem")
    for attempt in (
        lambda: verifier.verify({}, b"", max_skew_secs=skew),
        lambda: goldplan.NotificationParser(verifier, APIV3, max_skew_secs=skew),
        lambda: goldplan.decrypt_certificates({}, b"{}", APIV3, max_skew_secs=skew),
        lambda: goldplan.Client(**client_kwargs(max_skew_secs=skew)),
    ):
        with pytest.raises(errors.ConfigurationError, match="between 1 and 86400"):
            attempt()


def test_a_line_break_in_the_nonce_is_an_invalid_header() -> None:
    key = goldplan.PrivateKey.from_file(KEYS / "wechatpay_test_pubkey_key.pem")
    timestamp = "1700000000"
    signature = key.sign(goldplan.message_to_verify(timestamp, "N", b"B1\nB2"))
    verifier = goldplan.Verifier.public_key(PUB_KEY_ID, KEYS / "wechatpay_test_pubkey.pem")
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": "N",
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": PUB_KEY_ID,
    }
    assert verifier.verify(headers, b"B1\nB2", now=1700000000).serial == PUB_KEY_ID
    with pytest.raises(errors.SignatureError) as info:
        verifier.verify({**headers, "Wechatpay-Nonce": "N\nB1"}, b"B2", now=1700000000)
    assert info.value.kind == "invalid_header"


def test_a_1024_bit_wechat_public_key_is_refused_at_load() -> None:
    with pytest.raises(errors.ConfigurationError, match="under 2048 bits"):
        goldplan.Verifier.public_key(PUB_KEY_ID, RSA1024_PUBLIC_KEY)


def test_a_lone_surrogate_in_a_str_is_invalid_input() -> None:
    lone = "order \ud800"
    with pytest.raises(errors.InvalidInputError, match="lone surrogate"):
        goldplan.message_to_verify("1", "n", lone)
    client = goldplan.Client(**client_kwargs())
    for body in (lone, {"note": lone}):
        with pytest.raises(errors.InvalidInputError, match="body"):
            client.request("POST", "/v3/x", body)
    # Still a ValueError, as invalid input is.
    assert issubclass(errors.InvalidInputError, ValueError)


def test_an_oversized_key_file_is_refused_by_its_size(tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.pem"
    big.write_text(key_text("merchant_test_key.pem") + "#" * 300_000, encoding="utf-8")
    with pytest.raises(errors.ConfigurationError, match="larger than"):
        goldplan.PrivateKey.from_file(big)
