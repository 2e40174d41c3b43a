"""Every benchmark in ``bench/``, with its kind, what it measures and how the runner calls it.

A benchmark is a script with a ``main()`` in a folder of its kind (``bench/render/``,
``bench/load/`` …), run as ``python -m bench.KIND.SCRIPT ARGS``. It records its figures with
``bench.harness.write_section(NAME, markdown, figures)`` (``bench/results/NAME.json``, then
``RESULTS.md`` regenerated). Registering one is one line in ``BENCHMARKS``; a script in a kind
folder that is neither registered nor listed in ``HELPERS`` fails
``tests/unit/test_bench_registry.py``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

#: The extension this tree runs on: the A/B benchmarks compare it with itself by default (an
#: A/A run, which shows the noise floor); give them two builds to compare two.
SO = "server/ogmint/_native.abi3.so"


@dataclass(frozen=True)
class Benchmark:
    """One registered benchmark.

    ``module`` is the script under ``bench/`` (``"render.render_bench"``); ``args`` what
    ``make bench`` passes it; ``quick`` what ``--quick`` passes instead (small sizes: a smoke
    test of the script, not a figure; ``args`` when empty); ``in_all`` whether ``make bench`` without a name runs it
    (False for the comparisons of two builds or trees, and for the runs that have make targets
    of their own).
    """

    name: str
    kind: str
    module: str
    description: str
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    in_all: bool = True

    @property
    def dotted(self) -> str:
        return f"bench.{self.module}"

    def argv(self, quick: bool = False, override: tuple[str, ...] | None = None) -> list[str]:
        """The script's command line after ``python``; ``override`` replaces the arguments."""
        if override is None:
            override = self.quick if quick and self.quick else self.args
        return ["-m", self.dotted, *override]

    def command(self, quick: bool = False) -> str:
        return shlex.join(["python", *self.argv(quick)])


B = Benchmark
# fmt: off
BENCHMARKS: tuple[Benchmark, ...] = (
    # -- render: the native renderer in one process ---------------------------------------------
    B("render", "render", "render.render_bench", "reference card vs resvg-py and cairosvg; `blog` template path; 1 vs 2 threads (issue 2)", quick=("--rounds", "3", "--warmup", "1", "--scaling-trials", "1", "--scaling-renders", "4")),
    B("takumi", "render", "render.takumi_compare", "`blog` and reference card against takumi 2.19, one thread each (issues 14, 26)", quick=("--chunks", "1", "--per-chunk", "3")),
    B("format", "render", "render.format_bench", "render + encode time, bytes and PSNR per output format and size, with the encoder settings not chosen (issue 23)", args=("--rounds", "12", "--variants"), quick=("--rounds", "2")),
    B("jpeg-splice", "render", "render.jpeg_splice", "probe: JPEG over a cached background by splicing restart intervals (issue 23)", quick=("--rounds", "1"), in_all=False),
    B("scale-cost", "render", "render.scale_cost", "og@2x and story against og for the `blog` card (cached, redrawn) and the reference card, in pixels' share (issue 26)", quick=("--rounds", "1", "--chunk", "1")),
    B("sizes", "render", "render.sizes_bench", "render time of every built-in at og, story and story@2x against each size's deadline (issue 23)", quick=("--rounds", "1")),
    B("glyphs", "render", "render.glyph_bench", "text drawing with and without the glyph coverage cache (issue 14)", quick=("--rounds", "10", "--titles", "5", "--no-callgrind")),
    B("template-cost", "render", "render.template_cost", "template cost model: verdicts and estimates of every template, next to render times (issue 19)"),
    B("native-ab", "render", "render.native_ab", "two builds of the extension on the `blog` card, interleaved (default: this build against itself)", args=(SO, SO), quick=(SO, SO, "--rounds", "2"), in_all=False),
    B("fit-ab", "render", "render.fit_ab", "text fitting alone, two builds interleaved (default: this build against itself)", args=(SO, SO), quick=(SO, SO), in_all=False),
    B("encode", "render", "render.encode_bench", "one-pass PNG encoding of two builds, and zlib strategies (issue 14)", args=(SO, SO), quick=(SO, SO, "--rounds", "1"), in_all=False),
    # -- load: real app servers under wrk or one-at-a-time clients ------------------------------
    B("load-v1", "load", "load.load_v1", "unique V1 renders/s on the embedded default (issues 2, 26)", args=("--duration", "15", "--connections", "8"), quick=("--duration", "3", "--warmup", "1")),
    B("load-v2", "load", "load.load_v2", "V2 on Redis: `/i/`, dedup hits, unique renders, V1 on the same server, against bare Sanic (issues 3, 26)", args=("--duration", "10", "--connections", "32"), quick=("--duration", "1", "--warmup", "1", "--users", "20")),
    B("repeat-v1", "load", "load.repeat_v1", "V1 repeat cache: server CPU of renders, repeats and 304s", args=("--write",), quick=("--write", "--rounds", "1", "--duration", "1")),
    B("signed-v1", "load", "load.signed_v1", "signed V1 URLs: server CPU on the 304 path (issue 11)", args=("--write",), quick=("--write", "--rounds", "1", "--duration", "1")),
    B("batch", "load", "load.batch_bench", "V2 batch of 100 vs 100 single renders; dry-run latency (issue 24)", quick=("--rounds", "1")),
    B("templates", "load", "load.templates_bench", "custom templates vs built-ins; upload cost (issue 16)", args=("--rounds", "150"), quick=("--rounds", "2")),
    B("dashboard", "load", "load.dashboard_bench", "dashboard pages with 10,000 renders; CPU render tracking adds (issue 12)"),
    # -- cpu: per-request server CPU of two source trees ----------------------------------------
    B("tree-cpu", "cpu", "cpu.tree_cpu", "server CPU per request of two source trees, interleaved (default: this tree against itself)", args=(".", "."), quick=(".", ".", "--rounds", "1"), in_all=False),
    B("tracing-off", "cpu", "cpu.tracing_cost", "what the tracing code costs when tracing is off (issue 21)", args=("--rounds", "6", "--requests", "150"), quick=("--rounds", "1", "--requests", "20")),
    # -- webhooks ---------------------------------------------------------------------------------
    B("webhooks", "webhooks", "webhooks.webhooks_bench", "webhook deliveries/s and the latency a webhook adds, SQLite and Redis (issue 4)", args=("--deliveries", "1000", "--renders", "150"), quick=("--deliveries", "10", "--renders", "10", "--backend", "embedded")),
    # -- memory -----------------------------------------------------------------------------------
    B("memory", "memory", "memory.memory_bench", "worker RSS after 5,000 and 50,000 unique renders (issues 14, 26)", quick=("--first", "20", "--last", "40")),
    B("memory-mixed", "memory", "memory.memory_bench", "worker RSS every 1,000 of 10,000 renders mixing sizes and formats (issue 23)", args=("--mixed",), quick=("--mixed", "--last", "40", "--every", "20")),
    B("memory-mixed-keep-buffers", "memory", "memory.memory_bench", "memory-mixed with OGMINT_RENDER_KEEP_BUFFERS=1 (issue 23)", args=("--mixed", "--keep-buffers"), quick=("--mixed", "--keep-buffers", "--last", "40", "--every", "20"), in_all=False),
    B("bombs", "memory", "memory.bomb_rss", "image bombs: a worker's peak RSS and `/healthz` meanwhile (issue 8)", quick=("--rounds", "1", "--config", "defaults")),
    # -- state ------------------------------------------------------------------------------------
    B("durable-commit", "state", "state.durable_commit", "SQLite `save_render` at synchronous=FULL vs NORMAL (issue 8)", quick=("--rounds", "2", "--block", "3")),
    B("s3-put", "state", "state.s3_put", "client CPU per S3 upload: botocore's put_object vs the store's own signed PUT (issue 26)", quick=("--rounds", "1", "--puts", "5")),
    # -- edge: nginx.conf in front of app servers -------------------------------------------------
    B("edge", "edge", "edge.edge", "nginx.conf cache hits vs static nginx; `/i/` misses by X-Accel vs Python (issues 13, 26)", quick=("--seconds", "1", "--rounds", "1")),
    # -- drill: the whole stack under locust, and failures injected -------------------------------
    B("load", "drill", "drill.load", "nginx, two app servers, Redis, S3 and a webhook receiver under locust", args=("--seconds", "60"), quick=("--seconds", "15"), in_all=False),
    B("drills", "drill", "drill.load", "kill -9 of an app server, Redis restart, S3 paused, during locust runs", args=("--no-load", "--drills"), in_all=False),
    B("drills-sentinel", "drill", "drill.sentinel_drill", "Redis Sentinel failover under V2 renders: kill and SENTINEL FAILOVER (issue 21)", in_all=False),
)
# fmt: on
BY_NAME = {b.name: b for b in BENCHMARKS}
KINDS = tuple(dict.fromkeys(b.kind for b in BENCHMARKS))

#: Scripts in the kind folders that are not benchmarks themselves, and who uses them.
HELPERS = {
    "render/reference_card.py": "the reference card's SVG (render, takumi, format, encode)",
    "load/ceiling_app.py": "bare Sanic, the ceiling of load-v2",
    "webhooks/webhook_receiver.py": "the HTTPS receiver of webhooks and load",
    "drill/locustfile.py": "locust's users, run by load and drills (and usable on its own)",
}
