"""Typed settings, read once from ``OGMINT_*`` environment variables.

Nothing else in the package reads ``os.environ``. Every problem is reported together.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "OGMINT_"


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists them all."""


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _networks(value: str) -> tuple[str, ...]:
    items = _csv(value)
    for item in items:
        if "/" in item:
            ipaddress.ip_network(item, strict=False)
    return items


def _ports(value: str) -> tuple[int, ...]:
    ports = tuple(int(v) for v in _csv(value))
    if any(not 0 < p < 65536 for p in ports):
        raise ValueError("expected comma-separated port numbers (1-65535)")
    return ports


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _quotas(value: str) -> tuple[tuple[str, int], ...]:
    pairs = []
    for item in _csv(value):
        plan, _, n = item.partition("=")
        if not plan or int(n) < 0:
            raise ValueError(f"expected plan=count pairs, got {item!r}")
        pairs.append((plan.strip(), int(n)))
    return tuple(pairs)


def _rates(value: str) -> tuple[tuple[str, float], ...]:
    pairs = []
    for item in _csv(value):
        plan, _, n = item.partition("=")
        rate = float(n) if plan.strip() else 0.0
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"expected plan=requests-per-second pairs, got {item!r}")
        pairs.append((plan.strip(), rate))
    return tuple(pairs)


def _daily_limit(value: str) -> int | None:
    """A count of renders, or ``unlimited`` (None)."""
    if value.strip().lower() == "unlimited":
        return None
    n = int(value)
    if n < 0:
        raise ValueError("expected a number >= 0 or 'unlimited'")
    return n


def _positive_int(value: str) -> int:
    n = int(value)
    if n <= 0:
        raise ValueError("must be > 0")
    return n


def _non_negative_int(value: str) -> int:
    n = int(value)
    if n < 0:
        raise ValueError("must be >= 0")
    return n


def _positive_float(value: str) -> float:
    n = float(value)
    if n <= 0:
        raise ValueError("must be > 0")
    return n


def _delays(value: str) -> tuple[float, ...]:
    delays = tuple(float(v) for v in _csv(value))
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("expected comma-separated positive seconds")
    return delays


def _redis_prefix(value: str) -> str:
    if "{" in value or "}" in value:
        raise ValueError("must not contain '{' or '}' (they are Redis hash tags)")
    return value


def _redis_url(value: str) -> str:
    if value:
        from ogmint.state.redis.address import parse_redis_url  # only where Redis is used

        parse_redis_url(value)
    return value


def _auto_count(value: str) -> int | None:
    return None if value.strip().lower() == "auto" else _non_negative_int(value)


def _headers(value: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in _csv(value):
        name, eq, v = item.partition("=")
        if not eq or not name.strip():
            raise ValueError("expected name=value pairs, comma-separated")
        pairs.append((name.strip(), v.strip()))
    return tuple(pairs)


def _ratio(value: str) -> float:
    n = float(value)
    if not 0 <= n <= 1:
        raise ValueError("must be from 0 to 1")
    return n


def _setting(
    default: Any, description: str, parse: Callable[[str], Any] = str, *, standard: bool = False
) -> Any:
    """A field read from ``OGMINT_<NAME>``, or from ``<NAME>`` itself for a ``standard``
    variable another tool defines (OpenTelemetry's ``OTEL_*``)."""
    metadata = {"description": description, "parse": parse, "standard": standard}
    return field(default=default, metadata=metadata)


def env_name(f: Field[Any]) -> str:
    """The environment variable a settings field is read from."""
    prefix = "" if f.metadata["standard"] else ENV_PREFIX
    return prefix + f.name.upper()


@dataclass(frozen=True, slots=True)
class Settings:
    """All configuration of one ogmint process. Field ``x_y`` is read from ``OGMINT_X_Y``."""

    host: str = _setting("127.0.0.1", "Address the HTTP server binds to.")
    port: int = _setting(8080, "Port the HTTP server listens on.", int)
    workers: int = _setting(
        os.cpu_count() or 1,
        "Number of Sanic worker processes (default: one per CPU).",
        _positive_int,
    )
    public_url: str = _setting(
        "", "Public base URL used in image links (default: http://HOST:PORT)."
    )
    data_dir: Path = _setting(
        Path("data"), "Directory for the embedded SQLite state and image files.", Path
    )
    font_dirs: tuple[str, ...] = _setting(
        (), "Extra comma-separated font directories, loaded after the bundled fonts.", _csv
    )
    templates_dir: Path = _setting(
        Path(__file__).resolve().parents[2] / "templates",
        "Directory holding the built-in templates.",
        Path,
    )
    render_threads: int = _setting(
        2,
        "Renders running at once per worker (threads; the renderer releases the GIL).",
        _positive_int,
    )
    render_queue: int = _setting(
        16, "Renders allowed to wait per worker before answering 503.", int
    )
    render_keep_buffers: bool = _setting(
        False,
        "Keep canvas-sized buffers in the C heap between renders (glibc mallopt): WebP/JPEG at "
        "og@2x or story 5-35 % faster, for a worker RSS that climbs in steps to a higher plateau.",
        _bool,
    )
    render_timeout: float = _setting(
        2.0,
        "Seconds one rasterisation of a 1200×630 image may take before the renderer abandons "
        "it (503); a larger image gets as many times more as it has pixels (story@2x: 11×).",
        _positive_float,
    )
    anonymous_daily_limit: int | None = _setting(
        10,
        "V1 renders per UTC day per client IP without an API key or signature: a number, 0 "
        "(none) or `unlimited`. Repeats are free.",
        _daily_limit,
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        "Comma-separated IPs/CIDRs whose X-Forwarded-For is believed (none by default; list "
        "nginx here).",
        _networks,
    )
    outbound_allow: tuple[str, ...] = _setting(
        (),
        "Comma-separated hosts or CIDRs exempted from the outbound address check (tests).",
        _networks,
    )
    outbound_ports: tuple[int, ...] = _setting(
        (),
        "Comma-separated ports outbound requests may use besides 443 (allow-listed hosts: any).",
        _ports,
    )
    outbound_ca_file: str = _setting("", "Extra CA bundle (PEM) trusted for outbound HTTPS.")
    fetch_timeout: float = _setting(
        5.0, "Seconds allowed for one avatar/logo fetch.", _positive_float
    )
    fetch_max_bytes: int = _setting(
        5 * 1024 * 1024, "Largest avatar/logo download, in bytes.", _positive_int
    )
    image_max_pixels: int = _setting(
        4_194_304,
        "Pixel budget of one decoded avatar/logo (JPEGs count after reduced-scale decoding).",
        _positive_int,
    )
    image_cache_bytes: int = _setting(
        16 * 1024 * 1024, "Bytes of fetched, re-encoded images kept in memory per worker.", int
    )
    decode_threads: int = _setting(
        1,
        "Avatar/logo decodes running at once per worker (each counts against render capacity).",
        _positive_int,
    )
    max_svg_bytes: int = _setting(
        2 * 1024 * 1024, "Largest SVG document the renderer accepts.", _positive_int
    )
    max_svg_nodes: int = _setting(20_000, "Most XML nodes in an SVG document.", _positive_int)
    request_timeout: int = _setting(
        10,
        "Seconds a request may take to arrive (408 after); Sanic restarts it on every chunk, "
        "so nginx in front sets the real deadline.",
        _positive_int,
    )
    graceful_timeout: float = _setting(
        20.0,
        "Seconds a SIGTERM waits for requests, renders and commits in flight before exiting.",
        _positive_float,
    )
    image_rate_limit: int = _setting(
        600,
        "GET /i/ requests per minute per client IP that reach the app (nginx cache hits never "
        "do), a token bucket holding one minute's worth; 0 = unlimited.",
        _non_negative_int,
    )
    behind_nginx: bool = _setting(
        False,
        "Answer /i/ cache misses with X-Accel-Redirect so nginx (the repo's nginx.conf) "
        "streams the stored file itself; set only behind it.",
        _bool,
    )
    max_templates_per_user: int = _setting(
        100, "Custom templates one user may have (SPEC §5.1).", _positive_int
    )
    max_brands_per_user: int = _setting(50, "Brands one user may have (SPEC §6.1).", _positive_int)
    template_max_bytes: int = _setting(
        256 * 1024, "Largest custom template source, in bytes (413 above).", _positive_int
    )
    template_max_elements: int = _setting(
        2000, "Most elements in a template document.", _positive_int
    )
    template_max_depth: int = _setting(24, "Deepest element nesting in a template.", _positive_int)
    template_max_instances: int = _setting(
        5000,
        "Most elements a template draws once every <use> and url(#…) reference is expanded.",
        _positive_int,
    )
    template_max_filters: int = _setting(8, "Most <filter> elements in a template.", int)
    template_max_blur: float = _setting(
        40.0, "Largest blur (stdDeviation, after transforms) in a template.", _positive_float
    )
    template_max_stops: int = _setting(32, "Most stops in one template gradient.", _positive_int)
    template_max_images: int = _setting(
        4, "Most embedded data: images (PNG/JPEG) in a custom template.", int
    )
    template_image_max_pixels: int = _setting(
        2_000_000, "Largest embedded template image, in decoded pixels.", _positive_int
    )
    template_max_filter_work: float = _setting(
        12.0,
        "Most filter work in a template: Σ per filter application (<use> fan-out counted) of its "
        "region in megapixels × its primitives (blurs and merge nodes weighted).",
        _positive_float,
    )
    template_max_merge_nodes: int = _setting(
        16, "Most <feMergeNode>s in one <feMerge> of a template.", _positive_int
    )
    template_max_paint: float = _setting(
        200.0,
        "Most pixels a template paints, in canvases (Σ per drawn shape of its area, weighted "
        "for gradients and layers).",
        _positive_float,
    )
    template_max_dash_segments: int = _setting(
        100_000,
        "Most dash segments a template's dashed outlines draw (length ÷ dash period, all uses).",
        _positive_int,
    )
    template_max_path_segments: int = _setting(
        200_000,
        "Most path and polyline segments a template draws (all uses), counted as the values "
        "of their data (an upper bound).",
        _positive_int,
    )
    template_max_text_chars: int = _setting(
        2000, "Most characters of static <text> a template draws (all uses).", _positive_int
    )
    template_render_budget: float = _setting(
        1.0,
        "Seconds an uploaded template's check may take — compiling and the test render of "
        "every og:if/og:unless branch — (else 400).",
        _positive_float,
    )
    template_cache_bytes: int = _setting(
        32 * 1024 * 1024,
        "Bytes of compiled custom templates kept per worker (least recently used dropped).",
        _positive_int,
    )
    access_log: bool = _setting(False, "Log every request (costs throughput).", _bool)
    metrics_dir: str = _setting(
        "",
        "Directory for the workers' Prometheus metric files, one per server instance, emptied "
        "at start; empty = a fresh temporary directory.",
    )
    redis_url: str = _setting(
        "",
        "Redis URL for shared state: redis://[:password@]host:port[/db], or "
        "redis+sentinel://[:password@]host:port[,host:port…]/service_name[/db] for a "
        "Sentinel-managed primary; empty = embedded SQLite in DATA_DIR.",
        _redis_url,
    )
    redis_replicas: int | None = _setting(
        None,
        "Replicas that must confirm every Redis write (WAIT) before it is acknowledged, else "
        "503; auto = 1 with redis+sentinel://, 0 otherwise.",
        _auto_count,
    )
    redis_prefix: str = _setting(
        "ogmint:",
        "Prefix of every Redis key, so several deployments (or test suites) can share one Redis.",
        _redis_prefix,
    )
    s3_bucket: str = _setting("", "S3 bucket for images; empty = local files in DATA_DIR.")
    s3_endpoint: str = _setting("", "S3 endpoint URL (S3-compatible servers); empty = AWS.")
    s3_region: str = _setting("us-east-1", "S3 region.")
    s3_prefix: str = _setting("", "Key prefix for images in the S3 bucket.")
    dependency_timeout: float = _setting(
        2.0, "Seconds allowed for one Redis or S3 operation before answering 503.", _positive_float
    )
    plan_quotas: tuple[tuple[str, int], ...] = _setting(
        (("free", 100), ("starter", 1_000), ("pro", 10_000), ("agency", 50_000)),
        "Monthly renders per plan, as plan=count pairs (SPEC defaults); name new plans here "
        "(free is required: new users' plan).",
        _quotas,
    )
    plan_bursts: tuple[tuple[str, float], ...] = _setting(
        (),
        "Burst limits as plan=requests-per-second pairs (token buckets); plans not named get 5/s.",
        _rates,
    )
    repeat_cache_bytes: int = _setting(
        1024 * 1024 * 1024,
        "Bytes of V1 images kept for 24 h in the shared repeat cache (storage + state), oldest "
        "dropped first; repeats are served free from it. 0 = off.",
        _non_negative_int,
    )
    signed_max_age: int = _setting(
        300,
        "Seconds CDNs and browsers may keep a signed V1 image (never past exp; the repo's "
        "nginx.conf does not cache them): how long one can outlive its revoked kid.",
        _non_negative_int,
    )
    signing_key_rate_limit: int = _setting(
        120,
        "Renders per minute per signing key for signed V1 URLs that are not repeats, a token "
        "bucket holding one minute's worth; 0 = unlimited.",
        _non_negative_int,
    )
    key_cache_ttl: float = _setting(
        10.0,
        "Seconds a worker remembers an API key or signing key lookup (revocations apply within this).",
        float,
    )
    dedup_wait: float = _setting(
        15.0,
        "Seconds an identical concurrent V2 request waits for the first one's render.",
        _positive_float,
    )

    webhook_timeout: float = _setting(
        10.0, "Seconds allowed for one webhook delivery attempt.", _positive_float
    )
    webhook_retry_schedule: tuple[float, ...] = _setting(
        (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 36000.0),
        "Seconds to wait before each webhook retry (each + up to 25 % jitter); ≈ 25.7 h in all.",
        _delays,
    )
    webhook_lease: float = _setting(
        60.0,
        "Seconds a delivery stays claimed by one worker; then another takes it over (crashes).",
        _positive_float,
    )
    webhook_concurrency: int = _setting(
        16, "Webhook delivery attempts in flight at once per worker process.", _positive_int
    )
    webhook_poll_interval: float = _setting(
        1.0, "Seconds between checks for due webhook deliveries.", _positive_float
    )

    session_ttl: float = _setting(
        14 * 86400.0, "Seconds a dashboard sign-in lasts.", _positive_float
    )
    account_link_ttl: float = _setting(
        3 * 86400.0,
        "Seconds an invite / password-reset link printed by `ogmint users` stays valid.",
        _positive_float,
    )
    sign_in_limit_account: int = _setting(
        10,
        "Dashboard sign-in attempts per e-mail address from one client IP per 15 minutes "
        "(never per address alone: that would let anyone lock its owner out).",
        _positive_int,
    )
    sign_in_limit_ip: int = _setting(
        50, "Dashboard sign-in attempts per client IP per 15 minutes.", _positive_int
    )
    password_change_limit: int = _setting(
        5,
        "Dashboard change-password attempts (current password checks) per user per 15 minutes.",
        _positive_int,
    )
    preview_limit: int = _setting(
        600,
        "Previews per user per hour, shared by POST /api/v2/templates/preview and the "
        "dashboard's pictures and template previews (a token bucket holding an hour's worth).",
        _positive_int,
    )
    redeliver_limit: int = _setting(
        30,
        "Webhook redeliveries per user per hour, API and dashboard together (a token bucket).",
        _positive_int,
    )
    max_api_keys_per_user: int = _setting(
        20,
        "Active (unrevoked) API keys one user may have; CLI and dashboard refuse more.",
        _positive_int,
    )
    usage_retention_days: int = _setting(
        400, "Days of per-user daily render counts kept for the dashboard.", _positive_int
    )
    recent_renders_kept: int = _setting(
        1000,
        "Recent renders listed per user in the dashboard (older ones are dropped).",
        _positive_int,
    )

    otel_exporter_otlp_endpoint: str = _setting(
        "",
        "OpenTelemetry: OTLP/HTTP (protobuf) collector base URL; spans go to <it>/v1/traces. "
        "Empty = no tracing (nothing sent, nothing loaded).",
        standard=True,
    )
    otel_exporter_otlp_headers: tuple[tuple[str, str], ...] = _setting(
        (),
        "OpenTelemetry: name=value headers sent with every export (e.g. auth).",
        _headers,
        standard=True,
    )
    otel_service_name: str = _setting(
        "ogmint", "OpenTelemetry: the service.name of every span.", standard=True
    )
    otel_traces_sampler_arg: float = _setting(
        1.0,
        "OpenTelemetry: the share of traces kept (0-1; a traced caller's decision is followed).",
        _ratio,
        standard=True,
    )
    otel_bsp_schedule_delay: int = _setting(
        5000, "OpenTelemetry: milliseconds between span exports.", _positive_int, standard=True
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Builds settings from ``env`` (default ``os.environ``), reporting all errors at once."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            name = env_name(f)
            if name in env:
                try:
                    values[f.name] = f.metadata["parse"](env[name])
                except ValueError as e:
                    problems.append(f"{name}: {e}")
        settings = None if problems else cls(**values)
        if settings is not None and settings.webhook_lease <= settings.webhook_timeout + 1:
            # A lease shorter than an attempt would hand live deliveries to a second worker.
            problems.append(f"{ENV_PREFIX}WEBHOOK_LEASE: must exceed WEBHOOK_TIMEOUT + 1 s")
        if settings is not None:
            problems.extend(_plan_problems(settings))
        if problems or settings is None:
            raise SettingsError("invalid settings: " + "; ".join(problems))
        return settings

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def redis_replicas_required(self) -> int:
        """How many replicas confirm each write: the setting, or its ``auto`` default."""
        if self.redis_replicas is not None:
            return self.redis_replicas
        return 1 if self.redis_url.lower().startswith("redis+sentinel:") else 0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "ogmint.sqlite3"


def _plan_problems(settings: Settings) -> list[str]:
    """Plan names that do not add up: bursts for plans that have no quota, no default plan."""
    plans = dict(settings.plan_quotas)
    problems = []
    if "free" not in plans:
        problems.append(f"{ENV_PREFIX}PLAN_QUOTAS: must include free (the plan of new users)")
    unknown = [plan for plan, _ in settings.plan_bursts if plan not in plans]
    if unknown:
        problems.append(
            f"{ENV_PREFIX}PLAN_BURSTS: unknown plan {', '.join(unknown)} (plans are those of "
            f"{ENV_PREFIX}PLAN_QUOTAS: {', '.join(plans)})"
        )
    return problems


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting: the README's table comes from this."""
    out = []
    for f in fields(Settings):
        default = "auto" if f.default is None else f.default
        if isinstance(default, tuple):
            default = ",".join(
                d if isinstance(d, str) else f"{d:g}" if isinstance(d, float) else f"{d[0]}={d[1]}"
                for d in default
            )
        out.append((env_name(f), str(default), f.metadata["description"]))
    return out


def markdown_table() -> str:
    """The README's settings table (``python -m ogmint.settings`` prints it)."""
    rows = ["| Variable | Default | Description |", "|---|---|---|"]
    for name, default, description in describe():
        if name == ENV_PREFIX + "TEMPLATES_DIR":
            default = "<repo>/templates"
        elif name == ENV_PREFIX + "WORKERS":
            default = "<CPUs>"
        rows.append(f"| `{name}` | `{default}` | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
