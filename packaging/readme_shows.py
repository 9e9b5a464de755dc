#!/usr/bin/env python3
"""Fails unless README.md shows each given file verbatim in a fenced block (one quick start,
one text: the file is what CI runs, the README block is what users copy)."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
readme = (ROOT / "README.md").read_text(encoding="utf-8")
missing = []
for name in sys.argv[1:]:
    text = (ROOT / name).read_text(encoding="utf-8")
    if f"\n{text}```" not in readme:
        missing.append(name)
if missing:
    sys.exit("README.md does not show these files verbatim: " + ", ".join(missing))
