#!/usr/bin/env python3
"""One version for every package: prints it, or names each manifest that disagrees and exits 1.

The workspace's `Cargo.toml` (`[workspace.package] version`) is the version; every other
manifest a user installs from must say the same: the crates' path dependencies, the npm
packages (facade, platform addons, lock file), the Maven pom, the PHP extension's
`PHP_GOLDPLAN_VERSION` and the PIE manifest. The Python wheel takes its version from Cargo
(`dynamic = ["version"]`), which is checked too, so that nobody pins one there by accident.
"""

import json
import pathlib
import re
import sys
import tomllib
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent


def read_toml(rel):
    return tomllib.loads((ROOT / rel).read_text(encoding="utf-8"))


def read_json(rel):
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))


def found_versions():
    """(where, version) for every place a version is written."""
    cargo = read_toml("Cargo.toml")
    yield "Cargo.toml [workspace.package] version", cargo["workspace"]["package"]["version"]
    for name, dep in sorted(cargo["workspace"].get("dependencies", {}).items()):
        if isinstance(dep, dict) and "path" in dep:
            yield f"Cargo.toml [workspace.dependencies] {name}", dep.get("version", "(none)")
    for manifest in sorted(ROOT.glob("*/*/Cargo.toml")) + sorted(ROOT.glob("bindings/*/Cargo.toml")):
        rel = manifest.relative_to(ROOT).as_posix()
        package = tomllib.loads(manifest.read_text(encoding="utf-8")).get("package", {})
        version = package.get("version")
        if version is None:
            continue
        if version != {"workspace": True}:
            yield f"{rel} [package] version", version

    node = "bindings/node"
    yield f"{node}/package.json", read_json(f"{node}/package.json")["version"]
    for platform in sorted((ROOT / node / "npm").glob("*/package.json")):
        yield platform.relative_to(ROOT).as_posix(), json.loads(platform.read_text())["version"]
    lock = read_json(f"{node}/package-lock.json")
    yield f"{node}/package-lock.json", lock["version"]
    yield f'{node}/package-lock.json packages[""]', lock["packages"][""]["version"]

    pom = ET.parse(ROOT / "bindings/java/pom.xml").getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    yield "bindings/java/pom.xml <version>", pom.find("m:version", ns).text

    header = (ROOT / "bindings/php/ext/php_goldplan.h").read_text(encoding="utf-8")
    match = re.search(r'#define\s+PHP_GOLDPLAN_VERSION\s+"([^"]*)"', header)
    yield "bindings/php/ext/php_goldplan.h PHP_GOLDPLAN_VERSION", match.group(1) if match else "(none)"
    for composer in ("bindings/php/composer.json", "bindings/php/ext/composer.json"):
        if "version" in read_json(composer):
            yield f"{composer} version", read_json(composer)["version"]

    project = read_toml("bindings/python/pyproject.toml")["project"]
    if "version" in project:
        yield "bindings/python/pyproject.toml [project] version", project["version"]
    elif "version" not in project.get("dynamic", []):
        yield "bindings/python/pyproject.toml", "(neither a version nor dynamic)"


def main():
    found = list(found_versions())
    version = found[0][1]
    wrong = [(where, v) for where, v in found if v != version]
    if wrong:
        print(f"packaging/versions.py: every package must be version {version} (Cargo.toml):", file=sys.stderr)
        for where, v in wrong:
            print(f"  {where}: {v}", file=sys.stderr)
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
