#!/usr/bin/env python3
"""Independent re-check of the goldplan test vectors.

Usage:  python3 tests/vectors/check_vectors.py        (exit status 0 = all good)

This script does NOT import generate.py.  It reads only the JSON files and the
PEM files under tests/vectors/ and re-verifies them along different code paths:

* every RSA signature with the openssl CLI (`openssl dgst -sha256 -verify`),
  and every request signature is re-created with openssl from BOTH the PKCS#8
  and the PKCS#1 key file;
* every OAEP ciphertext is decrypted with `openssl pkeyutl -decrypt`;
* AES-256-GCM with python `cryptography`;
* notification.json and certificates.json are run through small reference
  implementations of spec sections 2, 3.3 and 4.2 written here, and every
  positive/negative outcome (including the error kind) must match;
* certificate fields (serial, validity, subject, key match) are read back with
  `openssl x509`;
* the spec section 10 constants are compared again from a second copy below;
* formatting: UTF-8, 2-space indent, trailing newline, description, format_version 1.
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = Path(__file__).resolve().parent
FAILURES = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


def openssl(args, data=None):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True)


def tmpfile(data):
    fd, p = tempfile.mkstemp(prefix="goldplan-chk-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return p


def ossl_verify(pubkey_path, message_bytes, sig_b64):
    try:
        sig = base64.b64decode(sig_b64, validate=True)
    except ValueError:
        return False
    m, s = tmpfile(message_bytes), tmpfile(sig)
    try:
        r = openssl(["dgst", "-sha256", "-verify", str(pubkey_path), "-signature", s, m])
        return r.returncode == 0 and b"Verified OK" in r.stdout
    finally:
        os.unlink(m)
        os.unlink(s)


def ossl_sign(key_path, message_bytes):
    m = tmpfile(message_bytes)
    try:
        r = openssl(["dgst", "-sha256", "-sign", str(key_path), m])
        assert r.returncode == 0, r.stderr
        return base64.b64encode(r.stdout).decode()
    finally:
        os.unlink(m)


def cert_pubkey_file(cert_path):
    r = openssl(["x509", "-in", str(cert_path), "-noout", "-pubkey"])
    assert r.returncode == 0, r.stderr
    return tmpfile(r.stdout)


def load(name):
    raw = (HERE / name).read_bytes()
    text = raw.decode("utf-8")
    obj = json.loads(text)
    check(text.endswith("\n") and not text.endswith("\n\n"), f"{name}: ends with exactly one newline")
    check(json.dumps(obj, indent=2, ensure_ascii=False) + "\n" == text, f"{name}: 2-space pretty JSON")
    check("\r" not in text, f"{name}: no CR")
    check(isinstance(obj.get("description"), str) and obj["description"], f"{name}: description")
    check(obj.get("format_version") == 1, f"{name}: format_version 1")
    return obj


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ----------------------------------------------------------------------------- keys

def check_keys():
    k = HERE / "keys"
    for f in sorted(k.glob("*.pem")):
        check("test" in f.name, f"keys/{f.name}: name contains 'test'")
    # Keys that suites must refuse: RSA-1024, and the merchant key encrypted with password `test`.
    r = openssl(["pkey", "-in", str(k / "rsa1024_test_key.pem"), "-noout", "-text"])
    check(r.returncode == 0 and b"Private-Key: (1024 bit" in r.stdout, "rsa1024_test_key.pem: RSA-1024")
    enc = k / "merchant_test_key_encrypted.pem"
    check(enc.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
          "merchant_test_key_encrypted.pem: encrypted PKCS#8 label")
    r = openssl(["pkey", "-in", str(enc), "-passin", "pass:test", "-pubout"])
    check(r.returncode == 0 and r.stdout == (k / "merchant_test_pubkey.pem").read_bytes(),
          "merchant_test_key_encrypted.pem: the merchant key under password 'test'")
    expect = {
        "merchant_test_cert.pem": ("3775B6A45ACD588826D15E583A95F5DD12345678", "Jan  1 00:00:00 2024 GMT",
                                   "Jan  1 00:00:00 2034 GMT", "CN = 1900000100", "merchant_test_key.pem"),
        "platform_test_cert.pem": ("0ABC1234567890ABCDEF1234567890ABCDEF1234", "Jan  1 00:00:00 2024 GMT",
                                   "Jan  1 00:00:00 2029 GMT", "CN = Tenpay.com Root CA test", "platform_test_key.pem"),
        "platform2_test_cert.pem": ("5DEA10EF55877E3CF6C33255C2E7DEFFF7E42700", "Jan  1 00:00:00 2026 GMT",
                                    "Jan  1 00:00:00 2031 GMT", None, "platform2_test_key.pem"),
        "expired_test_cert.pem": ("1111", "Jan  1 00:00:00 2019 GMT", "Jan  1 00:00:00 2020 GMT", None,
                                  "platform_test_key.pem"),
    }
    for cert, (serial, nb, na, cn, key) in expect.items():
        r = openssl(["x509", "-in", str(k / cert), "-noout", "-serial", "-startdate", "-enddate", "-subject",
                     "-nameopt", "oneline"])
        out = r.stdout.decode()
        check(f"serial={serial}\n" in out, f"{cert}: serial {serial} ({out.splitlines()[0] if out else r.stderr})")
        check(f"notBefore={nb}" in out and f"notAfter={na}" in out, f"{cert}: validity")
        if cn:
            check(cn in out, f"{cert}: subject {cn}")
        check("O = goldplan test" in out, f"{cert}: O = goldplan test ...")
        p1 = openssl(["x509", "-in", str(k / cert), "-noout", "-pubkey"]).stdout
        p2 = openssl(["pkey", "-in", str(k / key), "-pubout"]).stdout
        check(p1 and p1 == p2, f"{cert}: public key matches {key}")
        check(openssl(["verify", "-CAfile", str(k / cert), "-no_check_time", "-partial_chain",
                       str(k / cert)]).returncode == 0, f"{cert}: self-signed signature verifies")
    for key in ["merchant_test_key.pem", "platform_test_key.pem", "platform2_test_key.pem",
                "wechatpay_test_pubkey_key.pem"]:
        t = (k / key).read_text()
        check(t.startswith("-----BEGIN PRIVATE KEY-----\n"), f"{key}: PKCS#8 PEM")
        r = openssl(["pkey", "-in", str(k / key), "-noout", "-text"])
        check(b"Private-Key: (2048 bit" in r.stdout, f"{key}: RSA-2048")
    check((k / "merchant_test_key_pkcs1.pem").read_text().startswith("-----BEGIN RSA PRIVATE KEY-----\n"),
          "merchant_test_key_pkcs1.pem: PKCS#1 PEM")
    for priv, pub in [("merchant_test_key.pem", "merchant_test_pubkey.pem"),
                      ("merchant_test_key_pkcs1.pem", "merchant_test_pubkey.pem"),
                      ("wechatpay_test_pubkey_key.pem", "wechatpay_test_pubkey.pem")]:
        check(openssl(["pkey", "-in", str(k / priv), "-pubout"]).stdout == (k / pub).read_bytes(),
              f"{pub} is the public half of {priv}")


# ----------------------------------------------------------------------------- messages etc.

SPEC_10_1 = {
    "R1": (174, "a1db82813f19ce0eebd94ccf5cd60d2aae4902dfc134f7be779f5ddcf9c51539"),
    "R2": (193, "411b0950fe1c448b528387d9a162a49d742f975dd9c31ca42795e82aa3670015"),
    "R3": (85, "30d002ecb54c9e509711d87865a72747277a264a805774ff656df6c1a9783e10"),
    "R4": (175, "96fa474b7470a8e17732558fa4a2fa9ae0b6eaacb650f7082957690701a580cf"),
    "V1": (71, "b6359d925d9960918b4b42a99e2269c7bde27faba0b4901bfbf391bb9af3d672"),
    "V2": (45, "262e811caa89ee7411c2e167a1b29758cc7448564f56f1d4c2c99568aae33f47"),
}

# PAYMENTS.md §3.7 and §4: partner JSAPI query (Q1, Q2), close (C1) and prepay (J1) messages.
PAYMENTS_3_7 = {
    "Q1": (146, "3606ce897c7a96874cdc5c980222c2e079a15eb3236dea149e7706711f2819c4"),
    "Q2": (151, "0069954d029391c0c0c3963a1d9992fd89944b05310fc2ae3c2d138c5437579e"),
    "C1": (162, "2d8ad4936c552a25fe1551fc5622c5c15ab7e7aca9b4761ca5c8b99354fcfe26"),
    "J1": (423, "92d52f31c7619bf9ac44a8ddcc206a9bac7221505a6455a054fcd261f5aaad40"),
}

# PAYMENTS.md §2.5: the pay-sign message and its two classic mistakes.
PAYMENTS_2_5 = {
    "P1": (110, "b60877e94d724c4c3bb0692b9cd978842244e4a178563f071a9a365e9c7ea36d"),
    "P1-ms": (113, "a92f142b42f379cef94643844c1d129dfeaaad8f215cf6edab74e363b9d0f63d"),
    "P1-nl": (109, "6473bf94dfe7848bfb3f453a7d5a5d22c1a8110691418ec84fabac2fa8b405e5"),
}


def check_payments():
    p = load("payments.json")
    cases = {c["name"]: c for c in p["cases"]}
    check(set(cases) == {"P1"}, "payments: P1")
    for c in p["cases"]:
        check(c["package"] == "prepay_id=" + c["prepay_id"], f"payments {c['name']}: package is prepay_id=<id>")
        msg = "\n".join([c["app_id"], c["time_stamp"], c["nonce_str"], c["package"]]) + "\n"
        b = msg.encode("utf-8")
        check(msg == c["message"], f"payments {c['name']}: message rebuilt from fields")
        check((len(b), sha(b)) == (c["len"], c["sha256"]) == PAYMENTS_2_5[c["name"]],
              f"payments {c['name']}: len/sha256 equal PAYMENTS 2.5")
    for n in p["negative"]:
        b = n["message"].encode("utf-8")
        check((len(b), sha(b)) == (n["len"], n["sha256"]) == PAYMENTS_2_5[n["name"]],
              f"payments {n['name']}: len/sha256 equal PAYMENTS 2.5")
        check(n["message"] != cases["P1"]["message"], f"payments {n['name']}: never equals P1")


def check_messages():
    m = load("messages.json")
    names = [c["name"] for c in m["cases"]]
    for n in list(SPEC_10_1) + list(PAYMENTS_3_7):
        check(n in names, f"messages: has {n}")
    for c in m["cases"]:
        if c["kind"] == "request":
            msg = "\n".join([c["method"], c["canonical_url"], c["timestamp"], c["nonce"], c["body"]]) + "\n"
            u = urllib.parse.urlsplit(c["url"])
            check(u.path + ("?" + u.query if u.query else "") == c["canonical_url"],
                  f"messages {c['name']}: canonical_url derives from url")
        else:
            msg = "\n".join([c["timestamp"], c["nonce"], c["body"]]) + "\n"
        b = msg.encode("utf-8")
        check(msg == c["message"], f"messages {c['name']}: message rebuilt from fields")
        check(len(b) == c["len"] and sha(b) == c["sha256"], f"messages {c['name']}: len/sha256")
        if c["name"] in SPEC_10_1:
            check((c["len"], c["sha256"]) == SPEC_10_1[c["name"]], f"messages {c['name']}: equals spec 10.1")
        if c["name"] in PAYMENTS_3_7:
            check((c["len"], c["sha256"]) == PAYMENTS_3_7[c["name"]], f"messages {c['name']}: equals PAYMENTS 3.7")
        check(c["timestamp"].isdigit(), f"messages {c['name']}: timestamp is a digit string")
    g = [c for c in m["cases"] if c["body"].endswith("\n")]
    check(g and all(c["message"].endswith("\n\n") for c in g), "messages: a body ending in \\n gives \\n\\n")
    return {c["name"]: c for c in m["cases"]}


def check_authorization(msgs):
    a = load("authorization.json")
    spec = ('WECHATPAY2-SHA256-RSA2048 mchid="1900000100",nonce_str="C5vqhMqqR1fVbn2Hqk6K9Uw4tPZ3mJ8e",'
            'timestamp="1700000000",serial_no="3775B6A45ACD588826D15E583A95F5DD12345678",signature="SIG"')
    check(a["cases"][0]["expected"] == spec, "authorization: spec 10.1 placeholder header verbatim")
    for c in a["cases"]:
        h = (f'WECHATPAY2-SHA256-RSA2048 mchid="{c["mchid"]}",nonce_str="{c["nonce"]}",timestamp="{c["timestamp"]}",'
             f'serial_no="{c["serial_no"]}",signature="{c["signature"]}"')
        check(h == c["expected"], f"authorization {c['name']}: header assembly")
        check(c["message"] == msgs["R1"]["message"], f"authorization {c['name']}: message is R1")
        if c["signature"] != "SIG":
            check(ossl_verify(HERE / "keys/merchant_test_pubkey.pem", c["message"].encode(), c["signature"]),
                  f"authorization {c['name']}: openssl verifies signature")
            check(ossl_sign(HERE / a["private_key"], c["message"].encode()) == c["signature"],
                  f"authorization {c['name']}: openssl re-sign reproduces signature")


def check_signing(msgs):
    s = load("signing.json")
    cert_pub = cert_pubkey_file(HERE / s["certificate"])
    r = openssl(["x509", "-in", str(HERE / s["certificate"]), "-noout", "-serial"])
    check(r.stdout.decode().strip() == "serial=" + s["serial_no"], "signing: serial_no matches certificate")
    want = {"R1", "R2", "R3", "R4", "V1", "V2", "empty", "utf8-body", "body-trailing-newline", "P1"}
    check(want <= {c["name"] for c in s["cases"]}, "signing: all required cases present")
    try:
        for c in s["cases"]:
            b = c["message"].encode("utf-8")
            check(sha(b) == c["sha256"], f"signing {c['name']}: sha256")
            check(len(base64.b64decode(c["signature"], validate=True)) == 256 and "\n" not in c["signature"],
                  f"signing {c['name']}: 256-byte single-line base64 signature")
            check(ossl_verify(HERE / s["public_key"], b, c["signature"]), f"signing {c['name']}: verify pubkey")
            check(ossl_verify(cert_pub, b, c["signature"]), f"signing {c['name']}: verify certificate key")
            check(ossl_sign(HERE / s["key_pkcs8"], b) == c["signature"], f"signing {c['name']}: re-sign PKCS#8")
            check(ossl_sign(HERE / s["key_pkcs1"], b) == c["signature"], f"signing {c['name']}: re-sign PKCS#1")
            check(not ossl_verify(HERE / s["public_key"], b + b"x", c["signature"]),
                  f"signing {c['name']}: altered message rejected")
            if c["name"] in msgs:
                check(c["message"] == msgs[c["name"]]["message"], f"signing {c['name']}: same as messages.json")
        by = {c["name"]: c for c in s["cases"]}
        check(by["empty"]["message"] == "", "signing: empty message")
        check(by["body-trailing-newline"]["message"].endswith("\n\n"), "signing: message ends \\n\\n")
        check(len(by["utf8-body"]["message"].encode()) > len(by["utf8-body"]["message"]), "signing: multi-byte")
        p1 = load("payments.json")["cases"][0]
        check(by["P1"]["message"] == p1["message"], "signing: P1 is the pay-sign message of payments.json")
        check(len(by["P1"]["signature"]) == 344, "signing: P1 paySign is 344 base64 characters")
    finally:
        os.unlink(cert_pub)


SPEC_AEAD = {
    "A1": ("certificate", "abcdef012345", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
           "h7DmG2QqbSCZ/bYlraEx1h/UHIh3j7ZZMZDt8kgTiniMtIwCifO5j9vA3UBJmBcIbkG+clyAx7daAoRgrqbDvZtYuZ4emKsdJJM="),
    "A2": ("transaction", "0a1b2c3d4e5f", '{"sub_mchid":"1900000109","result":"成功"}',
           "nHlysLtcEOKsVpXcDqYPTxD2atyTM92bSVKQD7mKrxJWXpmhGoLLayNpM0S9G18dD0lKlTbinsjsE/Cv"),
    "A3": ("", "ZZZZZZZZZZZZ", "{}", "pPBOJyBkQjBguQi9FFb6swNS"),
}


def gcm_open(key, nonce, ad, ct_b64):
    """Reference AEAD_AES_256_GCM open. Raises ValueError('decryption'|'decode')."""
    k = key.encode()
    if len(k) != 32:
        raise ValueError("config")
    try:
        raw = base64.b64decode(ct_b64, validate=True)
    except ValueError:
        raise ValueError("decode")
    if len(raw) < 16 or len(nonce.encode()) != 12:
        raise ValueError("decryption")
    try:
        return AESGCM(k).decrypt(nonce.encode(), raw, ad.encode()).decode("utf-8")
    except InvalidTag:
        raise ValueError("decryption")


def check_aead():
    a = load("aead.json")
    check(a["key"] == "0123456789abcdefghijklmnopqrstuv", "aead: key")
    for c in a["cases"]:
        check(SPEC_AEAD[c["name"]] == (c["associated_data"], c["nonce"], c["plaintext"], c["ciphertext"]),
              f"aead {c['name']}: equals spec 10.2")
        check(gcm_open(a["key"], c["nonce"], c["associated_data"], c["ciphertext"]) == c["plaintext"],
              f"aead {c['name']}: decrypts")
        enc = base64.b64encode(AESGCM(a["key"].encode()).encrypt(
            c["nonce"].encode(), c["plaintext"].encode(), c["associated_data"].encode())).decode()
        check(enc == c["ciphertext"], f"aead {c['name']}: encrypts")
    for n in a["negative"]:
        try:
            gcm_open(n.get("key", a["key"]), n["nonce"], n["associated_data"], n["ciphertext"])
            err = None
        except ValueError as e:
            err = str(e)
        check(err == n["expect_error"] == "decryption", f"aead negative {n['name']}: {err}")
    names = {n["name"] for n in a["negative"]}
    check(len(names) == 5, "aead: five negatives")


# ----------------------------------------------------------------------------- notification

class VErr(Exception):
    pass


def ref_verify(headers, body, now, keys, skew=300):
    """Reference of spec 2.1-2.7 / 4.2 step 3. keys: serial -> public key PEM path."""
    h = {k.lower(): v.strip() for k, v in headers.items()}
    st = h.get("wechatpay-signature-type")
    if st is not None and st != "WECHATPAY2-SHA256-RSA2048":
        raise VErr("unsupported_signature_type")
    for need in ("wechatpay-signature", "wechatpay-serial", "wechatpay-nonce", "wechatpay-timestamp"):
        if need not in h:
            raise VErr("missing_header")
    ts = h["wechatpay-timestamp"]
    if not ts.isdigit():
        raise VErr("signature_invalid")
    if abs(now - int(ts)) >= skew:
        raise VErr("clock_skew")
    serial = h["wechatpay-serial"]
    key = None
    if serial.startswith("PUB_KEY_ID_"):
        key = keys.get(serial)
    else:
        for s, p in keys.items():
            if not s.startswith("PUB_KEY_ID_") and int(s, 16) == int(serial, 16):
                key = p
    if key is None:
        raise VErr("unknown_serial")
    sig = h["wechatpay-signature"]
    ok = ossl_verify(key, f"{ts}\n{h['wechatpay-nonce']}\n{body}\n".encode("utf-8"), sig)
    if not ok:
        raise VErr("signature_probe" if sig.startswith("WECHATPAY/SIGNTEST/") else "signature_invalid")


def check_notification():
    n = load("notification.json")
    pub = tmpfile(n["public_key_pem"].encode())
    keys = {n["public_key_id"]: pub}
    try:
        names = {c["name"] for c in n["cases"]}
        check({"N1", "N2", "N1-lowercase-headers", "N1-skew-299"} <= names, "notification: required positives")
        check(len(n["cases"][0]["body"].encode()) == 480 and sha(n["cases"][0]["body"].encode()) ==
              "549d0d324d868926cb3af24a0116ff8a476045addfebd8ad547363c346d2dedd", "notification: N1 body per spec")
        for c in n["cases"]:
            try:
                ref_verify(c["headers"], c["body"], c["now"], keys)
                ok = True
            except VErr as e:
                ok = False
                print("   ", c["name"], e)
            check(ok and c["expect"]["valid"] is True, f"notification {c['name']}: valid")
            if c["kind"] == "notification":
                env = json.loads(c["body"])
                r = env["resource"]
                pt = gcm_open(n["apiv3_key"], r["nonce"], r.get("associated_data") or "", r["ciphertext"])
                e = c["expect"]
                check(pt == e["plaintext"] and json.loads(pt)["trade_state"] == "SUCCESS",
                      f"notification {c['name']}: plaintext")
                for f in ("id", "event_type", "resource_type", "summary", "create_time"):
                    check(env[f] == e[f], f"notification {c['name']}: {f}")
            else:
                check(c["body"] == "" and "plaintext" not in c["expect"], f"notification {c['name']}: empty body")
        kinds = set()
        for c in n["negative"]:
            err = None
            try:
                ref_verify(c["headers"], c["body"], c["now"], keys)
                env = json.loads(c["body"])
                r = env["resource"]
                gcm_open(c.get("apiv3_key", n["apiv3_key"]), r["nonce"], r.get("associated_data") or "",
                         r["ciphertext"])
            except VErr as e:
                err = str(e)
            except ValueError as e:
                err = str(e)
            kinds.add(err)
            check(err == c["expect_error"], f"notification negative {c['name']}: got {err}, want {c['expect_error']}")
            check({"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"} <= set(c["headers"]),
                  f"notification negative {c['name']}: complete headers")
        check({"clock_skew", "signature_invalid", "unknown_serial", "signature_probe", "missing_header",
               "unsupported_signature_type"} <= kinds, "notification: all negative kinds covered")
    finally:
        os.unlink(pub)


# ----------------------------------------------------------------------------- sensitive / receipt

def check_sensitive():
    s = load("sensitive.json")
    check(s["max_plaintext_len"] == 214, "sensitive: max 214")
    pts = {c["plaintext"] for c in s["cases"]}
    check({"hello world", "张三"} <= pts and any(len(p.encode()) == 214 and p.isascii() for p in pts),
          "sensitive: required plaintexts")
    for c in s["cases"]:
        ct = tmpfile(base64.b64decode(c["ciphertext"], validate=True))
        try:
            r = openssl(["pkeyutl", "-decrypt", "-inkey", str(HERE / s["private_key"]), "-in", ct,
                         "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1",
                         "-pkeyopt", "rsa_mgf1_md:sha1"])
            check(r.returncode == 0 and r.stdout == c["plaintext"].encode("utf-8"),
                  f"sensitive {c['name']}: openssl OAEP-SHA1 decrypts")
            r2 = openssl(["pkeyutl", "-decrypt", "-inkey", str(HERE / s["private_key"]), "-in", ct,
                          "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256"])
            check(r2.returncode != 0 or r2.stdout != c["plaintext"].encode(),
                  f"sensitive {c['name']}: not decryptable as OAEP-SHA256")
            check(c["plaintext_len"] == len(c["plaintext"].encode()), f"sensitive {c['name']}: plaintext_len")
        finally:
            os.unlink(ct)


def check_receipt():
    r = load("receipt.json")
    by = {c["name"]: c for c in r["cases"]}
    check(by["spec-10.1"]["check_code"] == "8c2fe08dc57b4b5cffe714643e97a278", "receipt: spec 10.1 value")
    check(by["official-example-reproducing"]["check_code"] == "1a56f1432c02f2bc0e2d3001424432d7",
          "receipt: official reproducing value")
    for c in r["cases"] + r["negative"]:
        s = (f"{c['configured_link']}?sub_mch_id={c['sub_mch_id']}&out_trade_no={c['out_trade_no']}"
             f"&transaction_id={c['transaction_id']}")
        md5 = hashlib.md5(s.encode()).hexdigest()
        check(s == c["string_to_hash"] and md5 == c["expected_check_code"], f"receipt {c['name']}: md5")
        check((md5 == c["check_code"].lower()) == c["valid"], f"receipt {c['name']}: valid={c['valid']}")
    check(any(c["check_code"] == "39f0876dd58e4eb61b66250f69d02705" for c in r["negative"]),
          "receipt: official published value is negative")
    check(any(c["check_code"].isupper() or c["check_code"] != c["check_code"].lower() for c in r["cases"]),
          "receipt: upper-case case")
    for u in r["urls"]:
        link, q = u["url"].split("?", 1)
        check(link == u["configured_link"], f"receipt url {u['name']}: link")
        got = {}
        for part in q.split("&"):
            k, v = part.split("=", 1)
            got[k] = {"raw": v, "decoded": urllib.parse.unquote(v)}
        for k in ("sub_mch_id", "out_trade_no", "check_code"):
            check(got[k] == u[k], f"receipt url {u['name']}: {k}")
    check(any(u["out_trade_no"] == {"raw": "ORDER%7C2024", "decoded": "ORDER|2024"} for u in r["urls"]),
          "receipt: percent-encoded url")


# ----------------------------------------------------------------------------- certificates

def x509_fields(pem_bytes):
    p = tmpfile(pem_bytes)
    try:
        r = openssl(["x509", "-in", p, "-noout", "-serial", "-startdate", "-enddate"])
        if r.returncode != 0:
            raise ValueError("certificate")
        out = dict(line.split("=", 1) for line in r.stdout.decode().splitlines())
        nb = int(subprocess.run(["date", "-u", "-d", out["notBefore"], "+%s"], capture_output=True).stdout)
        na = int(subprocess.run(["date", "-u", "-d", out["notAfter"], "+%s"], capture_output=True).stdout)
        return int(out["serial"], 16), nb, na
    finally:
        os.unlink(p)


def ref_refresh(resp, apiv3_key, now, trusted_paths):
    """Reference of spec 3.3 rules 1-5. Returns {serial_int: pem}. Raises VErr(kind)."""
    try:
        data = json.loads(resp["body"])["data"]
    except (ValueError, KeyError):
        raise VErr("decode")
    decrypted = []
    for e in data:
        try:
            ec = e["encrypt_certificate"]
            fields = (e["serial_no"], e["effective_time"], e["expire_time"], ec["algorithm"], ec["nonce"],
                      ec["associated_data"], ec["ciphertext"])
        except (KeyError, TypeError):
            raise VErr("decode")
        if ec["algorithm"] != "AEAD_AES_256_GCM":
            raise VErr("decode")
        try:
            pem = gcm_open(apiv3_key, ec["nonce"], ec["associated_data"] or "", ec["ciphertext"])
        except ValueError as x:
            raise VErr(str(x))
        decrypted.append((e["serial_no"], pem))
    # rule 2: signature against trusted + decrypted (keyed by the certificates' own serials)
    keyfiles = {}
    cleanup = []
    try:
        for p in trusted_paths:
            s, _, _ = x509_fields((HERE / p).read_bytes())
            keyfiles[format(s, "X")] = cert_pubkey_file(HERE / p)
            cleanup.append(keyfiles[format(s, "X")])
        for _, pem in decrypted:
            s, _, _ = x509_fields(pem.encode())
            pf = tmpfile(pem.encode())
            cleanup.append(pf)
            keyfiles[format(s, "X")] = cert_pubkey_file(pf)
            cleanup.append(keyfiles[format(s, "X")])
        ref_verify(resp["headers"], resp["body"], now, keyfiles)
    finally:
        for f in cleanup:
            os.unlink(f)
    store = {}
    for serial_no, pem in decrypted:
        s, nb, na = x509_fields(pem.encode())
        if s != int(serial_no, 16):
            continue
        if not (nb - 300 <= now <= na + 300):
            continue
        store[s] = pem
    if not store:
        raise VErr("certificate")
    return store


def check_certificates():
    c = load("certificates.json")
    check(c["now"] == 1780272000, "certificates: now = 2026-06-01T00:00:00Z")
    h = c["response"]["headers"]
    check(h["Wechatpay-Timestamp"] == str(c["now"]) and h["Wechatpay-Serial"] ==
          "0ABC1234567890ABCDEF1234567890ABCDEF1234", "certificates: headers")
    body = json.loads(c["response"]["body"])
    check(json.dumps(body, separators=(",", ":"), ensure_ascii=False) == c["response"]["body"],
          "certificates: compact body")
    check(body["data"][0]["serial_no"] == "ABC1234567890ABCDEF1234567890ABCDEF1234",
          "certificates: first serial_no without leading zero")
    for e in body["data"]:
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", e["effective_time"]) is not None
              and e["expire_time"].endswith("+08:00"), "certificates: +08:00 times")
        check(len(e["encrypt_certificate"]["nonce"]) == 12, "certificates: 12-char nonce")
    check(ossl_verify(cert_pub_tmp("keys/platform_test_cert.pem"),
                      f"{h['Wechatpay-Timestamp']}\n{h['Wechatpay-Nonce']}\n{c['response']['body']}\n".encode(),
                      h["Wechatpay-Signature"]), "certificates: openssl verifies response signature")
    store = ref_refresh(c["response"], c["apiv3_key"], c["now"], c["trusted_certificates"])
    want = {int(e["serial_no"], 16): e for e in c["expect"]}
    check(set(store) == set(want), "certificates: resulting serial set")
    for s, e in want.items():
        check(store.get(s) == (HERE / e["certificate"]).read_text(), f"certificates: {e['serial_no']} PEM bytes")
        _, nb, na = x509_fields((HERE / e["certificate"]).read_bytes())
        check((nb, na) == (e["not_before_unix"], e["not_after_unix"]), f"certificates: {e['serial_no']} validity")
        check(len(e["serial_no"]) == 40 and e["serial_no"] == e["serial_no"].upper(), "certificates: canonical")
    newest = max(want.values(), key=lambda e: (e["not_before_unix"], e["not_after_unix"]))
    check(newest["serial_no"] == c["newest_serial"], "certificates: newest_serial")
    for n in c["negative"]:
        trusted = n.get("trusted_certificates", c["trusted_certificates"])
        try:
            got = ref_refresh(n["response"], c["apiv3_key"], c["now"], trusted)
            err = None
        except VErr as x:
            err, got = str(x), None
        check(err == n["expect_error"], f"certificates negative {n['name']}: got {err}, want {n['expect_error']}")
        if n["expect_error"] is None:
            check({int(s, 16) for s in n["expect_serials"]} == set(got or {}),
                  f"certificates negative {n['name']}: surviving serials")
        if n["name"] != "response-signature-invalid":
            hh = n["response"]["headers"]
            check(ossl_verify(cert_pub_tmp("keys/platform_test_cert.pem"),
                              f"{hh['Wechatpay-Timestamp']}\n{hh['Wechatpay-Nonce']}\n{n['response']['body']}\n"
                              .encode(), hh["Wechatpay-Signature"]),
                  f"certificates negative {n['name']}: signed by platform_test_key")


_PUBS = {}


def cert_pub_tmp(rel):
    if rel not in _PUBS:
        _PUBS[rel] = cert_pubkey_file(HERE / rel)
    return _PUBS[rel]


def main():
    check_keys()
    msgs = check_messages()
    check_payments()
    check_authorization(msgs)
    check_signing(msgs)
    check_aead()
    check_notification()
    check_sensitive()
    check_receipt()
    check_certificates()
    for p in _PUBS.values():
        os.unlink(p)
    print(f"{CHECKS[0]} checks, {len(FAILURES)} failures")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
