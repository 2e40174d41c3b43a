"""Per-request server CPU of two source trees, measured in one run (for refactors that must not
make a request cost more).

Starts ``python -m ogmint`` once per tree (one worker each, its own SQLite state and images,
``PYTHONPATH=<tree>/server``), then in alternating rounds (A B, B A, …) sends each kind of
request one at a time on a kept-alive connection and reads the server's CPU time (user + system
of every thread of its process group, from ``/proc``) before and after. Kinds: V1 unique anonymous renders, V1
304 answers, V1 signed unique renders (charged to a key's quota), V2 unique renders and V2
dedup hits (spread over many users: the 5/s burst limit is per user).

``python -m bench.cpu.tree_cpu BASELINE_TREE CANDIDATE_TREE [--rounds 5]`` prints JSON: each kind's
milliseconds of server CPU per request for each tree (lowest and median round) and candidate /
baseline (of the lowest rounds; of each round, median and range). The server started second
tends to measure a few per cent dearer on a busy host: run it both ways round (or once with the
same tree twice) before reading a small difference. Both trees
need the native extension at ``server/ogmint/_native.abi3.so``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import PYTHON, REPO, Processes, app_env, cpu_snapshot, free_port, others_busy
from ogmint_client import SigningKey, image_url

USERS = 100
QUOTAS = "free=100,starter=1000,pro=10000,agency=100000000"
#: Requests per kind and round.
COUNTS = {
    "v1_unique": 100,
    "v1_304": 1000,
    "v1_signed": 100,
    "v2_unique": USERS,
    "v2_dedup": 2 * USERS,
}


def group_cpu_ns(pgid: int) -> int:
    """Nanoseconds of CPU used so far by every thread of one process group's live processes
    (``/proc/…/task/*/schedstat``: exact, where ``/proc/…/stat`` counts 10 ms ticks)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for task in (entry / "task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):
            continue  # exited meanwhile
    return total


class Tree:
    """One running server of one source tree, and the keys made for it."""

    def __init__(self, name: str, root: Path, procs: Processes, tmp: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = {
            **app_env(self.port, tmp / f"data-{name}", 1),
            "PYTHONPATH": str(root / "server"),
            "OGMINT_PLAN_QUOTAS": QUOTAS,
            "OGMINT_IMAGE_RATE_LIMIT": "0",
            # Signed renders are limited per signing key (120 a minute by default): a round
            # sends more. Trees from before the limit ignore the setting.
            "OGMINT_SIGNING_KEY_RATE_LIMIT": "0",
            "OGMINT_TEMPLATES_DIR": str(REPO / "templates"),  # one set of templates for both
        }
        self.proc, _ = procs.start_app(name, self.env, 90.0)
        self.keys = self._keys()
        self.signing = self._signing_key()
        self.conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.last = b""

    def _cli(self, script: str) -> str:
        done = subprocess.run(
            [str(PYTHON), "-c", script], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def _keys(self) -> list[str]:
        script = (
            "from ogmint import cli\n"
            f"for i in range({USERS}):\n"
            "    cli.main(['keys', 'create', '--user', f'u{i}', '--plan', 'agency'])\n"
        )
        return re.findall(r"^ogm_live_\w+$", self._cli(script), re.M)

    def _signing_key(self) -> SigningKey:
        out = self._cli(
            "from ogmint import cli; cli.main(['signing-keys', 'create', '--user', 'u0'])"
        )
        lines = out.strip().splitlines()
        kid = re.search(r"\bsk_\w+", lines[0])
        assert kid is not None, out
        return SigningKey(kid.group(), lines[-1])

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
        self.conn.request(method, path, body=body or None, headers=headers)
        resp = self.conn.getresponse()
        self.last = resp.read()
        return resp.status

    def cpu_per_request(self, n: int, one: Callable[[int], int], expect: int) -> float:
        """Milliseconds of server CPU per request over ``n`` requests made by ``one(i)``."""
        before = group_cpu_ns(self.proc.pid)
        for i in range(n):
            status = one(i)
            if status != expect:
                raise RuntimeError(f"{self.name}: {status}, not {expect}: {self.last[:300]!r}")
        return (group_cpu_ns(self.proc.pid) - before) / n / 1e6


def kinds(tree: Tree, round_no: int) -> dict[str, Callable[[], float]]:
    """Each kind of request: a function measuring it on ``tree`` (titles unique per round)."""
    tag = f"{tree.name} r{round_no}"
    tree.conn.close()  # idle past the keep-alive timeout while the other tree was measured
    tree.conn = HTTPConnection("127.0.0.1", tree.port, timeout=30)
    v1_path = "/api/og?" + urlencode({"template": "blog", "title": f"Cached {tag}"})
    tree.send("GET", v1_path, {})
    etag_conn = HTTPConnection("127.0.0.1", tree.port, timeout=30)
    etag_conn.request("GET", v1_path)
    etag = etag_conn.getresponse().getheader("etag") or ""
    etag_conn.close()

    def v2(i: int, title: str) -> int:
        body = json.dumps({"template": "blog", "title": title}).encode()
        headers = {"x-api-key": tree.keys[i % USERS], "content-type": "application/json"}
        return tree.send("POST", "/api/v2/render", headers, body)

    def signed(i: int) -> int:
        url = image_url("", {"template": "blog", "title": f"Signed {tag} {i}"}, tree.signing)
        return tree.send("GET", url, {})

    return {
        "v1_unique": lambda: tree.cpu_per_request(
            COUNTS["v1_unique"],
            lambda i: tree.send(
                "GET", "/api/og?" + urlencode({"template": "blog", "title": f"{tag} {i}"}), {}
            ),
            200,
        ),
        "v1_304": lambda: tree.cpu_per_request(
            COUNTS["v1_304"], lambda i: tree.send("GET", v1_path, {"if-none-match": etag}), 304
        ),
        "v1_signed": lambda: tree.cpu_per_request(COUNTS["v1_signed"], signed, 200),
        "v2_unique": lambda: tree.cpu_per_request(
            COUNTS["v2_unique"], lambda i: v2(i, f"V2 {tag} {i}"), 201
        ),
        # The same titles again, each by the key that made it: every one a dedup hit.
        "v2_dedup": lambda: tree.cpu_per_request(
            COUNTS["v2_dedup"], lambda i: v2(i % USERS, f"V2 {tag} {i % USERS}"), 200
        ),
    }


def run(baseline: Path, candidate: Path, rounds: int) -> dict:
    samples: dict[str, dict[str, list[float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="ogmint-tree-cpu-") as tmp,
        Processes(Path(tmp)) as procs,
    ):
        trees = [
            Tree("baseline", baseline, procs, Path(tmp)),
            Tree("candidate", candidate, procs, Path(tmp)),
        ]
        for tree in trees:  # warm-up: fonts, template caches
            for measure in kinds(tree, 0).values():
                measure()
        start = cpu_snapshot()
        for r in range(1, rounds + 1):
            for tree in trees if r % 2 else reversed(trees):
                for kind, measure in kinds(tree, r).items():
                    samples.setdefault(kind, {}).setdefault(tree.name, []).append(measure())
                    time.sleep(0.3)  # the burst buckets refill
        busy = others_busy(start, cpu_snapshot())
    result: dict = {"rounds": rounds, "requests_per_round": COUNTS, "others_busy_cores": busy}
    for kind, by_tree in samples.items():
        a, b = by_tree["baseline"], by_tree["candidate"]
        # Each round measures both trees within seconds: its ratio cancels most of what other
        # processes did to the machine meanwhile.
        paired = sorted(y / x for x, y in zip(a, b, strict=True))
        result[kind] = {
            # The lowest round: other processes only ever add to a sample.
            "baseline_lowest_ms": round(min(a), 3),
            "candidate_lowest_ms": round(min(b), 3),
            "lowest_ratio": round(min(b) / min(a), 3),
            "baseline_median_ms": round(statistics.median(a), 3),
            "candidate_median_ms": round(statistics.median(b), 3),
            "median_paired_ratio": round(statistics.median(paired), 3),
            "paired_ratio_range": [round(paired[0], 3), round(paired[-1], 3)],
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    json.dump(run(args.baseline, args.candidate, args.rounds), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
