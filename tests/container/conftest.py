"""The container image and the compose stack, built and run with podman on this machine.

The image is built once per test session (podman's layer cache makes a rebuild of unchanged
sources take seconds) and shared by the image test and the compose test. ``make test`` installs
podman and creates the base image ``debian:trixie-slim`` locally (no registry is reachable
here); ``--pull=never`` makes the build use it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: This sandbox refuses raising rlimits inside a container and has hybrid cgroups (NOTES.md).
GLOBAL_FLAGS = ["--runtime", "runc", "--cgroup-manager=cgroupfs"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
BASE_IMAGE = "docker.io/library/debian:trixie-slim"
#: The app image the tests build (not :latest, which is the operator's own).
IMAGE = "localhost/ogmint:test"
#: A CA bundle the builds may need (a TLS-inspecting proxy between here and PyPI/crates.io).
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("podman")
    if executable is None:
        pytest.fail("podman is not installed: `make test` installs it (apt podman runc)")
    done = subprocess.run(
        [executable, *GLOBAL_FLAGS, *args], capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed: {done.stderr[-3000:]}")
    return done


def build_args() -> list[str]:
    """Flags for every `podman build` here: the local base image, the HEALTHCHECK kept (docker
    format), the limits this sandbox allows, and the host's CA bundle for pip and cargo."""
    args = ["--pull=never", "--format", "docker", *LIMITS]
    if HOST_CA.is_file():
        args += ["-v", f"{HOST_CA}:/run/build-ca.pem:ro"]
    return args


def build(tag: str, containerfile: str, target: str | None = None) -> float:
    """Builds ``tag`` from the repository; returns the seconds it took."""
    started = time.monotonic()
    podman(
        "build",
        *build_args(),
        *(["--target", target] if target else []),
        "-t",
        tag,
        "-f",
        containerfile,
        str(ROOT),
        timeout=3600,
    )
    return time.monotonic() - started


@pytest.fixture(scope="session")
def image() -> str:
    """The app image, built from this checkout."""
    if podman("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"no {BASE_IMAGE} image: `make container-base` creates it")
    took = build(IMAGE, "Containerfile")
    print(f"\nbuilt {IMAGE} in {took:.0f} s", file=sys.stderr)
    return IMAGE


def wait_healthy(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(0.3)


def exec_in(container: str, *command: str, user: Sequence[str] = ()) -> str:
    return podman("exec", *user, container, *command).stdout
