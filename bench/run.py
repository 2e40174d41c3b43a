"""``make bench``: runs every benchmark and rewrites ``bench/RESULTS.md`` with this run's figures.

Every ratio compares figures measured in this same run, on this machine, at this time.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import load_v1
import load_v2
import render_bench
import webhooks_bench
from harness import cpu_snapshot, kept_sections, others_busy

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
OUT = BENCH / "out"

V1_DURATION, V1_CONNECTIONS = 15, 8
V2_DURATION, V2_CONNECTIONS = 10, 32
WEBHOOK_DELIVERIES, WEBHOOK_RENDERS = 1000, 150
#: Issue 2 asks two threads for "close to twice" the throughput of one: read as ≥ 1.8x in the
#: best trial (other processes only ever lower it).
SCALING_TARGET = 1.8
#: Issue 4 asks the latency a webhook adds to be "near zero" and gives no number: read as a
#: median difference of at most 1 ms or 5 % of the median without a webhook, whichever is more.
NEAR_ZERO_MS, NEAR_ZERO_SHARE = 1.0, 0.05
#: (result key, label, which answers count as done)
V2_PATHS = (
    ("ceiling", "ceiling: bare Sanic, fixed 40 KB", "2xx"),
    ("ceiling_sized", "ceiling: bare Sanic, image-sized body", "2xx"),
    ("images", "`GET /i/{slug}`", "2xx"),
    ("dedup", "V2 dedup hit", "200 cached"),
    ("v2_unique", "V2 unique render", "201"),
    ("v1_unique", "V1 unique render (anonymous)", "200"),
    ("v1_key_unique", "V1 unique render (with an API key)", "200"),
)


def _cpu_per_request(load: dict, key: str, rps: float) -> float:
    """Milliseconds of server + Redis CPU per counted answer of one V2-bench phase."""
    cores = load[key]["cores"]
    return (cores.get("server", 0) + cores.get("redis", 0)) / rps * 1000 if rps else 0.0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip().splitlines()[0]


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _near_zero_ms(hooks: dict) -> float:
    """The largest median a webhook may add and still count as near zero."""
    return max(NEAR_ZERO_MS, NEAR_ZERO_SHARE * hooks["v2_without_webhook"]["median_ms"])


def _targets(render: dict, load: dict, load2: dict, hooks: dict) -> list[str]:
    """Every target of issues 2, 3 and 4 against this run's figure, with its configuration."""
    timings = {t["name"]: t for t in render["timings"]}
    ratios = render["ratios"]
    card = timings["ogmint render_svg"]["median_ms"]
    blog = timings["blog template"]["median_ms"]
    best = max(t["render"]["speedup"] for t in render["scaling"])
    v2 = load2["ratios"]
    images = "local disk" if load2["storage"] == "local" else "a moto S3 server"
    v2_config = (
        f"Redis state (scratch `redis-server`), images on {images}; {load2['workers']} workers;"
    )
    ceiling = f"bare Sanic, {load2['workers']} workers, same run"
    rows: list[tuple[str, str, str, str, bool, str]] = [
        (
            "2",
            "reference card via `render_svg`, median, PNG encoding included",
            "< 10 ms",
            f"{card:g} ms",
            card < 10.0,
            f"one thread in one process, {render['rounds']} rounds interleaved with resvg-py "
            "and cairosvg",
        ),
        (
            "2",
            "speed-up over resvg-py (medians)",
            "≥ 8x",
            f"{ratios['resvg_over_ogmint']:g}x",
            ratios["resvg_over_ogmint"] >= 8.0,
            "same rounds; resvg-py gets the same font dirs (it rebuilds its font DB per call)",
        ),
        (
            "2",
            "speed-up over cairosvg (medians)",
            "≥ 3x",
            f"{ratios['cairosvg_over_ogmint']:g}x",
            ratios["cairosvg_over_ogmint"] >= 3.0,
            "same rounds; cairo draws the text in its fallback font",
        ),
        (
            "2",
            "PNG bytes / resvg-py's",
            "≤ 1.5x",
            f"{ratios['ogmint_bytes_over_resvg']:g}x",
            ratios["ogmint_bytes_over_resvg"] <= 1.5,
            "the reference card",
        ),
        (
            "2",
            "`blog` template path, median",
            "≤ 5 ms",
            f"{blog:g} ms",
            blog <= 5.0,
            "`parse_params` → template → `render_svg`, unique title, no avatar, same rounds",
        ),
        (
            "2",
            "V1 unique renders/s",
            "≥ 150/s",
            f"{load['unique_renders_per_s']:g}/s",
            load["unique_renders_per_s"] >= 150,
            f"`load_v1.py`: {load['workers']} workers × 2 render threads, SQLite + local disk; "
            f"wrk `-t1 -c{V1_CONNECTIONS}` on the same 2 cores, {V1_DURATION} s",
        ),
        (
            "2",
            "`render_svg` throughput, 2 threads / 1 thread",
            f"≈ 2x (≥ {SCALING_TARGET:g}x)",
            f"{best:g}x",
            best >= SCALING_TARGET,
            f"best of {render_bench.SCALING_TRIALS} trials, one process, ThreadPoolExecutor",
        ),
        (
            "3",
            "V2 dedup hits/s / 40 KB ceiling",
            "≥ 25%",
            f"{v2['dedup_over_ceiling']:.1%}",
            v2["dedup_over_ceiling"] >= 0.25,
            f"`load_v2.py`: {v2_config} wrk `-t1 -c{V2_CONNECTIONS}`; ceiling {ceiling}",
        ),
        (
            "3",
            "`GET /i/{slug}`/s / 40 KB ceiling",
            "≥ 50%",
            f"{v2['images_over_ceiling']:.1%}",
            v2["images_over_ceiling"] >= 0.50,
            f"`load_v2.py`: {v2_config} wrk `-t1 -c{V2_CONNECTIONS}`; ceiling {ceiling}",
        ),
        (
            "3",
            "V2 unique renders/s / V1 unique renders/s",
            "≥ 1x",
            f"{v2['v2_over_v1_unique']:g}x",
            v2["v2_over_v1_unique"] >= 1.0,
            f"`load_v2.py`: both on the same server, {v2_config} "
            f"wrk `-t1 -c{load2['render_connections']}` each",
        ),
    ]
    for name, h in hooks["backends"].items():
        state = "embedded SQLite" if name == "embedded" else "Redis (scratch `redis-server`)"
        config = f"`webhooks_bench.py`: {state}, images on local disk, {h['workers']} workers"
        rows.append(
            (
                "4",
                f"webhook deliveries/s, {state}",
                "measured, all delivered",
                f"{h['deliveries_per_s']:g}/s ({h['deliveries']} of {h['deliveries_queued']})",
                h["deliveries"] == h["deliveries_queued"],
                f"{config}; HTTPS receiver in its own process",
            )
        )
        rows.append(
            (
                "4",
                f"V2 latency a webhook adds, {state}",
                f"near zero (median ≤ {_near_zero_ms(h):.2g} ms)",
                f"{h['extra_median_ms']:+g} ms median, {h['extra_p95_ms']:+g} ms p95",
                h["extra_median_ms"] <= _near_zero_ms(h),
                f"{config}; {h['v2_without_webhook']['count']} requests each way, "
                "interleaved, one at a time",
            )
        )
    return [
        _row("issue", "target", "wanted", "this run", "met?", "configuration"),
        _row("---", "---", "---:", "---:", "---", "---"),
        *(_row(f"#{i}", label, want, got, _met(ok), cfg) for i, label, want, got, ok, cfg in rows),
    ]


def _report(render: dict, load: dict, load2: dict, hooks: dict, meta: dict) -> str:
    ratios = render["ratios"]
    scaling = render["scaling"]
    best = max(scaling, key=lambda t: t["render"]["speedup"])
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `bench/run.py` (`make bench`) on {meta['date']}; `bench/run.py` took {meta['total_s']} s",
        "(including the wait for a quiet machine; `make bench` first runs `make setup`, which",
        "rebuilds the native extension if its sources changed).",
        "Every ratio below compares figures measured in this same run.",
        "",
        "## Targets",
        "",
        "Every target set in issues 2, 3 and 4, against this run. The issues give no number for",
        f'two of them: two threads "close to twice" one is read as ≥ {SCALING_TARGET:g}x, and a',
        f'"near zero" added webhook latency as a median difference of at most {NEAR_ZERO_MS:g} ms',
        f"or {NEAR_ZERO_SHARE:.0%} of the median without a webhook, whichever is more.",
        "",
        *_targets(render, load, load2, hooks),
        "",
        "## Machine",
        "",
        f"- CPU: {meta['cpu']}, `nproc` = {meta['nproc']}",
        f"- Kernel: {meta['kernel']}; Python {meta['python']}",
        f"- Load average (1/5/15 min) at start: {meta['load_start']}; "
        f"after the render benchmark: {meta['load_mid']}; at end: {meta['load_end']}",
        f"- ogmint native {render['native_version']}, resvg-py {meta['resvg_py']} "
        f"(resvg {meta['resvg']}), CairoSVG {meta['cairosvg']}, Sanic {meta['sanic']}, "
        f"{meta['wrk']}",
        f"- Other processes used {meta['quiet']} cores just before the start (the run waits up",
        "  to 60 s for them to drop under 0.3) and kept "
        f"**{meta['others_render']}** of {meta['nproc']} cores busy "
        f"during the render benchmark, **{meta['others_load']}** during the V1 load benchmark,",
        f"  **{meta['others_load_v2']}** during the V2 load benchmark and "
        f"**{meta['others_webhooks']}** during the",
        "  webhook benchmark (machine CPU time from `/proc/stat` minus this run's own, averaged",
        "  over the part; the V2 and webhook sections also split it per measurement).",
        "",
        "The machine is shared: when other processes (e.g. colleagues' cargo builds) hold a core,",
        "every figure below is pessimistic and the two-thread scaling cannot show.",
        "",
        "## Commands",
        "",
        "```sh",
        "make bench                              # = .venv/bin/python bench/run.py",
        f".venv/bin/python bench/render_bench.py --rounds {render['rounds']} "
        f"--warmup {render['warmup']}",
        f".venv/bin/python bench/load_v1.py --duration {V1_DURATION} --threads 1 "
        f"--connections {V1_CONNECTIONS}",
        f"{load['command']}   # run by load_v1.py",
        f".venv/bin/python bench/load_v2.py --duration {V2_DURATION} --threads 1 "
        f"--connections {V2_CONNECTIONS}",
        *(f"{load2[key]['command']}   # run by load_v2.py" for key, _, _ in V2_PATHS),
        f".venv/bin/python bench/webhooks_bench.py --deliveries {hooks['deliveries']} "
        f"--renders {hooks['renders']} --backend both",
        "```",
        "",
        "## Rendering (one process, interleaved rounds)",
        "",
        f"The reference card (`bench/reference_card.py`, {render['svg_bytes']} bytes of SVG, "
        "1200x630) rendered",
        f"{render['rounds']} times per renderer after {render['warmup']} warm-ups; each round runs",
        "every contender once in a shuffled order so they share the machine's noise.",
        "",
        _row("path", "median ms", "p95 ms", "min ms", "PNG bytes"),
        _row("---", "---:", "---:", "---:", "---:"),
        *(
            _row(f"`{t['name']}`", t["median_ms"], t["p95_ms"], t["min_ms"], f"{t['png_bytes']:,}")
            for t in render["timings"]
        ),
        "",
        "- `ogmint render_svg`: `ogmint._native.Renderer(bundled_font_dirs()).render_svg(svg)`.",
        "- `resvg-py 0.5.0`: `resvg_py.svg_to_bytes(svg_string=svg, skip_system_fonts=True, "
        "font_dirs=bundled_font_dirs())`",
        "  — the same fonts; resvg-py rebuilds its font database on every call, a cost its",
        "  users pay too.",
        "- `cairosvg`: `cairosvg.svg2png(bytestring=svg)`. Inter is not known to fontconfig, so",
        "  cairo draws the text in its fallback sans (DejaVu): same layout, other glyphs.",
        "- `blog template`: the V1 path from `server/ogmint/rendering/pipeline.py` —",
        "  `parse_params` → `templates['blog'].render(spec, images, renderer)` →",
        "  `Renderer.render_svg` — with tag, a unique title per call, description, author and",
        "  the `midnight` palette; `+ avatar` adds the reference avatar as the fetched image;",
        "  `SVG only` stops before `render_svg` (parsing + text fitting; its bytes are SVG).",
        "",
        "Ratios (medians): "
        f"resvg-py / ogmint = **{ratios['resvg_over_ogmint']}x**, "
        f"cairosvg / ogmint = **{ratios['cairosvg_over_ogmint']}x**; "
        f"ogmint PNG bytes / resvg-py PNG bytes = **{ratios['ogmint_bytes_over_resvg']}**.",
        "",
        "Same picture? Mean absolute RGB difference (0-255) from ogmint's PNG: "
        f"resvg-py {render['pixel_diff']['ogmint_vs_resvg']}, "
        f"cairosvg {render['pixel_diff']['ogmint_vs_cairosvg']} (font fallback). "
        "The PNGs of this run are in `bench/out/`.",
        "",
        "### Two threads",
        "",
        f"`render_svg` of the reference card, {render_bench.SCALING_RENDERS} renders per "
        "measurement through a `ThreadPoolExecutor` (the native code releases the GIL), and a",
        "control with the same harness: `zlib.compress` of 3 MiB, which releases the GIL too.",
        f"{render_bench.SCALING_TRIALS} trials, each measuring both back to back; cores busy ="
        " process CPU / wall.",
        "",
        _row(
            "trial",
            "render 1 thread /s",
            "render 2 threads /s",
            "render scaling",
            "cores busy (2 threads)",
            "control scaling",
        ),
        _row("---", "---:", "---:", "---:", "---:", "---:"),
        *(
            _row(
                i + 1,
                t["render"]["threads_1_rps"],
                t["render"]["threads_2_rps"],
                f"{t['render']['speedup']}x",
                t["render"]["threads_2_cores_busy"],
                f"{t['control']['speedup']}x",
            )
            for i, t in enumerate(scaling)
        ),
        "",
        f"Best render scaling 1 → 2 threads: **{best['render']['speedup']}x** (ideal on 2 cores:"
        f" 2x; the control reached {best['control']['speedup']}x in that trial). A trial where the",
        "control does not scale either had its second core taken by other processes.",
        "",
        "## V1 under load (real server, unique renders)",
        "",
        f"`python -m ogmint` with {load['workers']} workers (default 2 render threads each), a",
        "temporary data dir and `OGMINT_ANONYMOUS_DAILY_LIMIT=100000000`; wrk on 127.0.0.1 with",
        "`bench/unique_v1.lua`, which gives every request its own title (counter + wrk thread id)",
        f"and rotates palettes, so each 200 is one real render. After a {load_v1.WARMUP_SECONDS} s",
        f"warm-up, {load['seconds']} s measured. wrk shares the two cores with the server.",
        "",
        _row("figure", "value"),
        _row("---", "---:"),
        _row("unique renders/s (200s only)", f"**{load['unique_renders_per_s']}**"),
        _row("requests", load["requests"]),
        _row("non-2xx/3xx responses", load["non_2xx_3xx"]),
        _row("socket errors (connect/read/write/timeout)", load["socket_errors"]),
        _row("latency p50 ms", load["latency_ms"]["p50"]),
        _row("latency p90 ms", load["latency_ms"]["p90"]),
        _row("latency p99 ms", load["latency_ms"]["p99"]),
        _row("PNG bytes of a sample card", f"{load['sample_png_bytes']:,}"),
        _row("server start to healthy, s", load["startup_s"]),
        "",
        "<details><summary>wrk output</summary>",
        "",
        "```",
        load["wrk_output"],
        "```",
        "",
        "</details>",
        "",
        *_v2_section(load2),
        *_webhooks_section(hooks),
    ]
    return "\n".join(lines)


def _v2_section(load: dict) -> list[str]:
    ratios = load["ratios"]
    ok = load["ok_rps"]

    def refused(r: dict) -> str:
        status = r["status"]
        if not any(status.values()):  # load_v2.lua counts statuses in its POST modes only
            return str(r["non_2xx_3xx"] + r["socket_errors"])
        return f"{r['non_2xx_3xx']} ({status['429']} / {status['503']} / {status['other']})"

    def cores(r: dict) -> str:
        c = r["cores"]
        return " / ".join(str(c.get(k, "–")) for k in ("server", "redis", "moto", "wrk", "others"))

    return [
        "## V2 under load (Redis backend)",
        "",
        "`bench/load_v2.py` starts `redis-server` (loopback, no persistence) and `python -m ogmint`",
        f"with {load['workers']} workers on it, images on local disk (`--storage s3` puts them in a",
        "moto S3 server instead, which on this 2-core machine itself burns about half a core that",
        "real S3 would not). Quotas are out of the way (`agency=100000000`; anonymous V1 limit",
        "likewise). The burst limit is 5",
        f"requests/s per user, so it creates {load['users']} users with one `agency` key each",
        f"through the app's own Redis state ({load['keys_s']} s), then pre-renders one card",
        f"for each of the first {load['dedup_keys']} keys through V2 ({load['prerender_s']} s).",
        "wrk drives 127.0.0.1 with `bench/load_v2.lua`; each measurement gets a",
        f"{load['warmup_s']} s warm-up, then {load['ceiling']['seconds']:.0f} s measured with "
        f"`-t1 -c{V2_CONNECTIONS}` (renders, V1 and V2 alike, with `-c{load['render_connections']}`: they",
        "are CPU-bound, so more connections would only queue or be shed with 503):",
        "",
        "- ceiling: `bench/ceiling_app.py`, bare Sanic (same version, same worker count) answering",
        "  a fixed 40 KB body, and again with a body as large as the stored image — run last,",
        "  after every other process is stopped;",
        f"- `GET /i/{{slug}}` rotating over {load['image_count']} stored images of about "
        f"{load['image_bytes']:,} bytes",
        "  (more bytes per answer than the ceiling's 40 KB);",
        f"- V2 dedup hits: `POST /api/v2/render` rotating over the {load['dedup_keys']} (key, body)",
        "  pairs already rendered, each answered `200` with `cached: true`;",
        f"- V2 unique renders: a new title per request, rotating over the first {load['render_users']} keys",
        "  (201): each user stays under its burst limit and, like a real API client, is seen often",
        "  enough for the per-worker key cache to hold its key;",
        "- V1 unique renders: `GET /api/og`, anonymous, the same card with new titles (200), and",
        "  again with an `x-api-key` rotating over the same keys as V2 (burst limit and monthly",
        "  quota charged, as for V2).",
        "",
        "Requests/s counts only the answers named in the third column; refused answers (429 / 503",
        "/ other) are cheap and would flatter the figure. Cores = CPU time of each process group",
        "(server = the app's main process and workers) / wall time during the measurement;",
        "`others` is the rest of the machine.",
        "",
        _row(
            "path",
            "counts",
            "requests/s",
            "all answers/s",
            "p50 ms",
            "p99 ms",
            "non-2xx (429 / 503 / other)",
            "cores: server / redis / moto / wrk / others",
        ),
        _row("---", "---", "---:", "---:", "---:", "---:", "---:", "---"),
        *(
            _row(
                label,
                counts,
                f"**{ok[key]}**",
                load[key]["rps"],
                load[key]["latency_ms"]["p50"],
                load[key]["latency_ms"]["p99"],
                refused(load[key]),
                cores(load[key]),
            )
            for key, label, counts in V2_PATHS
        ),
        "",
        "Ratios: V2 dedup hits / ceiling = "
        f"**{ratios['dedup_over_ceiling']:.1%}**, `/i/{{slug}}` / ceiling = "
        f"**{ratios['images_over_ceiling']:.1%}**, V2 unique renders / V1 unique renders = "
        f"**{ratios['v2_over_v1_unique']:g}x** (targets: see the top); against V1 with an API key "
        f"(the same limits work as V2): **{ratios['v2_over_v1_key_unique']:g}x**.",
        "",
        "CPU per render (server and Redis cores x seconds / renders): "
        + ", ".join(
            f"{label} {_cpu_per_request(load, key, ok[key]):.2f} ms"
            for key, label in (
                ("v2_unique", "V2"),
                ("v1_unique", "V1 anonymous"),
                ("v1_key_unique", "V1 with a key"),
            )
        )
        + ". The same render costs both the same; V2 also writes the PNG and waits for a",
        "`syncfs` covering it and its directory entry (the 201 promises a durable image; renders",
        "finishing together share one) and records the render in Redis, work V1 does not do.",
        "",
        "Like for like (the ceiling answering as many bytes as `/i/` does): `/i/{slug}` / ceiling = "
        f"**{ratios['images_over_sized_ceiling']:.1%}**. Server start to healthy: "
        f"{load['startup_s']} s.",
        "",
        "<details><summary>wrk output</summary>",
        "",
        "```",
        *(load[key]["wrk_output"] + "\n" for key, _, _ in V2_PATHS),
        "```",
        "",
        "</details>",
        "",
    ]


def _webhooks_section(hooks: dict) -> list[str]:
    backends = hooks["backends"]
    names = {"embedded": "embedded SQLite", "redis": "Redis"}

    def cores(h: dict) -> str:
        c = h["delivery_cores"]
        return f"{c['server']} / {c['receiver']} / {c['others']}"

    def pair(h: dict, key: str) -> str:
        return f"{h['v2_without_webhook'][key]} / {h['v2_with_webhook'][key]}"

    return [
        "## Webhooks (embedded SQLite and Redis)",
        "",
        "`bench/webhooks_bench.py` runs each backend in turn, each with its own throw-away data",
        f"dir: `python -m ogmint` with {hooks['workers']} workers (images on local disk; the Redis "
        "backend on a",
        "scratch `redis-server`, loopback, no persistence), trusting a throw-away CA",
        "(`OGMINT_OUTBOUND_CA_FILE`) and allowed to reach loopback "
        "(`OGMINT_OUTBOUND_ALLOW=127.0.0.1`),",
        "and `bench/webhook_receiver.py`, an aiohttp HTTPS receiver answering 204, in its own",
        "process on the same two cores.",
        "",
        f"- Deliveries/s: {hooks['deliveries']} signed `render.completed` deliveries are queued "
        "through the",
        "  app's own state store (SQLite outbox / Redis stream) before the server starts, so no",
        "  rendering is measured; the figure is deliveries between the receiver's first and last",
        "  request, over that time. Cores = CPU time / wall time from healthy to the last",
        "  delivery, of the server's process group, the receiver and the rest of the machine.",
        f"- Added latency: {hooks['renders']} V2 renders (`POST /api/v2/render`, `blog`, a new "
        "title each)",
        "  with `webhookUrl` + `webhookSecret` + `metadata` and as many without, interleaved in",
        f"  one shuffled sequence after {hooks['warmup_requests']} warm-ups and sent one at a time, "
        f"round-robin over {hooks['users']}",
        "  `agency` keys (burst limit); client-side time of each request, a new connection each.",
        "  The deliveries they trigger run meanwhile in the same server processes.",
        "",
        _row(
            "backend",
            "deliveries/s",
            "delivered / queued",
            "seconds",
            "cores: server / receiver / others",
            "queueing s",
            "server start s",
        ),
        _row("---", "---:", "---:", "---:", "---", "---:", "---:"),
        *(
            _row(
                names.get(name, name),
                f"**{h['deliveries_per_s']}**",
                f"{h['deliveries']} / {h['deliveries_queued']}",
                h["delivery_seconds"],
                cores(h),
                h["prefill_s"],
                h["startup_s"],
            )
            for name, h in backends.items()
        ),
        "",
        _row(
            "backend",
            "median ms without / with",
            "added median ms",
            "p95 ms without / with",
            "added p95 ms",
            "added median ms, both after a request without",
            "spill-over median ms",
            "webhooks delivered: by the last request / in all / asked for (warm-ups too)",
        ),
        _row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"),
        *(
            _row(
                names.get(name, name),
                pair(h, "median_ms"),
                f"**{h['extra_median_ms']:+g}**",
                pair(h, "p95_ms"),
                f"{h['extra_p95_ms']:+g}",
                f"{h['extra_after_plain_median_ms']:+g}",
                f"{h['spill_over_median_ms']:+g}",
                f"{h['webhooks_delivered_during_requests']} / {h['webhooks_delivered']} / "
                f"{h['webhooks_dispatched']}",
            )
            for name, h in backends.items()
        ),
        "",
        "A request with a webhook only adds the delivery to the outbox, in the same write that",
        "records the render; the delivery itself runs afterwards in a server process, so its",
        "CPU cost (TLS handshake, signing, recording the attempt; the receiver's share too, on",
        "this machine) lands on whatever request comes next, with or without a webhook. In a",
        "shuffled sequence both variants follow either kind equally often, so `added` is the",
        "cost on the request itself; `both after a request without` compares the two variants",
        "free of that spill-over, and `spill-over` is how much slower a request without a",
        "webhook is right after one with it than right after one without.",
        "",
    ]


def _wait_for_quiet(limit_s: float, busy: float = 0.3, window_s: float = 3.0) -> float:
    """Waits (at most ``limit_s``) until other processes use under ``busy`` cores; returns it."""
    deadline = time.monotonic() + limit_s
    while True:
        before = cpu_snapshot()
        time.sleep(window_s)
        others = others_busy(before, cpu_snapshot())
        if others < busy or time.monotonic() >= deadline:
            return others


def main() -> int:
    started = time.perf_counter()
    print("waiting up to 60 s for the machine to be quiet …", flush=True)
    quiet = _wait_for_quiet(60.0)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "resvg_py": _version("resvg_py"),
        "cairosvg": _version("CairoSVG"),
        "sanic": _version("sanic"),
        "wrk": _wrk_version(),
        "load_start": _load(),
        "quiet": quiet,
    }
    import resvg_py

    meta["resvg"] = getattr(resvg_py, "__resvg_version__", "?")

    print("render benchmark …", flush=True)
    cpu0 = cpu_snapshot()
    render = render_bench.run(out_dir=OUT)
    cpu1 = cpu_snapshot()
    meta["load_mid"] = _load()
    print("load benchmark …", flush=True)
    load = load_v1.run(duration=V1_DURATION, threads=1, connections=V1_CONNECTIONS)
    cpu2 = cpu_snapshot()
    print("V2 load benchmark …", flush=True)
    load2 = load_v2.run(duration=V2_DURATION, threads=1, connections=V2_CONNECTIONS)
    cpu3 = cpu_snapshot()
    print("webhook benchmark …", flush=True)
    hooks = webhooks_bench.run(deliveries=WEBHOOK_DELIVERIES, renders=WEBHOOK_RENDERS)
    cpu4 = cpu_snapshot()
    meta["load_end"] = _load()
    meta["others_render"] = others_busy(cpu0, cpu1)
    meta["others_load"] = others_busy(cpu1, cpu2)
    meta["others_load_v2"] = others_busy(cpu2, cpu3)
    meta["others_webhooks"] = others_busy(cpu3, cpu4)
    meta["total_s"] = round(time.perf_counter() - started)

    kept = kept_sections(RESULTS.read_text()) if RESULTS.exists() else ""
    RESULTS.write_text(_report(render, load, load2, hooks, meta) + kept)
    print(RESULTS.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
