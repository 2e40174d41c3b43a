"""The kits as published: the Python kit's sdist and wheel install into a clean virtualenv with
no index (it has no dependencies) and work against a live server; the JS kit ``npm pack``s,
installs from its tarball into a fresh project (offline) and passes its tests from there."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import ROOT, Server

KIT = ROOT / "clients" / "python"
JS = ROOT / "clients" / "js"


@pytest.fixture(scope="module")
def srv(server_factory: Callable[..., Server]) -> Server:
    return server_factory()


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_python_kit_sdist_and_wheel_install_into_a_clean_venv(srv: Server, tmp_path: Path) -> None:
    # Build from a copy, so the source tree gets no build droppings.
    src = shutil.copytree(KIT, tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    dist = tmp_path / "dist"
    build = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    sdist = dist / run(sys.executable, "-c", build, dist, cwd=src).strip().splitlines()[-1]
    version = run(
        sys.executable,
        "-c",
        "import tomllib,sys;print(tomllib.load(open(sys.argv[1],'rb'))['project']['version'])",
        KIT / "pyproject.toml",
    ).strip()
    assert sdist.name == f"ogmint_client-{version}.tar.gz"
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"README.md", "pyproject.toml", "src/ogmint_client/py.typed"} <= names
    # The wheel is built from the sdist (offline, with the build backend at hand): what the sdist
    # lacks, the wheel would too, so this checks both.
    wheels = tmp_path / "wheels"
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, sdist)
    (wheel,) = wheels.glob(f"ogmint_client-{version}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as whl:
        assert "ogmint_client/py.typed" in whl.namelist()
        meta = whl.read(f"ogmint_client-{version}.dist-info/METADATA").decode()
    assert "Requires-Dist" not in meta  # pure Python, no dependencies

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-index", "--no-deps", wheel)
    key = srv.create_key("kit-packaged")
    script = """
import sys, ogmint_client
from ogmint_client import Client
assert ogmint_client.__file__.startswith(sys.prefix), ogmint_client.__file__
assert ogmint_client.__version__ == sys.argv[3]
with Client(sys.argv[1], sys.argv[2]) as og:
    r = og.render(template="blog", title="From a clean virtualenv")
    print(r.url)
"""
    # -I: isolated (no PYTHONPATH, no user site): only what the venv holds.
    out = run(python, "-I", "-c", script, srv.url, key, version)
    assert out.strip().startswith(f"{srv.url}/i/")
