"""Configuration, enums, reprs and typing of the public API (no network)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import goldplan
from goldplan import _goldplan, errors
from conftest import APIV3, KEYS, MCHID, PUB_KEY_ID, SERIAL, key_text


def test_enums_are_exactly_the_cores() -> None:
    assert [m.value for m in goldplan.OperationType] == _goldplan.OPERATION_TYPES
    assert [m.value for m in goldplan.OperationPayScene] == _goldplan.OPERATION_PAY_SCENES
    assert [m.value for m in goldplan.IndustryType] == _goldplan.INDUSTRY_TYPES
    assert len(goldplan.IndustryType) == 36
    assert goldplan.IndustryType.POTOGRAPHY == "POTOGRAPHY"
    assert str(goldplan.OperationType.OPEN) == "OPEN"
    assert f"{goldplan.OperationPayScene.JSAPI}" == "JSAPI"
    assert goldplan.MAX_INDUSTRY_FILTERS == 3


def sandbox_like_json(tmp_path: pathlib.Path, mode: str) -> pathlib.Path:
    config = {
        "base_url": "http://127.0.0.1:9",
        "mchid": MCHID,
        "serial_no": SERIAL,
        "private_key_pem": key_text("merchant_test_key.pem"),
        "certificate_pem": key_text("merchant_test_cert.pem"),
        "apiv3_key": APIV3,
        "public_key_id": PUB_KEY_ID,
        "public_key_pem": key_text("wechatpay_test_pubkey.pem"),
        "platform_certificates": [],
        "sub_mchids": ["1900000109"],
        "mode": mode,
    }
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["certificate", "combined", "public_key"])
@pytest.mark.parametrize("cls", [goldplan.Client, goldplan.AsyncClient])
def test_from_file_accepts_sandbox_json_and_repr_shows_no_secret(
    tmp_path: pathlib.Path, mode: str, cls: Any
) -> None:
    client = cls.from_file(sandbox_like_json(tmp_path, mode))
    assert client.mchid == MCHID
    assert client.mode == mode
    assert client.base_url == "http://127.0.0.1:9"
    assert "goldplan-python/" in client.user_agent
    shown = repr(client)
    assert MCHID in shown and mode in shown
    for secret in (APIV3, "PRIVATE KEY", "MII"):
        assert secret not in shown
    assert client.platform_certificates() == []


def test_keyword_configuration_with_pem_text_paths_and_pathlike() -> None:
    for private_key in (
        key_text("merchant_test_key.pem"),
        str(KEYS / "merchant_test_key_pkcs1.pem"),
        KEYS / "merchant_test_key.pem",
    ):
        c = goldplan.Client(
            mchid=MCHID,
            serial_no=SERIAL.lower(),
            private_key=private_key,
            public_key_id=PUB_KEY_ID,
            public_key=KEYS / "wechatpay_test_pubkey.pem",
            merchant_certificate=KEYS / "merchant_test_cert.pem",
            timeout=5,
            connect_timeout=1.5,
            max_attempts=2,
        )
        assert c.mode == "public_key"
        assert c.base_url == "https://api.mch.weixin.qq.com"
    combined = goldplan.Client(
        mchid=MCHID,
        serial_no=SERIAL,
        private_key=KEYS / "merchant_test_key.pem",
        apiv3_key=APIV3,
        public_key_id=PUB_KEY_ID,
        public_key=key_text("wechatpay_test_pubkey.pem"),
        mode="combined",
    )
    assert combined.mode == "combined"


@pytest.mark.parametrize(
    "change",
    [
        {"mchid": "abc"},
        {"serial_no": "not hex"},
        {"private_key": "/no/such/key.pem"},
        {"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
        {"apiv3_key": "too short", "mode": "certificate"},
        {"mode": "certificate"},  # no APIv3 key
        {"mode": "sm2"},
        {"public_key_id": "KEY_1"},
        {"base_url": "http://api.mch.weixin.qq.com"},
        {"timeout": 0},
        {"max_attempts": 0},
        {"proxy": "::not a url::"},
        {"merchant_certificate": KEYS / "platform_test_cert.pem"},
    ],
)
def test_configuration_mistakes_are_configuration_errors(change: dict) -> None:
    kwargs: dict = {
        "mchid": MCHID,
        "serial_no": SERIAL,
        "private_key": KEYS / "merchant_test_key.pem",
        "public_key_id": PUB_KEY_ID,
        "public_key": KEYS / "wechatpay_test_pubkey.pem",
    }
    kwargs.update(change)
    with pytest.raises(errors.ConfigurationError) as info:
        goldplan.Client(**kwargs)
    assert APIV3 not in str(info.value)


def test_from_file_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.ConfigurationError):
        goldplan.Client.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(errors.ConfigurationError):
        goldplan.Client.from_file(bad)


def test_reprs_show_no_secret() -> None:
    key = goldplan.PrivateKey.from_file(KEYS / "merchant_test_key.pem")
    assert repr(key) == "PrivateKey(RSA-2048, <redacted>)"
    signer = goldplan.Signer(MCHID, SERIAL, KEYS / "merchant_test_key.pem")
    assert repr(signer) == f"Signer(mchid={MCHID!r}, serial_no={SERIAL!r})".replace("'", '"')
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


def test_wrong_argument_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        goldplan.message_to_verify("1", "n", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        goldplan.Verifier.public_key(PUB_KEY_ID, KEYS / "wechatpay_test_pubkey.pem").verify(
            [("a",)], b""  # type: ignore[list-item]
        )


def test_stub_matches_the_native_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "goldplan._goldplan"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
