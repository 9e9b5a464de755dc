#!/usr/bin/env python3
"""Generator for the shared, language-neutral goldplan test vectors.

Usage (from the repository root; the working directory does not matter):

    python3 tests/vectors/generate.py

Requirements: python3, the `cryptography` package (written against 48.x), the
`openssl` command-line tool (3.0+) and `base64` (GNU coreutils) on PATH.

What it does
------------
1. Key material (tests/vectors/keys/) is created ONLY IF MISSING.  Existing
   keys and certificates are never overwritten, so re-running the generator
   keeps the committed keys and reproduces every other file byte for byte.
   All keys are TEST KEYS - never use them for anything but tests.
     * RSA keys come from `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`.
     * The PKCS#1 copy of the merchant key comes from `openssl rsa -traditional`.
     * SPKI public keys come from `openssl pkey -pubout`.
     * Certificates are self-signed with the python `cryptography` builder,
       because `openssl req -x509` in OpenSSL 3.0 cannot set an explicit
       notBefore/notAfter (the -not_before/-not_after options arrived in 3.4).
   If a key file is missing but a certificate/derived file for it exists (or
   vice versa the files disagree), the generator aborts instead of silently
   producing inconsistent material: delete the whole group and re-run.
2. Everything else is computed deterministically from the keys and from the
   constants of spec /work/shared/spec/APIV3.md section 10 (copied below):
     * RSASSA-PKCS1-v1_5/SHA-256 signatures are produced by
       `openssl dgst -sha256 -sign KEY FILE | base64 -w0` (subprocess) and
       cross-checked against python `cryptography` (PKCS#1 v1.5 is deterministic).
     * AES-256-GCM uses fixed nonces, so it is deterministic.
     * RSA-OAEP is randomised: sensitive.json ciphertexts are produced with
       `openssl pkeyutl -encrypt ... oaep/sha1/mgf1-sha1`; on re-runs an existing
       ciphertext is KEPT if it still decrypts to the expected plaintext under
       the current key, so re-running does not churn the file.
3. Every spec-provided value (section 10.1 len/sha256, 10.2 AEAD ciphertexts,
   N1/N2 signatures, receipt MD5) is asserted; on any mismatch the generator
   stops with an error and writes nothing further.  Spec values are never
   "fixed up" here.

After generating, run `python3 tests/vectors/check_vectors.py`, which re-reads the
JSON files and re-verifies them independently (openssl CLI verification of every
signature, AEAD re-decryption, OAEP decryption, certificate parsing).

Outputs (all JSON: UTF-8, 2-space indent, trailing newline, with top-level
"description" and "format_version": 1): messages.json, authorization.json,
signing.json, payments.json, aead.json, notification.json, sensitive.json, receipt.json,
certificates.json.  See README.md for the field-by-field documentation.
"""

import base64
import copy
import datetime
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
KEYS = HERE / "keys"
FORMAT_VERSION = 1
UTC = datetime.timezone.utc
CST = datetime.timezone(datetime.timedelta(hours=8))


class SpecMismatch(Exception):
    pass


def die(msg):
    print("ERROR: " + msg, file=sys.stderr)
    sys.exit(1)


def expect_equal(what, got, want):
    if got != want:
        raise SpecMismatch(f"{what}: computed {got!r}, spec says {want!r}")


# ---------------------------------------------------------------------------
# Spec constants (APIV3.md section 10) - copied verbatim, asserted below.
# ---------------------------------------------------------------------------

TS = "1700000000"
NONCE = "C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e"
MCHID = "1900000100"
MERCHANT_SERIAL = "3775B6A45ACD588826D15E583A95F5DD12345678"
APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"
HOST = "https://api.mch.weixin.qq.com"

# (name, kind, method, canonical_url, body, spec_len, spec_sha256)
SPEC_MESSAGES = [
    ("R1", "request", "POST", "/v3/goldplan/merchants/changegoldplanstatus",
     '{"sub_mchid":"1900000109","operation_type":"OPEN","operation_pay_scene":"JSAPI"}',
     174, "a1db82813f19ce0eebd94ccf5cd60d2aae4902dfc134f7be779f5ddcf9c51539"),
    ("R2", "request", "PATCH", "/v3/goldplan/merchants/open-advertising-show",
     '{"sub_mchid":"1900000109","advertising_industry_filters":["SOFTWARE","SECURITY","LOVE_MARRIAGE"]}',
     193, "411b0950fe1c448b528387d9a162a49d742f975dd9c31ca42795e82aa3670015"),
    ("R3", "request", "GET", "/v3/certificates?algorithm_type=RSA", "",
     85, "30d002ecb54c9e509711d87865a72747277a264a805774ff656df6c1a9783e10"),
    ("R4", "request", "POST", "/v3/merchant/media/upload",
     '{"filename":"logo.png","sha256":"a7b73695002855c3eb342921932e6b7b7a6ee4cb4ef3706ef66f7f42d331f1b7"}',
     175, "96fa474b7470a8e17732558fa4a2fa9ae0b6eaacb650f7082957690701a580cf"),
    ("V1", "response", None, None, '{"sub_mchid":"1900000109"}',
     71, "b6359d925d9960918b4b42a99e2269c7bde27faba0b4901bfbf391bb9af3d672"),
    ("V2", "response", None, None, "",
     45, "262e811caa89ee7411c2e167a1b29758cc7448564f56f1d4c2c99568aae33f47"),
]
SPEC_R4_FILE_SHA256 = ("hello wechatpay",
                       "a7b73695002855c3eb342921932e6b7b7a6ee4cb4ef3706ef66f7f42d331f1b7")

SPEC_AUTH_SIG_PLACEHOLDER = (
    'WECHATPAY2-SHA256-RSA2048 mchid="1900000100",nonce_str="C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e",'
    'timestamp="1700000000",serial_no="3775B6A45ACD588826D15E583A95F5DD12345678",signature="SIG"')

# (name, associated_data, nonce, plaintext, ciphertext)
SPEC_AEAD = [
    ("A1", "certificate", "abcdef012345",
     "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
     "h7DmG2QqbSCZ/bYlraEx1h/UHIh3j7ZZMZDt8kgTiniMtIwCifO5j9vA3UBJmBcIbkG+clyAx7daAoRgrqbDvZtYuZ4emKsdJJM="),
    ("A2", "transaction", "0a1b2c3d4e5f",
     '{"sub_mchid":"1900000109","result":"成功"}',
     "nHlysLtcEOKsVpXcDqYPTxD2atyTM92bSVKQD7mKrxJWXpmhGoLLayNpM0S9G18dD0lKlTbinsjsE/Cv"),
    ("A3", "", "ZZZZZZZZZZZZ", "{}", "pPBOJyBkQjBguQi9FFb6swNS"),
]
SPEC_AEAD_LENGTHS = {"A1": 58, "A2": 44, "A3": 2}

N_PUBLIC_KEY_ID = "PUB_KEY_ID_0000000000000000000000000000000001"
N_PUBLIC_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3sGRL1OYO19xZMqKNz/i\n"
    "D6hEKYZRoDDvF9JLtp+jMPGIMHolL8ZEJqBM7MI+BeFHqSYppaZ3pMLHxQ3RyNV1\n"
    "Nxz+qVArbabMjkQ0dqrgW4Pijq8RPzcGGFBfn2cAt4fxedr8RVedH++p1bXWChvz\n"
    "AlV+mpSAR+IVVa2KkEsMAmkhvz4H1goGRHplzYi7CpC9HbshVcD2frgmqZ94Zr2I\n"
    "oNhsXOcLw+LHIvTBzBWO/wsbqeQJrca0pU/mS2nUuVd84dVTMgAU0FG6Aeh9B5rM\n"
    "iAADVpuZg0MwnFkk+FbIveSe0jDtzei2+8LBX8SFhEQJHxRH17FRciv/+lRzn9uL\n"
    "QQIDAQAB\n"
    "-----END PUBLIC KEY-----\n")
N_TIMESTAMP = "1700000000"
N_NONCE = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
N1_SIGNATURE = (
    "NgCyWSSV963HNvePH/MRD0J6sjPUPmT0y5pZ624vnEO5h9asdP//E/eVWVZcRV04m/e/NYZDJsppopl3fO+T+slPkQnw0v4dpkLa3tJd"
    "TlI13Mc6oioFy4oJF59ndrUFvg9M298nGb8sSGwLn4EnZiYAtS2qJtg+w677a+jqz96h4o0ENbCtH9mBju69+Qq8SXF2LC+cg3RsFRwY"
    "VN7VLDKs5bdlUzyIFl+cHtVOe5cOwGzNQRdBVwlOVHvohNctYywuR5hPG88FC5UekSSyQJDmIqYPmulZ5aCMcGnURIUEidPLXoQAxDtV"
    "qIfkpFCeieTDTWA9XMOYdiFMpUizAw==")
N1_BODY = (
    '{"id":"EV-2024010100000000000001","create_time":"2024-01-01T12:00:00+08:00",'
    '"resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功",'
    '"resource":{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM",'
    '"ciphertext":"xKT85tNVbyryKhRx/oe3dja6qitjdemvkVGE4WdO2Tx6zCNIci3MJM3jx3nEPeNyyXhI9kkOTWYrDgvCD1tC7n4JAgy/'
    '5oZ2mbetR4idFWAoXNiIAcfzKld10XqnCwBrD+k5njtSDfsko5nAMTzE4HgeihMe9W4Aow==",'
    '"associated_data":"transaction","nonce":"fJ3kQ9pL2xZ7"}}')
N1_BODY_LEN = 480
N1_BODY_SHA256 = "549d0d324d868926cb3af24a0116ff8a476045addfebd8ad547363c346d2dedd"
N1_PLAINTEXT = ('{"sp_mchid":"1900000100","sub_mchid":"1900000109","out_trade_no":"ORDER20240101",'
                '"trade_state":"SUCCESS"}')
N2_SIGNATURE = (
    "pUak73f1m95iRfhoUJUab+9jkdryeGnV6vxcO0Qy2YfrmKmiWfp164kg7NRv81RTDlHKtPlJ+c9MyX9Ef9VunqJipqe11bELAsU9LPw5"
    "euWlI20mK4uEgIkgLxxpNLpGMAnwScHxO00J8p3I0E6uCBm2Uq25bRXUVkOU/J+fbQ6XafV9i5FS71XDi1EpbQubRDTnVnZjINvthHnZ"
    "D+O9F3to7tU93Vik50ROzFv5ubMnQ3sL8Dl82pw6SxmXyXb09z2tfEhA9PDKPLF7HqYDb3onbooOwewhx7Zyw65u08J7CY4Kal04LKDp"
    "pUKhz5weyM1NCBJvm6l69jBE/DU34Q==")

RECEIPT_LINK = "https://receipt.example.com/r"
RECEIPT_SPEC = ("1900000109", "ORDER20240101", "4200000000000000000000000001",
                "8c2fe08dc57b4b5cffe714643e97a278")
RECEIPT_OFFICIAL = ("https://www.qq.com", "1234567", "ABCDEFG", "abcdefg")
RECEIPT_OFFICIAL_REPRODUCES = "1a56f1432c02f2bc0e2d3001424432d7"
RECEIPT_OFFICIAL_PUBLISHED = "39f0876dd58e4eb61b66250f69d02705"

# ---------------------------------------------------------------------------
# Key material specification.
# ---------------------------------------------------------------------------

def dt(y, m, d):
    return datetime.datetime(y, m, d, tzinfo=UTC)


# cert file -> (key file, serial, CN, O, not_before, not_after)
CERTS = {
    "merchant_test_cert.pem": ("merchant_test_key.pem", 0x3775B6A45ACD588826D15E583A95F5DD12345678,
                               "1900000100", "goldplan test merchant", dt(2024, 1, 1), dt(2034, 1, 1)),
    "platform_test_cert.pem": ("platform_test_key.pem", 0x0ABC1234567890ABCDEF1234567890ABCDEF1234,
                               "Tenpay.com Root CA test", "goldplan test platform", dt(2024, 1, 1), dt(2029, 1, 1)),
    "platform2_test_cert.pem": ("platform2_test_key.pem", 0x5DEA10EF55877E3CF6C33255C2E7DEFFF7E42700,
                                "Tenpay.com Root CA test 2", "goldplan test platform", dt(2026, 1, 1), dt(2031, 1, 1)),
    "expired_test_cert.pem": ("platform_test_key.pem", 0x1111,
                              "Tenpay.com Root CA test expired", "goldplan test platform", dt(2019, 1, 1), dt(2020, 1, 1)),
}
PRIVATE_KEYS = ["merchant_test_key.pem", "platform_test_key.pem", "platform2_test_key.pem",
                "wechatpay_test_pubkey_key.pem"]
WECHATPAY_PUBKEY_ID = "PUB_KEY_ID_0114232134912410000000000000000001"
# Keys that every suite must REFUSE to load as the merchant key (error kind `configuration`):
# an RSA key below 2048 bits, and a password-protected PKCS#8 key (password `test`, the
# merchant key encrypted).
RSA1024_KEY = "rsa1024_test_key.pem"
ENCRYPTED_KEY = "merchant_test_key_encrypted.pem"
ENCRYPTED_KEY_PASSWORD = "test"

PLATFORM_SERIAL = "0ABC1234567890ABCDEF1234567890ABCDEF1234"        # canonical (DER bytes, %X)
PLATFORM_SERIAL_NO_LEADING_ZERO = "ABC1234567890ABCDEF1234567890ABCDEF1234"  # Java / Python rendering
PLATFORM2_SERIAL = "5DEA10EF55877E3CF6C33255C2E7DEFFF7E42700"
EXPIRED_SERIAL = "1111"

# ---------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------

def run(cmd, **kw):
    """Run a shell pipeline under bash with pipefail; return stdout bytes."""
    res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, **kw)
    if res.returncode != 0:
        die(f"command failed ({res.returncode}): {cmd}\n{res.stderr.decode(errors='replace')}")
    return res.stdout


def q(p):
    return shlex.quote(str(p))


def rel(p):
    return Path(p).resolve().relative_to(HERE).as_posix()


def load_private(name):
    return serialization.load_pem_private_key((KEYS / name).read_bytes(), password=None)


def load_cert(name):
    return x509.load_pem_x509_certificate((KEYS / name).read_bytes())


def pub_der(key):
    """SPKI DER of a public key, or of the public half of a private key."""
    if hasattr(key, "private_bytes"):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def with_temp_file(data, fn):
    fd, path = tempfile.mkstemp(prefix="goldplan-vec-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return fn(path)
    finally:
        os.unlink(path)


def openssl_sign(key_name, data):
    """openssl dgst -sha256 -sign KEY FILE | base64 -w0, cross-checked with cryptography."""
    key_path = KEYS / key_name
    sig = with_temp_file(data, lambda p: run(
        f"openssl dgst -sha256 -sign {q(key_path)} {q(p)} | base64 -w0")).decode("ascii")
    py = base64.b64encode(load_private(key_name).sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    if sig != py:
        die(f"openssl and cryptography disagree on the signature with {key_name}")
    return sig


def b64(data):
    return base64.b64encode(data).decode("ascii")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def aead_encrypt(key, nonce, ad, plaintext):
    return b64(AESGCM(key.encode()).encrypt(nonce.encode(), plaintext.encode(), ad.encode()))


def aead_decrypt(key, nonce, ad, ciphertext):
    return AESGCM(key.encode()).decrypt(nonce.encode(), base64.b64decode(ciphertext, validate=True),
                                         ad.encode()).decode("utf-8")


def request_message(method, url, ts, nonce, body):
    return f"{method}\n{url}\n{ts}\n{nonce}\n{body}\n"


def response_message(ts, nonce, body):
    return f"{ts}\n{nonce}\n{body}\n"


def authorization(mchid, serial, ts, nonce, sig):
    return (f'WECHATPAY2-SHA256-RSA2048 mchid="{mchid}",nonce_str="{nonce}",timestamp="{ts}",'
            f'serial_no="{serial}",signature="{sig}"')


def write_json(name, obj):
    assert obj.get("description") and obj.get("format_version") == FORMAT_VERSION
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    (HERE / name).write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {name} ({len(text.encode('utf-8'))} bytes)")


def rfc3339_utc(d):
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_cst(d):
    return d.astimezone(CST).isoformat()


# ---------------------------------------------------------------------------
# 1. Keys (only if missing).
# ---------------------------------------------------------------------------

def ensure_keys():
    KEYS.mkdir(parents=True, exist_ok=True)
    derived_of = {
        "merchant_test_key.pem": ["merchant_test_key_pkcs1.pem", "merchant_test_pubkey.pem",
                                  "merchant_test_cert.pem", ENCRYPTED_KEY],
        "platform_test_key.pem": ["platform_test_cert.pem", "expired_test_cert.pem"],
        "platform2_test_key.pem": ["platform2_test_cert.pem"],
        "wechatpay_test_pubkey_key.pem": ["wechatpay_test_pubkey.pem"],
    }
    for key_name in PRIVATE_KEYS:
        kp = KEYS / key_name
        if not kp.exists():
            stale = [d for d in derived_of[key_name] if (KEYS / d).exists()]
            if stale:
                die(f"{key_name} is missing but derived files exist: {stale}; delete them too and re-run")
            run(f"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out {q(kp)} 2>/dev/null")
            print(f"generated keys/{key_name}")
    if not (KEYS / "merchant_test_key_pkcs1.pem").exists():
        run(f"openssl rsa -in {q(KEYS / 'merchant_test_key.pem')} -traditional "
            f"-out {q(KEYS / 'merchant_test_key_pkcs1.pem')} 2>/dev/null")
        print("generated keys/merchant_test_key_pkcs1.pem")
    if not (KEYS / ENCRYPTED_KEY).exists():
        run(f"openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:{ENCRYPTED_KEY_PASSWORD} "
            f"-in {q(KEYS / 'merchant_test_key.pem')} -out {q(KEYS / ENCRYPTED_KEY)}")
        print(f"generated keys/{ENCRYPTED_KEY}")
    if not (KEYS / RSA1024_KEY).exists():
        run(f"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out {q(KEYS / RSA1024_KEY)} "
            "2>/dev/null")
        print(f"generated keys/{RSA1024_KEY}")
    for priv, pub in [("merchant_test_key.pem", "merchant_test_pubkey.pem"),
                      ("wechatpay_test_pubkey_key.pem", "wechatpay_test_pubkey.pem")]:
        if not (KEYS / pub).exists():
            run(f"openssl pkey -in {q(KEYS / priv)} -pubout -out {q(KEYS / pub)}")
            print(f"generated keys/{pub}")
    for cert_name, (key_name, serial, cn, org, nb, na) in CERTS.items():
        cp = KEYS / cert_name
        if cp.exists():
            continue
        key = load_private(key_name)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(nb).not_valid_after(na)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=True, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=False, crl_sign=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        print(f"generated keys/{cert_name}")
    check_key_consistency()


def check_key_consistency():
    for name in PRIVATE_KEYS:
        text = (KEYS / name).read_text()
        if not text.startswith("-----BEGIN PRIVATE KEY-----\n"):
            die(f"keys/{name} is not a PKCS#8 PEM")
        k = load_private(name)
        if k.key_size != 2048:
            die(f"keys/{name} is not RSA-2048")
    pk1 = (KEYS / "merchant_test_key_pkcs1.pem").read_text()
    if not pk1.startswith("-----BEGIN RSA PRIVATE KEY-----\n"):
        die("keys/merchant_test_key_pkcs1.pem is not a PKCS#1 PEM")
    m = load_private("merchant_test_key.pem")
    enc = (KEYS / ENCRYPTED_KEY).read_bytes()
    if not enc.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"):
        die(f"keys/{ENCRYPTED_KEY} is not an encrypted PKCS#8 PEM")
    if pub_der(serialization.load_pem_private_key(enc, ENCRYPTED_KEY_PASSWORD.encode())) != pub_der(m):
        die(f"keys/{ENCRYPTED_KEY} is not the merchant key")
    if not (KEYS / RSA1024_KEY).read_text().startswith("-----BEGIN PRIVATE KEY-----\n"):
        die(f"keys/{RSA1024_KEY} is not a PKCS#8 PEM")
    if load_private(RSA1024_KEY).key_size != 1024:
        die(f"keys/{RSA1024_KEY} is not RSA-1024")
    if pub_der(load_private("merchant_test_key_pkcs1.pem")) != pub_der(m):
        die("merchant PKCS#1 and PKCS#8 keys differ")
    for priv, pub in [("merchant_test_key.pem", "merchant_test_pubkey.pem"),
                      ("wechatpay_test_pubkey_key.pem", "wechatpay_test_pubkey.pem")]:
        p = serialization.load_pem_public_key((KEYS / pub).read_bytes())
        if pub_der(p) != pub_der(load_private(priv)):
            die(f"keys/{pub} does not belong to keys/{priv}")
    for cert_name, (key_name, serial, cn, org, nb, na) in CERTS.items():
        c = load_cert(cert_name)
        if pub_der(c.public_key()) != pub_der(load_private(key_name)):
            die(f"keys/{cert_name} does not belong to keys/{key_name}")
        if (c.serial_number, c.not_valid_before_utc, c.not_valid_after_utc) != (serial, nb, na):
            die(f"keys/{cert_name} has unexpected serial/validity")


# ---------------------------------------------------------------------------
# 2. messages.json
# ---------------------------------------------------------------------------

UTF8_BODY = '{"sub_mchid":"1900000109","remark":"点金计划✓商家小票"}'
GO_NEWLINE = ("GO-BODY-NEWLINE", "request", "POST", "/v3/certificates", "1624523846", "A1B2C3D4E5F6G7",
              "Hello World!\n")
JAVA_QUERY = ("JAVA-QUERY", "request", "GET",
              "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109",
              "1652750623", "eBYqCOxa0QudMnPvVilkTzOg3gHh5Z3u", "")
UTF8_CASE = ("UTF8-BODY", "request", "POST", "/v3/goldplan/merchants/changegoldplanstatus", TS, NONCE,
             UTF8_BODY)

# PAYMENTS.md §3.7 and §4: partner JSAPI query, close and prepay (name, method, url, body, len, sha256).
J1_BODY = ('{"sp_appid":"wx8888888888888888","sp_mchid":"1900000100","sub_appid":"wxd678efh567hg6999",'
           '"sub_mchid":"1900000109","description":"点金计划测试商品","out_trade_no":"ORDER20240101",'
           '"notify_url":"https://provider.example.com/wxpay/notify","amount":{"total":100,"currency":"CNY"},'
           '"payer":{"sub_openid":"oSubTest0123456789abcdefABCD"}}')
PAYMENT_MESSAGES = [
    ("Q1", "GET", "/v3/pay/partner/transactions/out-trade-no/ORDER20240101?sp_mchid=1900000100&sub_mchid=1900000109",
     "", 146, "3606ce897c7a96874cdc5c980222c2e079a15eb3236dea149e7706711f2819c4"),
    ("Q2", "GET", "/v3/pay/partner/transactions/id/4200000000000000000000000001?sp_mchid=1900000100&sub_mchid=1900000109",
     "", 151, "0069954d029391c0c0c3963a1d9992fd89944b05310fc2ae3c2d138c5437579e"),
    ("C1", "POST", "/v3/pay/partner/transactions/out-trade-no/ORDER20240101/close",
     '{"sp_mchid":"1900000100","sub_mchid":"1900000109"}', 162,
     "2d8ad4936c552a25fe1551fc5622c5c15ab7e7aca9b4761ca5c8b99354fcfe26"),
    ("J1", "POST", "/v3/pay/partner/transactions/jsapi", J1_BODY, 423,
     "92d52f31c7619bf9ac44a8ddcc206a9bac7221505a6455a054fcd261f5aaad40"),
]

# PAYMENTS.md §2.5: the pay-sign message P1 and its two classic mistakes (name, time_stamp, final \n, len, sha256).
PAY_SIGN_APP_ID = "wxd678efh567hg6999"
PAY_SIGN_PREPAY_ID = "wx201410272009395522657a690389285100"
PAY_SIGN_MESSAGES = [
    ("P1", "1700000000", True, 110, "b60877e94d724c4c3bb0692b9cd978842244e4a178563f071a9a365e9c7ea36d"),
    ("P1-ms", "1700000000000", True, 113, "a92f142b42f379cef94643844c1d129dfeaaad8f215cf6edab74e363b9d0f63d"),
    ("P1-nl", "1700000000", False, 109, "6473bf94dfe7848bfb3f453a7d5a5d22c1a8110691418ec84fabac2fa8b405e5"),
]


def build_message_case(name, kind, method, url, ts, nonce, body):
    if kind == "request":
        msg = request_message(method, url, ts, nonce, body)
    else:
        msg = response_message(ts, nonce, body)
    b = msg.encode("utf-8")
    case = {"name": name, "kind": kind}
    if kind == "request":
        case["method"] = method
        case["canonical_url"] = url
        case["url"] = HOST + url
    case.update({"timestamp": ts, "nonce": nonce, "body": body, "message": msg,
                 "len": len(b), "sha256": sha256_hex(b)})
    return case


def gen_messages():
    expect_equal("R4 file sha256", sha256_hex(SPEC_R4_FILE_SHA256[0].encode()), SPEC_R4_FILE_SHA256[1])
    cases = []
    for name, kind, method, url, body, slen, ssha in SPEC_MESSAGES:
        c = build_message_case(name, kind, method, url, TS, NONCE, body)
        expect_equal(f"{name} len", c["len"], slen)
        expect_equal(f"{name} sha256", c["sha256"], ssha)
        cases.append(c)
    for extra in (JAVA_QUERY, GO_NEWLINE, UTF8_CASE):
        cases.append(build_message_case(*extra))
    assert cases[-2]["message"].endswith("\n\n")
    for name, method, url, body, slen, ssha in PAYMENT_MESSAGES:
        c = build_message_case(name, "request", method, url, TS, NONCE, body)
        expect_equal(f"{name} len", c["len"], slen)
        expect_equal(f"{name} sha256", c["sha256"], ssha)
        cases.append(c)
    write_json("messages.json", {
        "description": "Strings to sign (requests) and to verify (responses), spec APIV3.md sections 1.1, 2.3 "
                       "and 10.1. 'message' is the complete string; 'len' is its length in UTF-8 BYTES and "
                       "'sha256' the lower-case hex SHA-256 of those bytes. R1-R4/V1-V2 are the spec's vectors; "
                       "JAVA-QUERY (wechatpay-java canonical URL with query), GO-BODY-NEWLINE (body ending in "
                       "\\n so the message ends in \\n\\n, wechatpay-go style) and UTF8-BODY (multi-byte body) "
                       "are extra. Q1, Q2, C1 and J1 are PAYMENTS.md §3.7 and §4 (partner JSAPI query, close "
                       "and prepay). 'url' is the absolute URL the request is sent to; 'canonical_url' is the "
                       "line that is signed.",
        "format_version": FORMAT_VERSION,
        "cases": cases,
    })
    return {c["name"]: c for c in cases}


# ---------------------------------------------------------------------------
# 3. authorization.json and 4. signing.json
# ---------------------------------------------------------------------------

def gen_authorization(msgs):
    r1 = msgs["R1"]
    placeholder = authorization(MCHID, MERCHANT_SERIAL, r1["timestamp"], r1["nonce"], "SIG")
    expect_equal("Authorization assembly", placeholder, SPEC_AUTH_SIG_PLACEHOLDER)
    sig = openssl_sign("merchant_test_key.pem", r1["message"].encode("utf-8"))
    cert_serial = format(load_cert("merchant_test_cert.pem").serial_number, "040X")
    expect_equal("merchant cert serial", cert_serial, MERCHANT_SERIAL)
    write_json("authorization.json", {
        "description": "Authorization header assembly (spec 1.3 and 10.1). Build the header from "
                       "mchid/serial_no/timestamp/nonce/signature and compare byte-for-byte with 'expected' "
                       "(Go/Java parameter order). 'message' is the string that was signed (R1 of "
                       "messages.json). Case R1-placeholder uses the spec's literal signature 'SIG'; "
                       "R1-signed carries the real signature of R1 under keys/merchant_test_key.pem, so a "
                       "signer + header builder must reproduce 'expected' exactly.",
        "format_version": FORMAT_VERSION,
        "private_key": "keys/merchant_test_key.pem",
        "cases": [
            {"name": "R1-placeholder", "mchid": MCHID, "serial_no": MERCHANT_SERIAL,
             "timestamp": r1["timestamp"], "nonce": r1["nonce"], "signature": "SIG",
             "message": r1["message"], "expected": placeholder},
            {"name": "R1-signed", "mchid": MCHID, "serial_no": MERCHANT_SERIAL,
             "timestamp": r1["timestamp"], "nonce": r1["nonce"], "signature": sig,
             "message": r1["message"],
             "expected": authorization(MCHID, MERCHANT_SERIAL, r1["timestamp"], r1["nonce"], sig)},
        ],
    })


def gen_signing(msgs):
    entries = [(n, msgs[n]["message"]) for n in ("R1", "R2", "R3", "R4", "V1", "V2")]
    entries.append(("empty", ""))
    entries.append(("utf8-body", msgs["UTF8-BODY"]["message"]))
    entries.append(("body-trailing-newline", msgs["GO-BODY-NEWLINE"]["message"]))
    entries.append(("P1", pay_sign_message("1700000000", True)))
    cases = []
    for name, m in entries:
        b = m.encode("utf-8")
        cases.append({"name": name, "message": m, "sha256": sha256_hex(b),
                      "signature": openssl_sign("merchant_test_key.pem", b)})
    write_json("signing.json", {
        "description": "RSASSA-PKCS1-v1_5 / SHA-256 request signatures (spec 1.2). For each case, signing the "
                       "UTF-8 bytes of 'message' with the key (load BOTH key_pkcs8 and key_pkcs1; both must "
                       "give the same result) must yield exactly 'signature' (standard base64, one line), and "
                       "verifying with public_key or certificate must succeed. 'sha256' is the hex SHA-256 of "
                       "the message bytes. Paths are relative to tests/vectors/. TEST KEYS ONLY. P1 is the JSAPI "
                       "pay-sign message of PAYMENTS.md §2.5 (paySign is this signature).",
        "format_version": FORMAT_VERSION,
        "key_pkcs8": "keys/merchant_test_key.pem",
        "key_pkcs1": "keys/merchant_test_key_pkcs1.pem",
        "public_key": "keys/merchant_test_pubkey.pem",
        "certificate": "keys/merchant_test_cert.pem",
        "serial_no": MERCHANT_SERIAL,
        "cases": cases,
    })


def pay_sign_message(time_stamp, final_newline):
    lines = [PAY_SIGN_APP_ID, time_stamp, NONCE, "prepay_id=" + PAY_SIGN_PREPAY_ID]
    return "\n".join(lines) + ("\n" if final_newline else "")


def gen_payments():
    built = {}
    for name, time_stamp, final_newline, slen, ssha in PAY_SIGN_MESSAGES:
        m = pay_sign_message(time_stamp, final_newline)
        b = m.encode("utf-8")
        expect_equal(f"{name} len", len(b), slen)
        expect_equal(f"{name} sha256", sha256_hex(b), ssha)
        built[name] = {"name": name, "message": m, "len": len(b), "sha256": sha256_hex(b)}
    p1 = built["P1"]
    write_json("payments.json", {
        "description": "JSAPI pay-sign messages (PAYMENTS.md §2.2, §2.5): appId, timeStamp, nonceStr and "
                       "package, each line ended by \\n. 'message' is the string the merchant key signs; 'len' "
                       "its UTF-8 byte length and 'sha256' its lower-case hex SHA-256. 'negative' are the two "
                       "classic mistakes (milliseconds; no final newline), which must never equal P1.",
        "format_version": FORMAT_VERSION,
        "cases": [{"name": "P1", "app_id": PAY_SIGN_APP_ID, "time_stamp": "1700000000", "nonce_str": NONCE,
                   "prepay_id": PAY_SIGN_PREPAY_ID, "package": "prepay_id=" + PAY_SIGN_PREPAY_ID,
                   "message": p1["message"], "len": p1["len"], "sha256": p1["sha256"]}],
        "negative": [built["P1-ms"], built["P1-nl"]],
    })


# ---------------------------------------------------------------------------
# 5. aead.json
# ---------------------------------------------------------------------------

def must_fail_aead(what, key, nonce, ad, ct):
    try:
        raw = base64.b64decode(ct, validate=True)
        if len(raw) < 16:
            return  # cannot even hold a tag: a decryption error by definition
        AESGCM(key.encode()).decrypt(nonce.encode(), raw, ad.encode())
    except InvalidTag:
        return
    raise SpecMismatch(f"AEAD negative {what} unexpectedly decrypted")


def gen_aead():
    cases = []
    for name, ad, nonce, pt, ct in SPEC_AEAD:
        expect_equal(f"{name} plaintext length", len(pt.encode()), SPEC_AEAD_LENGTHS[name])
        expect_equal(f"{name} decryption", aead_decrypt(APIV3_KEY, nonce, ad, ct), pt)
        expect_equal(f"{name} encryption", aead_encrypt(APIV3_KEY, nonce, ad, pt), ct)
        cases.append({"name": name, "associated_data": ad, "nonce": nonce, "plaintext": pt, "ciphertext": ct})
    _, a2_ad, a2_nonce, _, a2_ct = SPEC_AEAD[1]
    raw = bytearray(base64.b64decode(a2_ct))
    tampered = bytes(raw[:-1]) + bytes([raw[-1] ^ 0x01])
    negative = [
        {"name": "A2-wrong-aad", "associated_data": "transactioN", "nonce": a2_nonce, "ciphertext": a2_ct},
        {"name": "A2-wrong-nonce", "associated_data": a2_ad, "nonce": "0a1b2c3d4e5e", "ciphertext": a2_ct},
        {"name": "A2-wrong-key", "key": "0123456789abcdefghijklmnopqrstuw", "associated_data": a2_ad,
         "nonce": a2_nonce, "ciphertext": a2_ct},
        {"name": "A2-tag-last-byte-flipped", "associated_data": a2_ad, "nonce": a2_nonce,
         "ciphertext": b64(tampered)},
        {"name": "A2-truncated-below-tag-length", "associated_data": a2_ad, "nonce": a2_nonce,
         "ciphertext": b64(bytes(raw[:15]))},
    ]
    for n in negative:
        n["expect_error"] = "decryption"
        must_fail_aead(n["name"], n.get("key", APIV3_KEY), n["nonce"], n["associated_data"], n["ciphertext"])
    write_json("aead.json", {
        "description": "AEAD_AES_256_GCM (spec 3.2, 10.2). key = the 32 ASCII bytes of 'key' (never hex/base64 "
                       "decoded); IV = UTF-8 bytes of 'nonce' (12 bytes); AAD = UTF-8 bytes of "
                       "'associated_data' (empty string = empty AAD); 'ciphertext' = base64(encrypted || 16-byte "
                       "tag). Each case must decrypt to 'plaintext' (and encrypting plaintext must give "
                       "'ciphertext'). Each negative (optional 'key' overrides the top-level key) must fail with "
                       "error kind 'decryption'.",
        "format_version": FORMAT_VERSION,
        "key": APIV3_KEY,
        "cases": cases,
        "negative": negative,
    })


# ---------------------------------------------------------------------------
# 6. notification.json
# ---------------------------------------------------------------------------

def verify_rsa(pub_pem, sig_b64, message):
    pk = serialization.load_pem_public_key(pub_pem.encode())
    try:
        pk.verify(base64.b64decode(sig_b64, validate=True), message.encode("utf-8"),
                  padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


def gen_notification():
    b = N1_BODY.encode("utf-8")
    expect_equal("N1 body length", len(b), N1_BODY_LEN)
    expect_equal("N1 body sha256", sha256_hex(b), N1_BODY_SHA256)
    if not verify_rsa(N_PUBLIC_KEY_PEM, N1_SIGNATURE, response_message(N_TIMESTAMP, N_NONCE, N1_BODY)):
        raise SpecMismatch("N1 signature does not verify with the spec public key")
    if not verify_rsa(N_PUBLIC_KEY_PEM, N2_SIGNATURE, response_message(N_TIMESTAMP, N_NONCE, "")):
        raise SpecMismatch("N2 signature does not verify with the spec public key")
    env = json.loads(N1_BODY)
    r = env["resource"]
    expect_equal("N1 plaintext", aead_decrypt(APIV3_KEY, r["nonce"], r["associated_data"], r["ciphertext"]),
                 N1_PLAINTEXT)
    if verify_rsa(N_PUBLIC_KEY_PEM, N1_SIGNATURE, response_message(N_TIMESTAMP, N_NONCE, N1_BODY[:-1])):
        raise SpecMismatch("N1 signature verifies over the truncated body")

    def headers(sig, **over):
        h = {"Wechatpay-Timestamp": N_TIMESTAMP, "Wechatpay-Nonce": N_NONCE,
             "Wechatpay-Serial": N_PUBLIC_KEY_ID, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
             "Wechatpay-Signature": sig}
        h.update(over)
        return h

    n1_expect = {"valid": True, "id": env["id"], "event_type": env["event_type"],
                 "resource_type": env["resource_type"], "summary": env["summary"],
                 "create_time": env["create_time"], "original_type": r["original_type"],
                 "plaintext": N1_PLAINTEXT}
    n1 = {"name": "N1", "kind": "notification", "now": 1700000000, "headers": headers(N1_SIGNATURE),
          "body": N1_BODY, "expect": n1_expect}
    n2 = {"name": "N2", "kind": "response", "now": 1700000000, "headers": headers(N2_SIGNATURE), "body": "",
          "expect": {"valid": True}}
    lower = copy.deepcopy(n1)
    lower["name"] = "N1-lowercase-headers"
    lower["headers"] = {k.lower(): v for k, v in n1["headers"].items()}
    skew299 = copy.deepcopy(n1)
    skew299["name"] = "N1-skew-299"
    skew299["now"] = 1700000299
    skew_neg299 = copy.deepcopy(n1)
    skew_neg299["name"] = "N1-skew-minus-299"
    skew_neg299["now"] = 1699999701
    no_type = copy.deepcopy(n1)
    no_type["name"] = "N1-no-signature-type"
    del no_type["headers"]["Wechatpay-Signature-Type"]
    cases = [n1, n2, lower, skew299, skew_neg299, no_type]

    def neg(name, expect_error, now=1700000000, body=N1_BODY, drop=None, **over):
        h = headers(N1_SIGNATURE, **over)
        if drop:
            del h[drop]
        return {"name": name, "kind": "notification", "now": now, "headers": h, "body": body,
                "expect_error": expect_error}

    wrong_key = neg("N1-wrong-apiv3-key", "decryption")
    wrong_key["apiv3_key"] = "0123456789abcdefghijklmnopqrstuw"
    negative = [
        neg("N1-skew-plus-300", "clock_skew", now=1700000300),
        neg("N1-skew-minus-300", "clock_skew", now=1699999700),
        neg("N1-body-truncated", "signature_invalid", body=N1_BODY[:-1]),
        neg("N1-unknown-serial", "unknown_serial", **{"Wechatpay-Serial": "PUB_KEY_ID_0000000000000000000000000000000002"}),
        neg("N1-signature-probe", "signature_probe", **{"Wechatpay-Signature": "WECHATPAY/SIGNTEST/abc"}),
        neg("N1-missing-signature", "missing_header", drop="Wechatpay-Signature"),
        neg("N1-sm2-signature-type", "unsupported_signature_type",
            **{"Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}),
        wrong_key,
    ]
    write_json("notification.json", {
        "description": "Callback / response verification end to end (spec 2, 4, 10.2). Configure the verifier in "
                       "public-key mode with public_key_id + public_key_pem and the AES key apiv3_key, freeze the "
                       "clock at 'now' (integer Unix seconds), and feed 'headers' (header values are strings; "
                       "names must be matched case-insensitively) and the raw 'body'. kind 'notification' = run "
                       "the callback parser (verify + decrypt resource); kind 'response' = run the API response "
                       "validator only (N2 is a signed empty 204 body). Positive cases must verify and, for "
                       "notifications, yield the envelope fields and the decrypted 'plaintext' in 'expect'. "
                       "Negative cases must fail with error kind 'expect_error'; an optional 'apiv3_key' in a "
                       "negative overrides the top-level key. Skew rule: |now - timestamp| >= 300 rejects.",
        "format_version": FORMAT_VERSION,
        "public_key_id": N_PUBLIC_KEY_ID,
        "public_key_pem": N_PUBLIC_KEY_PEM,
        "apiv3_key": APIV3_KEY,
        "cases": cases,
        "negative": negative,
    })


# ---------------------------------------------------------------------------
# 7. sensitive.json
# ---------------------------------------------------------------------------

MAX_OAEP = 214
OAEP_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
OAEP_MAX_PLAINTEXT = "goldplan-oaep-max-214:" + "".join(OAEP_ALPHABET[i % 62] for i in range(MAX_OAEP - 22))


def oaep_decrypt(ct_b64):
    key = load_private("merchant_test_key.pem")
    return key.decrypt(base64.b64decode(ct_b64, validate=True),
                       padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))


def gen_sensitive():
    assert len(OAEP_MAX_PLAINTEXT.encode()) == MAX_OAEP
    existing = {}
    path = HERE / "sensitive.json"
    if path.exists():
        try:
            existing = {c["name"]: c for c in json.loads(path.read_text(encoding="utf-8"))["cases"]}
        except (ValueError, KeyError):
            existing = {}
    cases = []
    for name, pt in [("hello-world", "hello world"), ("chinese-name", "张三"), ("max-214-bytes", OAEP_MAX_PLAINTEXT)]:
        ct = None
        old = existing.get(name)
        if old and old.get("plaintext") == pt:
            try:
                if oaep_decrypt(old["ciphertext"]) == pt.encode():
                    ct = old["ciphertext"]
            except ValueError:
                ct = None
        if ct is None:
            ct = with_temp_file(pt.encode("utf-8"), lambda p: run(
                f"openssl pkeyutl -encrypt -pubin -inkey {q(KEYS / 'merchant_test_pubkey.pem')} "
                f"-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1 "
                f"-in {q(p)} | base64 -w0")).decode("ascii")
        if oaep_decrypt(ct) != pt.encode("utf-8"):
            die(f"OAEP case {name} does not decrypt")
        cases.append({"name": name, "ciphertext": ct, "plaintext": pt, "plaintext_len": len(pt.encode())})
    # 215 bytes must be refused by openssl too (sanity check of the limit).
    res = with_temp_file(("x" * (MAX_OAEP + 1)).encode(), lambda p: subprocess.run(
        ["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", str(KEYS / "merchant_test_pubkey.pem"),
         "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1", "-pkeyopt", "rsa_mgf1_md:sha1",
         "-in", p], capture_output=True))
    if res.returncode == 0:
        die("openssl accepted a 215-byte OAEP plaintext; the 214-byte limit assumption is wrong")
    write_json("sensitive.json", {
        "description": "Sensitive-field RSAES-OAEP decryption (spec 5): OAEP with SHA-1, MGF1-SHA-1, empty label, "
                       "RSA-2048. Decrypting base64 'ciphertext' with private_key must give the UTF-8 'plaintext' "
                       "('plaintext_len' = its length in bytes). OAEP is randomised, so only decryption is "
                       "deterministic; encryption tests must round-trip instead. Encrypting more than "
                       "max_plaintext_len UTF-8 bytes must be refused client-side. Paths are relative to "
                       "tests/vectors/. TEST KEYS ONLY.",
        "format_version": FORMAT_VERSION,
        "private_key": "keys/merchant_test_key.pem",
        "public_key": "keys/merchant_test_pubkey.pem",
        "max_plaintext_len": MAX_OAEP,
        "cases": cases,
    })


# ---------------------------------------------------------------------------
# 8. receipt.json
# ---------------------------------------------------------------------------

def receipt_string(link, sub, otn, tid):
    return f"{link}?sub_mch_id={sub}&out_trade_no={otn}&transaction_id={tid}"


def md5_hex(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def gen_receipt():
    sub, otn, tid, code = RECEIPT_SPEC
    s = receipt_string(RECEIPT_LINK, sub, otn, tid)
    expect_equal("receipt check code (10.1)", md5_hex(s), code)
    olink, osub, ootn, otid = RECEIPT_OFFICIAL
    os_ = receipt_string(olink, osub, ootn, otid)
    expect_equal("official receipt example (9.3, reproducing value)", md5_hex(os_), RECEIPT_OFFICIAL_REPRODUCES)
    if md5_hex(os_) == RECEIPT_OFFICIAL_PUBLISHED:
        raise SpecMismatch("official published check_code unexpectedly reproduces")

    def case(name, link, sub, otn, tid, check, valid):
        return {"name": name, "configured_link": link, "sub_mch_id": sub, "out_trade_no": otn,
                "transaction_id": tid, "string_to_hash": receipt_string(link, sub, otn, tid),
                "check_code": check, "valid": valid}

    pct_otn_raw, pct_tid = "ORDER%7C2024", "4200000000000000000000000002"
    pct_code = md5_hex(receipt_string(RECEIPT_LINK, sub, pct_otn_raw, pct_tid))
    bad = code[:-1] + ("9" if code[-1] != "9" else "8")
    cases = [
        case("spec-10.1", RECEIPT_LINK, sub, otn, tid, code, True),
        case("spec-10.1-upper-case-check-code", RECEIPT_LINK, sub, otn, tid, code.upper(), True),
        case("official-example-reproducing", olink, osub, ootn, otid, RECEIPT_OFFICIAL_REPRODUCES, True),
        case("percent-encoded-out-trade-no-raw", RECEIPT_LINK, sub, pct_otn_raw, pct_tid, pct_code, True),
    ]
    negative = [
        case("official-example-published-value", olink, osub, ootn, otid, RECEIPT_OFFICIAL_PUBLISHED, False),
        case("spec-10.1-one-digit-changed", RECEIPT_LINK, sub, otn, tid, bad, False),
    ]
    for c in cases:
        assert md5_hex(c["string_to_hash"]) == c["check_code"].lower()
        c["expected_check_code"] = md5_hex(c["string_to_hash"])
    for c in negative:
        assert md5_hex(c["string_to_hash"]) != c["check_code"].lower()
        c["expected_check_code"] = md5_hex(c["string_to_hash"])

    def url_case(name, url):
        link, _, query = url.partition("?")
        params = {}
        for part in query.split("&"):
            k, _, v = part.partition("=")
            params[k] = {"raw": v, "decoded": urllib.parse.unquote(v, errors="strict")}
        return {"name": name, "url": url, "configured_link": link,
                "sub_mch_id": params["sub_mch_id"], "out_trade_no": params["out_trade_no"],
                "check_code": params["check_code"]}

    urls = [
        url_case("plain", f"{RECEIPT_LINK}?sub_mch_id={sub}&out_trade_no={otn}&check_code={code}"),
        url_case("percent-encoded-out-trade-no",
                 f"{RECEIPT_LINK}?sub_mch_id={sub}&out_trade_no={pct_otn_raw}&check_code={pct_code}"),
        url_case("official-example",
                 f"{olink}?sub_mch_id={osub}&out_trade_no={ootn}&check_code={RECEIPT_OFFICIAL_PUBLISHED}"),
    ]
    assert urls[1]["out_trade_no"] == {"raw": "ORDER%7C2024", "decoded": "ORDER|2024"}
    write_json("receipt.json", {
        "description": "Merchant receipt page check_code (spec 9.2, 9.3, 10.1). check_code = lower-case hex MD5 of "
                       "the UTF-8 string '<configured_link>?sub_mch_id=<v>&out_trade_no=<v>&transaction_id=<tid>' "
                       "('string_to_hash'), values exactly as they appear in the received URL (raw, NOT "
                       "percent-decoded). expected_check_code(...) must equal 'expected_check_code'; "
                       "verify_check_code(..., check_code) must return 'valid' (comparison is case-insensitive). "
                       "All 'negative' entries must NOT verify; 'official-example-published-value' is the "
                       "illustrative value from the official docs that does not reproduce. 'urls': received "
                       "receipt URLs; a parser must return for each of the three parameters the raw and the "
                       "percent-decoded value, and the configured link (everything before '?').",
        "format_version": FORMAT_VERSION,
        "cases": cases,
        "negative": negative,
        "urls": urls,
    })


# ---------------------------------------------------------------------------
# 9. certificates.json
# ---------------------------------------------------------------------------

CERT_NOW = int(datetime.datetime(2026, 6, 1, tzinfo=UTC).timestamp())
CERT_RESP_NONCE = "7d3f0c9a2b5e4f61a8c7b9d0e1f2a3b4"
CERT_REQUEST_ID = "08C0B2C9B70610B30318C8E4F4AB0420AC2F-0"
WRONG_APIV3_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA987654"
ENTRY_NONCES = {"platform_test_cert.pem": "q8Zr2LmN4pXa", "platform2_test_cert.pem": "Pl4tF0rm2nNc",
                "expired_test_cert.pem": "Exp1r3dC3rt0"}


def cert_entry(cert_file, serial_no, key=APIV3_KEY, drop_nonce=False):
    c = load_cert(cert_file)
    pem = (KEYS / cert_file).read_text(encoding="ascii")
    assert "\r" not in pem
    enc = {"algorithm": "AEAD_AES_256_GCM", "nonce": ENTRY_NONCES[cert_file], "associated_data": "certificate",
           "ciphertext": aead_encrypt(key, ENTRY_NONCES[cert_file], "certificate", pem)}
    if key == APIV3_KEY:
        assert aead_decrypt(APIV3_KEY, enc["nonce"], "certificate", enc["ciphertext"]) == pem
    if drop_nonce:
        del enc["nonce"]
    return {"serial_no": serial_no, "effective_time": rfc3339_cst(c.not_valid_before_utc),
            "expire_time": rfc3339_cst(c.not_valid_after_utc), "encrypt_certificate": enc}


def signed_response(entries, signing_key="platform_test_key.pem"):
    body = json.dumps({"data": entries}, separators=(",", ":"), ensure_ascii=False)
    ts = str(CERT_NOW)
    sig = openssl_sign(signing_key, response_message(ts, CERT_RESP_NONCE, body).encode("utf-8"))
    headers = {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": CERT_RESP_NONCE, "Wechatpay-Serial": PLATFORM_SERIAL,
               "Wechatpay-Signature": sig, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
               "Request-ID": CERT_REQUEST_ID}
    return {"headers": headers, "body": body}


def expect_entry(cert_file):
    c = load_cert(cert_file)
    return {"serial_no": format(c.serial_number, "040X"), "certificate": f"keys/{cert_file}",
            "not_before": rfc3339_utc(c.not_valid_before_utc), "not_after": rfc3339_utc(c.not_valid_after_utc),
            "not_before_unix": int(c.not_valid_before_utc.timestamp()),
            "not_after_unix": int(c.not_valid_after_utc.timestamp())}


def gen_certificates():
    expect_equal("platform cert canonical serial", format(load_cert("platform_test_cert.pem").serial_number, "040X"),
                 PLATFORM_SERIAL)
    expect_equal("platform cert Java-style serial", format(load_cert("platform_test_cert.pem").serial_number, "X"),
                 PLATFORM_SERIAL_NO_LEADING_ZERO)
    expect_equal("platform2 serial", format(load_cert("platform2_test_cert.pem").serial_number, "040X"),
                 PLATFORM2_SERIAL)
    e1 = cert_entry("platform_test_cert.pem", PLATFORM_SERIAL_NO_LEADING_ZERO)
    e2 = cert_entry("platform2_test_cert.pem", PLATFORM2_SERIAL)
    response = signed_response([e1, e2])
    mismatch_serial = "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC"
    negative = [
        {"name": "serial-mismatch-entry-dropped",
         "note": "second entry's serial_no names a different serial than its certificate; that entry is "
                 "discarded, the refresh succeeds with the remaining certificate",
         "response": signed_response([e1, cert_entry("platform2_test_cert.pem", mismatch_serial)]),
         "expect_error": None, "expect_serials": [PLATFORM_SERIAL]},
        {"name": "entry-under-wrong-apiv3-key",
         "note": f"second entry encrypted under {WRONG_APIV3_KEY!r}; the whole refresh aborts",
         "response": signed_response([e1, cert_entry("platform2_test_cert.pem", PLATFORM2_SERIAL,
                                                     key=WRONG_APIV3_KEY)]),
         "expect_error": "decryption"},
        {"name": "entry-missing-nonce",
         "note": "second entry lacks encrypt_certificate.nonce; the whole refresh aborts",
         "response": signed_response([e1, cert_entry("platform2_test_cert.pem", PLATFORM2_SERIAL,
                                                     drop_nonce=True)]),
         "expect_error": "decode"},
        {"name": "only-expired-certificate",
         "note": "the only entry is expired_test_cert (2019-2020); the resulting set is empty. The store is "
                 "pre-seeded with platform_test_cert so the response signature (serial 0ABC...) verifies "
                 "whatever the order of checks; the previous set stays in force",
         "trusted_certificates": ["keys/platform_test_cert.pem"],
         "response": signed_response([cert_entry("expired_test_cert.pem", EXPIRED_SERIAL)]),
         "expect_error": "certificate"},
        {"name": "response-signature-invalid",
         "note": "the ONLY defect is the response signature: body and entries are identical to the positive "
                 "response, Wechatpay-Serial still names platform_test_cert, but the signature was made with "
                 "keys/platform2_test_key.pem; the whole refresh fails",
         "response": signed_response([e1, e2], signing_key="platform2_test_key.pem"),
         "expect_error": "signature_invalid"},
    ]
    write_json("certificates.json", {
        "description": "Platform certificate download GET /v3/certificates (spec 3.1-3.4). Freeze the clock at "
                       "'now' (integer Unix seconds, 2026-06-01T00:00:00Z), start with the certificates in "
                       "'trusted_certificates' (empty = first download), and process 'response' (headers are "
                       "strings; body is the exact raw body) with apiv3_key: decrypt every entry (AES-256-GCM, "
                       "AAD 'certificate'), verify the response signature against trusted + decrypted "
                       "certificates (header serial '0ABC...' vs JSON serial_no 'ABC...' - serials compare "
                       "NUMERICALLY), drop entries whose certificate serial differs from serial_no, drop "
                       "certificates not valid at now. The resulting store must hold exactly 'expect' "
                       "('serial_no' there is the canonical 40-digit upper-case hex; 'certificate' is the PEM the "
                       "entry decrypts to, byte for byte); 'newest_serial' is the certificate selected by spec "
                       "3.4 (largest NotBefore). 'negative': full response variants, each correctly signed by "
                       "keys/platform_test_key.pem (except 'response-signature-invalid', whose only defect is "
                       "its signature); either 'expect_error' (refresh fails, previous set kept) or, "
                       "when expect_error is null, 'expect_serials' = what survives. Optional "
                       "'trusted_certificates' in a negative overrides the top-level one. Paths are relative to "
                       "tests/vectors/. TEST KEYS ONLY.",
        "format_version": FORMAT_VERSION,
        "apiv3_key": APIV3_KEY,
        "now": CERT_NOW,
        "trusted_certificates": [],
        "platform_private_key": "keys/platform_test_key.pem",
        "response": response,
        "expect": [expect_entry("platform_test_cert.pem"), expect_entry("platform2_test_cert.pem")],
        "newest_serial": PLATFORM2_SERIAL,
        "negative": negative,
    })


# ---------------------------------------------------------------------------

def main():
    for tool in ("openssl", "base64", "bash"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            die(f"{tool} not found on PATH")
    try:
        ensure_keys()
        msgs = gen_messages()
        gen_authorization(msgs)
        gen_signing(msgs)
        gen_payments()
        gen_aead()
        gen_notification()
        gen_sensitive()
        gen_receipt()
        gen_certificates()
    except SpecMismatch as e:
        die(f"SPEC VALUE DOES NOT REPRODUCE - not changing it, stopping: {e}")
    print("done; now run: python3 tests/vectors/check_vectors.py")


if __name__ == "__main__":
    main()
