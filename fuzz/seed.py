#!/usr/bin/env python3
"""Writes the fuzz seeds into fuzz/testdata/<target>/ from the committed tests/vectors (stdlib only).

Each target's input layout is described at the top of its fuzz_targets/<target>.rs; most take a
mode byte first. Run from anywhere: `python3 fuzz/seed.py` (or `bash fuzz/seed.sh`). Existing
seed files are replaced (files named regress-* are kept); files libFuzzer writes go to fuzz/work/, never here.
"""
import base64
import glob
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "tests", "vectors")
MAX_SEED = 64 * 1024


def vec(name):
    with open(os.path.join(VEC, name), encoding="utf-8") as f:
        return f.read()


def der(pem_text):
    body = "".join(l for l in pem_text.splitlines() if l and not l.startswith("-----"))
    return base64.b64decode(body)


def write(target, seeds):
    out = os.path.join(HERE, "testdata", target)
    os.makedirs(out, exist_ok=True)
    # Inputs kept from fuzzing runs (`regress-*`, crashes and false alarms) stay.
    for old in os.listdir(out):
        if not old.startswith("regress-"):
            os.remove(os.path.join(out, old))
    for name, data in seeds:
        data = data.encode() if isinstance(data, str) else data
        assert len(data) < MAX_SEED, (target, name)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds")


keys = {os.path.basename(p): vec(os.path.relpath(p, VEC)) for p in glob.glob(os.path.join(VEC, "keys", "*.pem"))}
certs = [n for n in sorted(keys) if n.endswith("_cert.pem")]

# pem_keys: mode byte 0..9 (see the target).
pem = []
for n in ["merchant_test_key.pem", "merchant_test_key_pkcs1.pem", "merchant_test_key_encrypted.pem", "rsa1024_test_key.pem"]:
    pem.append((f"private-pem-{n}", b"\x00" + keys[n].encode()))
pem.append(("pkcs8-der", b"\x01" + der(keys["merchant_test_key.pem"])))
pem.append(("pkcs1-der", b"\x02" + der(keys["merchant_test_key_pkcs1.pem"])))
pem.append(("pem-block-private", b"\x03PRIVATE KEY\n" + der(keys["merchant_test_key.pem"])))
pem.append(("pem-block-cert", b"\x03CERTIFICATE\n" + der(keys["platform_test_cert.pem"])))
for n in ["wechatpay_test_pubkey.pem", "merchant_test_pubkey.pem"]:
    pem.append((f"public-pem-{n}", b"\x04" + keys[n].encode()))
    pem.append((f"public-der-{n}", b"\x05" + der(keys[n])))
for n in certs:
    pem.append((f"cert-pem-{n}", b"\x06" + keys[n].encode()))
    pem.append((f"cert-der-{n}", b"\x07" + der(keys[n])))
pem.append(("bundle", b"\x08" + "".join(keys[n] for n in certs).encode()))
for s in ["0ABC1234567890ABCDEF1234567890ABCDEF1234", "abc1234", "000", "PUB_KEY_ID_1"]:
    pem.append((f"serial-{s}", b"\x09" + s.encode()))
write("pem_keys", pem)

# certificates_download: 0 + raw body; 1 + structured.
c = json.loads(vec("certificates.json"))
cd = [("response", b"\x00" + c["response"]["body"].encode())]
for neg in c["negative"]:
    cd.append((f"negative-{neg['name']}", b"\x00" + neg["response"]["body"].encode()))
# (b"\xff" * 4 picks the last variant of an `arbitrary` enum: here `Entries`.)
cd.append(("structured-1", b"\x01" + b"\xff" * 4 + bytes(range(96))))
cd.append(("structured-2", b"\x01" + b"\xff" * 4 + b"\x01\x00\x00\x0cabcdefghijkl" + bytes(64)))
write("certificates_download", cd)

# response_verify / notification: the empty input is the genuine message itself.
write("response_verify", [("genuine", b""), ("genuine-certificates", b"\x01"), ("edits", bytes(range(1, 40)))])
write("notification", [("genuine", b""), ("tamper", b"\x00" + bytes(range(1, 40))), ("signed", b"\xff" * 4 + b"EV-1\x00" * 8)])

# receipt_query: url, configured link, transaction_id, check code, one per line.
r = json.loads(vec("receipt.json"))
rq = []
for u in r["urls"]:
    rq.append((f"url-{u['name']}", "\n".join([u["url"], u["configured_link"], "4200000000000000000000000001", u["check_code"]["raw"]])))
for case in r["cases"] + r["negative"]:
    q = f"{case['configured_link']}?sub_mch_id={case['sub_mch_id']}&out_trade_no={case['out_trade_no']}&check_code={case['check_code']}"
    rq.append((f"case-{case['name']}", "\n".join([q, case["configured_link"], case["transaction_id"], case["check_code"]])))
write("receipt_query", rq)

# client_config: 0 + JSON text carrying the planted secrets; 1 + structured.
sweep = json.loads(vec("secret_sweep.json"))
v = sweep["values"]
n = json.loads(vec("notification.json"))
good = {"mchid": "1900000100", "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "private_key": v["private_key_pem"], "apiv3_key": v["apiv3_key"],
        "public_key_id": n["public_key_id"], "public_key": n["public_key_pem"], "mode": "public_key"}
text = json.dumps(good)
cc = [("good", b"\x00" + text.encode()), ("truncated", b"\x00" + text[: len(text) // 2].encode()),
      ("structured", b"\x01" + bytes(range(64)))]
for field in sweep["fields"]:
    if field == "config_path":
        continue
    for name, secret in v.items():
        if name in ("private_key_body_lines",):
            continue
        cfg = dict(good)
        cfg[field] = secret
        cc.append((f"{field}-{name}", b"\x00" + json.dumps(cfg).encode()))
write("client_config", cc[:40])

# error_body: status (2 bytes) + flag + [Request-ID\n] + body; codes from tests/vectors/operations.
codes = set()
for f in glob.glob(os.path.join(VEC, "operations", "*.json")):
    for case in json.load(open(f, encoding="utf-8"))["cases"]:
        err = case.get("error") or {}
        if err.get("code"):
            codes.add(err["code"])
eb = []
for code in sorted(codes):
    body = json.dumps({"code": code, "message": "参数错误", "detail": {"field": "/sub_mchid", "value": "1", "issue": "x", "location": "body"}}, ensure_ascii=False)
    eb.append((f"api-{code}", (400).to_bytes(2, "big") + b"\x01" + b"08C0B2C9B70610B30318C8E4F4AB0420AC2F-0\n" + body.encode()))
eb.append(("not-found", (404).to_bytes(2, "big") + b"\x00" + b'{"code":"ORDER_NOT_EXIST","message":"\\u8ba2\\u5355\\u4e0d\\u5b58\\u5728"}'))
eb.append(("html-502", (502).to_bytes(2, "big") + b"\x00<html><body>Bad Gateway\r\n\x1b[2J\xe2\x80\xae</body></html>"))
eb.append(("empty-429", (429).to_bytes(2, "big") + b"\x00"))
eb.append(("structured", (400).to_bytes(2, "big") + b"\x80" + bytes(range(64))))
write("error_body", eb)

# authorization_header: 0 + header value; 1 + structured fields.
a = json.loads(vec("authorization.json"))
ah = [(f"case-{case['name']}", b"\x00" + case["expected"].encode()) for case in a["cases"]]
ah.append(("reordered", b"\x00" + b'WECHATPAY2-SHA256-RSA2048 signature="AAAA", timestamp="1700000000",serial_no="ABC",nonce_str="n",mchid="1900000100"'))
ah.append(("fields", b"\x01" + b"\xff" * 4 + b"1900000100\x00nonce\x00" + bytes(range(32))))
write("authorization_header", ah)

# multipart_upload: 0 + Content-Type line + body, built as goldplan::media::build_image_upload
# does (an upload the gateway parses; unsigned in this mode); 1 + structured.
png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
meta = json.dumps({"filename": "a.png", "sha256": hashlib.sha256(png).hexdigest()}, separators=(",", ":"))
b = "goldplan-fuzz-boundary"
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n"
        f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{b}--\r\n".encode()
mu = [("upload", b"\x00" + f"multipart/form-data; boundary={b}\n".encode() + body),
      ("upload-no-boundary-param", b"\x00multipart/form-data\n" + body),
      ("structured", b"\x01" + b"bnd\x00" + bytes(range(80)))]
write("multipart_upload", mu)
