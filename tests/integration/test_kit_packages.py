"""The kits as published: the Python kit's sdist and wheel install into a clean virtualenv with
no index (it has no dependencies) and work against a live server; the JS kit ``npm pack``s,
installs from its tarball into a fresh project (offline) and passes its tests from there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import ROOT, Server
from ogmint_client import Client

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


def npm_pack(dest: Path) -> Path:
    """``npm pack`` of the JS kit (offline: it has no dependencies); the tarball."""
    env = {**os.environ, "npm_config_cache": str(dest / ".npm"), "npm_config_offline": "true"}
    out = run("npm", "pack", "--json", "--pack-destination", dest, cwd=JS, env=env)
    (packed,) = json.loads(out)
    files = {f["path"] for f in packed["files"]}
    assert files == {"package.json", "ogmint.mjs", "ogmint.d.ts", "README.md"}
    return dest / packed["filename"]


def install_packed(tmp_path: Path) -> Path:
    """A fresh project with the packed kit installed from its tarball; its directory."""
    tarball = npm_pack(tmp_path)
    project = tmp_path / "project"
    (project / "test").mkdir(parents=True)
    (project / "package.json").write_text('{"name": "consumer", "private": true, "type": "module"}')
    env = {**os.environ, "npm_config_cache": str(tmp_path / ".npm"), "npm_config_offline": "true"}
    run("npm", "install", "--no-audit", "--no-fund", tarball, cwd=project, env=env)
    installed = json.loads((project / "node_modules" / "ogmint" / "package.json").read_text())
    assert installed["version"] == json.loads((JS / "package.json").read_text())["version"]
    return project


def test_js_kit_packs_installs_and_passes_its_tests_live(srv: Server, tmp_path: Path) -> None:
    project = install_packed(tmp_path)
    for name in ("ogmint.test.mjs", "recipes.test.mjs", "recipe-hooks.mjs"):
        shutil.copy(JS / "test" / name, project / "test")
    shutil.copytree(JS / "recipes", project / "recipes")  # "ogmint" is now the installed package
    api_key = srv.create_key("js-packed")
    key = Client(srv.url, api_key).signing_keys.create()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OGMINT_VECTORS": str(ROOT / "clients" / "test-vectors.json"),
        "OGMINT_URL": srv.url,
        "OGMINT_KID": key.kid,
        "OGMINT_SECRET": key.secret,
        "OGMINT_SIGNING_SECRET": key.secret,
        "OGMINT_API_KEY": api_key,
    }
    out = run("node", "--test", "test/", cwd=project, env=env)
    assert "# fail 0" in out and "# skipped 1" in out  # only the webhook capture


def test_readme_recipes_are_the_tested_files_and_run_against_a_live_server(srv: Server) -> None:
    readme = (ROOT / "README.md").read_text()
    recipes = sorted((JS / "recipes").glob("*.mjs"))
    assert len(recipes) == 5
    for recipe in recipes:
        assert recipe.read_text().rstrip("\n") in readme, f"{recipe.name} is not in the README"
    key = Client(srv.url, srv.create_key("recipes")).signing_keys.create()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OGMINT_URL": srv.url,
        "OGMINT_KID": key.kid,
        "OGMINT_SIGNING_SECRET": key.secret,
    }
    out = run("node", "--test", JS / "test" / "recipes.test.mjs", env=env)
    assert "# pass 5" in out and "# fail 0" in out and "# skipped 0" in out
