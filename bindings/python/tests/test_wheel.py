"""What `pip install goldplan` users get: the wheel maturin builds, installed into a fresh
virtualenv (no access to this source tree), imports and works, stub and py.typed included,
and without the sandbox (goldplan.testing imports, and says how to get a testing build)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import venv
import zipfile

from conftest import KEYS, REPO


def test_wheel_installs_into_a_fresh_virtualenv(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "maturin", "build", "--locked", "--quiet", "--out", str(out)],
        cwd=REPO / "bindings" / "python",
        check=True,
    )
    (wheel,) = out.glob("goldplan-*.whl")
    assert "-cp39-abi3-" in wheel.name, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("goldplan/__init__.py", "goldplan/errors.py", "goldplan/py.typed",
                     "goldplan/_goldplan.pyi", "goldplan/testing.py"):
        assert required in names, required

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)],
        check=True,
    )
    script = (
        "import goldplan, sys\n"
        "assert 'site-packages' in goldplan.__file__, goldplan.__file__\n"
        f"key = goldplan.PrivateKey.from_file({str(KEYS / 'merchant_test_key.pem')!r})\n"
        "assert key.bits == 2048\n"
        "import goldplan.testing\n"
        "assert not goldplan._goldplan.HAS_SANDBOX, 'the production wheel links the sandbox'\n"
        "try:\n"
        "    goldplan.testing.Sandbox()\n"
        "except goldplan.errors.SandboxError as e:\n"
        "    assert e.code == 'NOT_BUILT', e.code\n"
        "try:\n"
        "    goldplan.canonical_url('x')\n"
        "except goldplan.errors.InvalidInputError:\n"
        "    print('ok', goldplan.__version__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(python), "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok "), result.stdout
