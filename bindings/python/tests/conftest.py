from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / "tests" / "vectors"
KEYS = VECTORS / "keys"

MCHID = "1900000100"
SERIAL = "3775B6A45ACD588826D15E583A95F5DD12345678"
APIV3 = "0123456789abcdefghijklmnopqrstuv"
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000000001"


def load_vector(name: str) -> Any:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert data["format_version"] == 1, name
    return data


def key_text(name: str) -> str:
    return (KEYS / name).read_text(encoding="utf-8")


@pytest.fixture
def merchant_key_pem() -> str:
    return key_text("merchant_test_key.pem")
