#!/usr/bin/env python3
"""Per-call cost of every language surface, end to end, beside the physical limit.

Everything runs as a user would run it: the sandbox in its own process (public-key mode, its
state directory on tmpfs so that its fsyncs do not turn the figures into a disk benchmark),
each client in another process, over a real loopback socket. For each surface:

* CPU per call: the client process's CPU time (user + system, all threads, measured from
  outside with getrusage) for N calls, minus the same process making 0 calls (start-up, key
  parsing, first connection), divided by N;
* of that CPU, the kernel's share (system time), and the context switches per call;
* wall time per sequential call, and calls/s with 16 calls in flight;
* the ratio of CPU per call to the limit: one RSA-2048 signature plus one verification,
  each timed over many iterations of a tight loop (`cost_client limit`), measured in the same
  run on the same machine;
* the ratio to the floor, the first row: the same calls made with nothing but the RSA work and
  a blocking socket (`cost_client floor`: the sans-IO core signs, literal HTTP/1.1 bytes on one
  kept-alive connection, the answer's signature verified; no runtime, no HTTP client, no JSON).
  It is the cheapest a real call can be here, so `x floor` is what a surface adds to a call.

Both ratios are taken round by round, against the limit and the floor of the same round, and
the median is shown.

    python bench/cost.py [--calls 2000] [--inflight 16] [--rounds 3] [--only NAME]
    python bench/cost.py --instructions [--calls 200] [--only NAME]
    python bench/cost.py ... --baseline-python OTHER_VENV/bin/python --baseline-lib OTHER/release

`--baseline-python` / `--baseline-lib` add rows "(baseline)" for the Python surfaces under
another interpreter (a venv holding another build of goldplan) and for the C surface over
another libgoldplan.so: before/after figures of a change, in one run, alternating with the rest.

`--instructions` counts instead of timing: each surface's sequential calls run under valgrind's
callgrind, and the instructions per call (N calls minus 0 calls, over N, user space of the whole
process) are set beside the instructions of one sign plus one verify. The count does not move
with the load of a shared machine; it leaves out the kernel (system calls, context switches),
which the timed table includes.

It builds (release) the sandbox, the Rust cost client, libgoldplan.so and the Node addon, and
compiles the C cost client. Rounds alternate between surfaces, so that a change of load on the
machine touches every row alike. Before measuring, every surface must refuse a response whose
signature does not verify (the sandbox injects one), so no row is a client that skips it.
Surfaces whose prerequisites are missing are skipped with a note:

* Python: goldplan built in release mode into the running interpreter's environment
  (`cd bindings/python && maturin develop --release`);
* C: a C compiler (`cc`);
* Node: `node`; the addon is target/release/libgoldplan_node.so, or GOLDPLAN_NODE_ADDON;
* PHP: `php` with curl (Debian php8.2-curl) for the plain-PHP client; the extension from
  GOLDPLAN_PHP_EXT (a goldplan.so built against the release libgoldplan, see bench/README.md);
  the FFI package from GOLDPLAN_PHP_PACKAGE (default bindings/php) over GOLDPLAN_LIBRARY
  (default target/release/libgoldplan.so). PHP has no threads: its "in flight" figure is K
  PHP processes side by side (like K PHP-FPM workers), each with its own client.

No figure here uses a mocked transport.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Dict, List, NamedTuple, Optional, Tuple

REPO = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


RELEASE = TARGET / "release"
C_CLIENT = RELEASE / "bench" / "cost_client_c"
NODE_ADDON = RELEASE / "bench" / "goldplan.linux-x64-gnu.node"


def build() -> None:
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", "goldplan-sandbox", "--bin",
         "goldplan-sandbox", "-p", "goldplan-e2e", "--example", "cost_client"],
        cwd=REPO, check=True,
    )
    # Separate invocations: built together with the sandbox, the libraries would get the
    # sandbox's feature set (cargo unifies features across the packages of one build), and the
    # figures are meant for the libraries users get (bindings/c/install.sh builds the same).
    for package in ("goldplan-c", "goldplan-node"):
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", package], cwd=REPO,
                       check=True)


def prepare(notes: List[str]) -> None:
    """The steps that are not cargo's: cheap, so they run with --no-build too."""
    (RELEASE / "bench").mkdir(exist_ok=True)
    addon = RELEASE / "libgoldplan_node.so"
    if addon.exists():
        # `napi build` copies the cdylib under a .node name; Node only dlopens that extension.
        shutil.copyfile(addon, NODE_ADDON)
    cc = shutil.which("cc")
    if cc is None:
        notes.append("C surface skipped: no C compiler (`cc`) to build bench/c/cost_client.c")
    elif not (RELEASE / "libgoldplan.so").exists():
        notes.append(f"C surface skipped: no {RELEASE / 'libgoldplan.so'} (cargo build --release "
                     "-p goldplan-c)")
    else:
        subprocess.run(
            [cc, "-O2", "-Wall", "-Wextra", "-std=c11", "-o", str(C_CLIENT),
             str(REPO / "bench" / "c" / "cost_client.c"), "-I", str(REPO / "bindings" / "c" /
             "include"), "-L", str(RELEASE), "-lgoldplan", "-lpthread",
             # RUNPATH, not RPATH: LD_LIBRARY_PATH must win for the --baseline-lib row.
             "-Wl,--enable-new-dtags", f"-Wl,-rpath,{RELEASE}"],
            check=True,
        )


class SandboxProcess:
    def __init__(self) -> None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.dir = tempfile.mkdtemp(prefix="goldplan-cost-", dir=base)
        self.proc = subprocess.Popen(
            [str(TARGET / "release" / "goldplan-sandbox"), "--state-dir", self.dir,
             "--mode", "public_key"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        self.config = os.path.join(self.dir, "sandbox.json")
        deadline = time.time() + 30
        while not os.path.exists(self.config) and time.time() < deadline:
            time.sleep(0.05)
        with open(self.config, encoding="utf-8") as f:
            self.admin_url = json.load(f)["admin_url"]

    def admin(self, method: str, path: str, body: Optional[dict] = None) -> None:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as answer:
            answer.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


FLOOR = "floor: sans-IO sign + blocking socket + verify"


class Surface(NamedTuple):
    cmd: List[str]
    env: Optional[Dict[str, str]] = None
    # Only sequential calls (the floor): no in-flight figure.
    sequential_only: bool = False


def children_usage() -> Tuple[float, float, int]:
    """CPU seconds (user + system), of which system, and context switches (voluntary +
    involuntary) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime, usage.ru_stime,
            usage.ru_nvcsw + usage.ru_nivcsw)


def measure(surface: Surface, extra: List[str]) -> Dict[str, float]:
    """Runs one client process; returns its JSON output plus its CPU seconds."""
    env = None if surface.env is None else {**os.environ, **surface.env}
    cpu_before, sys_before, switches_before = children_usage()
    done = subprocess.run(surface.cmd + extra, cwd=REPO, env=env, capture_output=True, text=True)
    cpu_after, sys_after, switches_after = children_usage()
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(surface.cmd + extra)} failed ({done.returncode}):\n"
                           f"{done.stderr.strip()}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["cpu_s"] = cpu_after - cpu_before
    result["sys_s"] = sys_after - sys_before
    result["switches"] = switches_after - switches_before
    return result


def run_once(surface: Surface) -> subprocess.CompletedProcess:
    env = None if surface.env is None else {**os.environ, **surface.env}
    return subprocess.run(surface.cmd + ["--calls", "0"], cwd=REPO, env=env,
                          capture_output=True, text=True)


def check(sandbox: SandboxProcess, surface: Surface) -> Optional[str]:
    """None when the surface makes its warm-up call and refuses a bad response signature;
    else why not."""
    healthy = run_once(surface)
    if healthy.returncode != 0:
        lines = healthy.stderr.strip().splitlines() or ["(no output)"]
        return f"its 0-call run failed: {lines[-1]}"
    sandbox.admin("POST", "/faults", {"kind": "bad_signature"})
    try:
        if run_once(surface).returncode == 0:
            return "it accepted a response whose signature does not verify"
    finally:
        sandbox.admin("DELETE", "/faults")
    return None


def python_has(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, text=True)
    return probe.returncode == 0


def python_with_goldplan() -> Optional[str]:
    probe = subprocess.run(
        [sys.executable, "-c", "import goldplan"], capture_output=True, text=True
    )
    return sys.executable if probe.returncode == 0 else None


def php_has(php: str, flags: List[str], extension: str) -> bool:
    probe = subprocess.run(
        [php, *flags, "-r", f"exit(extension_loaded('{extension}') ? 0 : 1);"],
        capture_output=True, text=True,
    )
    return probe.returncode == 0


def php_surfaces(config: str, notes: List[str]) -> Dict[str, Surface]:
    php = shutil.which("php")
    if php is None:
        notes.append("PHP surfaces skipped: no `php` on PATH (Debian php-cli)")
        return {}
    script = [str(REPO / "bench" / "php" / "cost_php.php"), "--config", config]
    found: Dict[str, Surface] = {}
    ext = os.environ.get("GOLDPLAN_PHP_EXT")
    if not ext or not os.path.isfile(ext):
        notes.append("PHP extension skipped: set GOLDPLAN_PHP_EXT to a goldplan.so built "
                     "against the release libgoldplan (bench/README.md)")
    elif not php_has(php, ["-d", f"extension={ext}"], "goldplan"):
        notes.append(f"PHP extension skipped: php cannot load {ext}")
    else:
        found["PHP extension"] = Surface([php, "-d", f"extension={ext}"] + script +
                                         ["--door", "ext"])
        ldd = subprocess.run(["ldd", ext], capture_output=True, text=True).stdout
        linked = next((line.split("=>")[1].split("(")[0].strip() for line in ldd.splitlines()
                       if "libgoldplan.so" in line and "=>" in line), "?")
        notes.append(f"PHP extension: {ext}, linked to {linked}")
    package = pathlib.Path(os.environ.get("GOLDPLAN_PHP_PACKAGE", REPO / "bindings" / "php"))
    library = os.environ.get("GOLDPLAN_LIBRARY", str(RELEASE / "libgoldplan.so"))
    if not (package / "src").is_dir():
        notes.append(f"PHP FFI package skipped: no {package / 'src'} (set GOLDPLAN_PHP_PACKAGE)")
    elif not php_has(php, [], "ffi"):
        notes.append("PHP FFI package skipped: php has no FFI extension")
    elif not os.path.isfile(library):
        notes.append(f"PHP FFI package skipped: no {library} (set GOLDPLAN_LIBRARY)")
    else:
        found["PHP FFI package"] = Surface(
            [php, "-d", "ffi.enable=1"] + script + ["--door", "ffi"],
            {"GOLDPLAN_PHP_PACKAGE": str(package), "GOLDPLAN_LIBRARY": library},
        )
        notes.append(f"PHP FFI package: {package} over {library}")
    if php_has(php, [], "curl"):
        found["plain PHP (openssl + curl)"] = Surface([php] + script + ["--door", "plain"])
    else:
        notes.append("plain-PHP client skipped: php has no curl (Debian php8.2-curl)")
    return found


def baseline_surfaces(config: str, python: Optional[str], library: Optional[str],
                      notes: List[str]) -> Dict[str, Surface]:
    """The same clients over another build (an older commit, say), measured in the same run:
    the Python surfaces under another interpreter (a venv with that build of goldplan), the C
    surface over another libgoldplan.so (its directory first in LD_LIBRARY_PATH)."""
    found: Dict[str, Surface] = {}
    if library is not None:
        if (pathlib.Path(library) / "libgoldplan.so").exists() and C_CLIENT.exists():
            found["C (baseline)"] = Surface([str(C_CLIENT), "--config", config],
                                            {"LD_LIBRARY_PATH": library})
        else:
            notes.append(f"C baseline skipped: no {library}/libgoldplan.so or no C client")
    if python is not None:
        script = [python, str(REPO / "bench" / "cost_python.py"), "--config", config]
        found["Python Client (baseline)"] = Surface(script + ["--kind", "client"])
        found["Python AsyncClient (baseline)"] = Surface(script + ["--kind", "async"])
    return found


def surfaces(config: str, notes: List[str]) -> Dict[str, Surface]:
    found = {
        FLOOR: Surface(
            [str(RELEASE / "examples" / "cost_client"), "floor", "--config", config],
            sequential_only=True),
        "Rust Client": Surface([str(RELEASE / "examples" / "cost_client"), "run",
                                "--config", config]),
        # A partner JSAPI prepay: a 300-odd-byte body instead of 80, the same signing and
        # verification; what a payments-heavy back end pays per call.
        "Rust Client (prepay)": Surface([str(RELEASE / "examples" / "cost_client"), "run",
                                         "--config", config, "--operation", "prepay"]),
    }
    if C_CLIENT.exists():
        found["C (libgoldplan.so)"] = Surface([str(C_CLIENT), "--config", config])
    python = python_with_goldplan()
    if python is not None:
        script = [python, str(REPO / "bench" / "cost_python.py"), "--config", config]
        found["Python Client"] = Surface(script + ["--kind", "client"])
        found["Python AsyncClient"] = Surface(script + ["--kind", "async"])
        if python_has(python, "uvloop"):
            found["Python AsyncClient (uvloop)"] = Surface(script + ["--kind", "async",
                                                                     "--loop", "uvloop"])
        if python_has(python, "wechatpayv3"):
            found["wechatpayv3 (peer, Python)"] = Surface(script + ["--kind", "wechatpayv3"])
        else:
            notes.append("wechatpayv3 row skipped: `pip install wechatpayv3==2.0.4` (cargo make "
                         "venv installs it)")
    else:
        notes.append("Python surfaces skipped: goldplan is not importable by this interpreter; "
                     "build it with `maturin develop --release` in bindings/python")
    node = shutil.which("node")
    addon = os.environ.get("GOLDPLAN_NODE_ADDON", str(NODE_ADDON))
    if node is None:
        notes.append("Node surface skipped: no `node` on PATH")
    elif not os.path.isfile(addon):
        notes.append(f"Node surface skipped: no release addon at {addon}")
    else:
        found["Node Client"] = Surface([node, str(REPO / "bench" / "node" / "cost_node.js"),
                                        "--config", config],
                                       {"NAPI_RS_NATIVE_LIBRARY_PATH": addon})
    found.update(php_surfaces(config, notes))
    return found


def instructions(cmd: List[str], env: Optional[Dict[str, str]]) -> int:
    """User-space instructions of one process, counted by callgrind."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
                          + cmd, cwd=REPO, env=None if env is None else {**os.environ, **env},
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed under callgrind ({done.returncode}):\n"
                           f"{done.stderr.strip()[-2000:]}")
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise RuntimeError(f"no instruction count in callgrind's output for {' '.join(cmd)}")


def selected_surfaces(config: str, args: argparse.Namespace,
                      notes: List[str]) -> Dict[str, Surface]:
    """Every surface this machine can run, the baselines asked for, filtered by --only."""
    found = surfaces(config, notes)
    found.update(baseline_surfaces(config, args.baseline_python, args.baseline_lib, notes))
    if args.only:
        found = {k: v for k, v in found.items()
                 if any(o.lower() in k.lower() for o in args.only)}
    return found


def count_instructions(args: argparse.Namespace) -> None:
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (Debian package valgrind)")
    calls = min(args.calls, 500)
    notes: List[str] = []
    prepare(notes)
    sandbox = SandboxProcess()
    try:
        found = selected_surfaces(sandbox.config, args, notes)
        limit_cmd = [str(RELEASE / "examples" / "cost_client"), "limit", "--config",
                     sandbox.config, "--verifies-per-sign", "1", "--iterations"]
        # The first signature seeds aws-lc's generator (CPU jitter): the difference leaves it out.
        limit = (instructions(limit_cmd + [str(calls + 1)], None)
                 - instructions(limit_cmd + ["1"], None)) / calls
        rows = []
        for name, surface in found.items():
            try:
                idle = instructions(surface.cmd + ["--calls", "0"], surface.env)
                busy = instructions(surface.cmd + ["--calls", str(calls)], surface.env)
            except RuntimeError as e:
                notes.append(f"{name} not counted: {str(e).splitlines()[0]}")
                continue
            rows.append((name, (busy - idle) / calls, idle))
    finally:
        sandbox.stop()
    print(f"user-space instructions per sequential call under callgrind, {calls} calls minus 0 "
          f"calls; sandbox process in public-key mode")
    print(f"limit: one RSA-2048 sign + one verify (aws-lc, as in libgoldplan) = "
          f"{limit / 1e6:.2f} M instructions")
    print("| surface | M instructions/call | x limit | start-up (M instructions) |")
    print("|---|---:|---:|---:|")
    for name, per_call, idle in rows:
        print(f"| {name} | {per_call / 1e6:.2f} | {per_call / limit:.3f} | {idle / 1e6:.0f} |")
    for note in notes:
        print(f"({note})")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=positive, default=2000)
    parser.add_argument("--inflight", type=positive, default=16)
    parser.add_argument("--rounds", type=positive, default=3)
    parser.add_argument("--only", action="append", default=[],
                        help="measure only surfaces whose name contains this (repeatable)")
    parser.add_argument("--instructions", action="store_true",
                        help="count user-space instructions per call under callgrind instead "
                             "of timing (needs valgrind)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the release binaries already in the target directory")
    parser.add_argument("--baseline-python", metavar="PYTHON",
                        help="also measure the Python surfaces under this interpreter (another "
                             "build of goldplan), labelled (baseline)")
    parser.add_argument("--baseline-lib", metavar="DIR",
                        help="also measure the C surface over DIR/libgoldplan.so (another "
                             "build), labelled (baseline)")
    args = parser.parse_args()
    if not args.no_build:
        build()
    if args.instructions:
        count_instructions(args)
        return
    notes: List[str] = []
    prepare(notes)
    load_before = os.getloadavg()
    sandbox = SandboxProcess()
    try:
        found = selected_surfaces(sandbox.config, args, notes)
        for name, surface in list(found.items()):
            problem = check(sandbox, surface)
            if problem is not None:
                notes.append(f"{name} not measured: {problem}")
                del found[name]
        limits: List[Dict[str, float]] = []
        php_limits: List[Dict[str, float]] = []
        php = shutil.which("php")
        samples: Dict[str, Tuple[List[float], ...]] = {
            name: ([], [], [], [], [], []) for name in found}
        for _ in range(args.rounds):
            # The floors are measured every round too: the load of a shared machine drifts.
            limits.append(measure(Surface(
                [str(RELEASE / "examples" / "cost_client"), "limit", "--config", sandbox.config,
                 "--iterations", "2000"]), []))
            if php is not None:
                php_limits.append(measure(Surface(
                    [php, str(REPO / "bench" / "php" / "openssl_limit.php"), "--config",
                     sandbox.config, "--iterations", "2000"]), []))
            for name, surface in found.items():
                cpu, wall, rate, start, switches, system = samples[name]
                idle = measure(surface, ["--calls", "0"])
                seq = measure(surface, ["--calls", str(args.calls)])
                if not surface.sequential_only:
                    par = measure(surface, ["--calls", str(args.calls), "--concurrency",
                                            str(args.inflight)])
                    rate.append(args.calls / par["wall_s"])
                cpu.append((seq["cpu_s"] - idle["cpu_s"]) / args.calls * 1e6)
                wall.append(seq["wall_s"] / args.calls * 1e6)
                start.append(idle["cpu_s"] * 1e3)
                switches.append((seq["switches"] - idle["switches"]) / args.calls)
                system.append((seq["sys_s"] - idle["sys_s"]) / args.calls * 1e6)
    finally:
        sandbox.stop()
    load_after = os.getloadavg()
    limit = {k: statistics.median(x[k] for x in limits) for k in ("sign_us", "verify_us")}
    limit_us = limit["sign_us"] + limit["verify_us"]

    print(f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after; sandbox process in public-key mode, state on tmpfs; "
          f"{args.calls} calls x {args.rounds} rounds (median), rounds alternating between "
          f"surfaces; every surface refused a bad response signature first")
    print(f"limit (same run, median of the rounds): sign {limit['sign_us']:.1f} us + verify "
          f"{limit['verify_us']:.1f} us = {limit_us:.1f} us of CPU per call (aws-lc, as in "
          f"libgoldplan)")
    if php_limits:
        sign = statistics.median(x["sign_us"] for x in php_limits)
        verify = statistics.median(x["verify_us"] for x in php_limits)
        print(f"PHP's OpenSSL (the plain-PHP client's crypto), same run: sign {sign:.1f} us + "
              f"verify {verify:.1f} us = {sign + verify:.1f} us")
    # Ratios are taken round by round (each surface against the limit, and the floor, measured
    # in the same round), then the median: the load of a shared machine drifts between rounds.
    round_limits = [x["sign_us"] + x["verify_us"] for x in limits]
    floor_cpu = samples[FLOOR][0] if FLOOR in samples else None
    print(f"| surface | CPU/call (us) | x limit | x floor | of which kernel (us) | context "
          f"switches/call | wall/call sequential (us) | calls/s, {args.inflight} in flight | "
          f"start-up CPU (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (cpu, wall, rate, start, switches, system) in samples.items():
        c = statistics.median(cpu)
        x_limit = statistics.median(x / lim for x, lim in zip(cpu, round_limits))
        x_floor = (f"{statistics.median(x / f for x, f in zip(cpu, floor_cpu)):.2f}"
                   if floor_cpu else "-")
        in_flight = f"{statistics.median(rate):.0f}" if rate else "-"
        print(f"| {name} | {c:.0f} | {x_limit:.2f} | {x_floor} | "
              f"{statistics.median(system):.0f} | "
              f"{statistics.median(switches):.1f} | {statistics.median(wall):.0f} | "
              f"{in_flight} | "
              f"{statistics.median(start):.0f} |")
    print("rounds (CPU us/call; calls/s in flight; wall us/sequential call); limit per round: "
          + ", ".join(f"{x['sign_us'] + x['verify_us']:.0f}" for x in limits) + " us")
    for name, (cpu, wall, rate, *_) in samples.items():
        print(f"  {name}: {', '.join(f'{x:.0f}' for x in cpu)}; "
              f"{', '.join(f'{x:.0f}' for x in rate)}; wall {', '.join(f'{x:.0f}' for x in wall)}")
    peer = "wechatpayv3 (peer, Python)"
    for ours in ("Python Client", "Python AsyncClient"):
        if ours in samples and peer in samples:
            cpu_ratios = [p / o for o, p in zip(samples[ours][0], samples[peer][0])]
            wall_ratios = [p / o for o, p in zip(samples[ours][1], samples[peer][1])]
            print(f"{ours} against wechatpayv3, round by round: "
                  f"{statistics.median(cpu_ratios):.2f}x less CPU per call "
                  f"({', '.join(f'{r:.2f}' for r in cpu_ratios)}), "
                  f"{statistics.median(wall_ratios):.2f}x the sequential calls/s "
                  f"({', '.join(f'{r:.2f}' for r in wall_ratios)})")
    print("(start-up CPU: the 0-call run, i.e. process start, client, and one call)")
    if any(name.startswith(("PHP", "plain PHP")) for name in samples):
        print(f"(PHP: {args.inflight} in flight = {args.inflight} PHP processes side by side, "
              f"each with its own client, like PHP-FPM workers; aggregate calls/s)")
    for note in notes:
        print(f"({note})")


if __name__ == "__main__":
    main()
