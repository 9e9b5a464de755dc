#!/usr/bin/env python3
"""Scans the trace-level logs of an end-to-end run (`cargo make secret-scan`) for secrets.

Each test process wrote `<pid>.log` (everything it logged at trace level: the client, the
sandbox, the HTTP stack) and `<pid>.secrets.json` (the merchant private key and APIv3 key it
held, and the marker the tests put inside callback resources, which exists in clear text only
after decryption). A log fails when it contains the APIv3 key, a marker, or any 16 consecutive
characters of a line of the private key. The scan also fails when the logs are too thin to
prove anything (no process logged, or nothing was traced).

Usage: scan_secrets.py DIR [MIN_PROCESSES]
"""
import glob
import json
import os
import re
import sys

WINDOW = 16
BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{%d,}" % WINDOW)


def key_windows(pem):
    out = set()
    for line in pem.splitlines():
        line = line.strip()
        if line.startswith("-----"):
            continue
        out.update(line[i : i + WINDOW] for i in range(len(line) - WINDOW + 1))
    return out


def scan(log_path, secrets):
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    problems = []
    for key in [secrets["apiv3_key"]]:
        if key in text:
            problems.append("the APIv3 key")
    for marker in secrets["plaintext_markers"]:
        if marker in text:
            problems.append("decrypted callback plaintext (marker %s)" % marker)
    windows = key_windows(secrets["private_key_pem"])
    for run in BASE64_RUN.findall(text):
        if any(run[i : i + WINDOW] in windows for i in range(len(run) - WINDOW + 1)):
            problems.append("the merchant private key (a run of %d base64 characters)" % len(run))
            break
    traced = text.count(" TRACE ") + text.count(" DEBUG ")
    return problems, traced, text.count("\n")


def main():
    directory = sys.argv[1]
    least = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    failures, processes, traced_total, lines_total = [], 0, 0, 0
    for secrets_path in sorted(glob.glob(os.path.join(directory, "*.secrets.json"))):
        log_path = secrets_path[: -len(".secrets.json")] + ".log"
        with open(secrets_path, encoding="utf-8") as f:
            secrets = json.load(f)
        problems, traced, lines = scan(log_path, secrets)
        processes += 1
        traced_total += traced
        lines_total += lines
        for p in problems:
            failures.append("%s: %s" % (os.path.basename(log_path), p))
    print(
        "secret scan: %d processes, %d log lines (%d at trace or debug level) read"
        % (processes, lines_total, traced_total)
    )
    if processes < least:
        failures.append("only %d processes wrote a log (expected at least %d)" % (processes, least))
    if traced_total == 0:
        failures.append("nothing was logged at trace or debug level: the scan proves nothing")
    for f in failures:
        print("FOUND: " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
