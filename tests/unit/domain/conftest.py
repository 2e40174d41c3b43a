"""The domain services on an embedded SQLite state, local storage and the real renderer, with
no server: what ``create_app`` wires, built here piece by piece."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from ogmint.domain.brands import Brands
from ogmint.domain.deliveries import Deliveries
from ogmint.domain.gallery import Gallery
from ogmint.domain.keys import ApiKeys
from ogmint.domain.library import Library
from ogmint.domain.limits import Limits
from ogmint.domain.plans import Plans
from ogmint.domain.renders import Renders
from ogmint.domain.repeats import RepeatCache
from ogmint.domain.signing_keys import SigningKeys
from ogmint.domain.templates import CustomTemplateSettings, TemplateCatalogue
from ogmint.domain.usage import Reports, Usage
from ogmint.domain.webhooks import Webhooks
from ogmint.errors import FetchError, FieldError
from ogmint.metrics import Metrics
from ogmint.net import AddressPolicy, GuardedClient
from ogmint.rendering.images import ImageFetcher
from ogmint.rendering.native import Renderer
from ogmint.rendering.pipeline import RenderPipeline
from ogmint.rendering.template import TemplateLimits, load_directory
from ogmint.state.sqlite import sqlite_state
from ogmint.state.store import State
from ogmint.state.usage import Retention
from ogmint.storage.local import LocalStorage

ROOT = Path(__file__).resolve().parents[3]
#: Small plans, so quotas run out within a test; ``platinum`` is a plan only settings name.
PLANS = (("free", 3), ("pro", 100), ("platinum", 7))
ANONYMOUS_DAILY = 2
#: Small budgets of work without a quota, so they run out within a test.
PREVIEWS = 3
REDELIVERIES = 2
MAX_KEYS = 4
MAX_BRANDS = 3
#: Webhook hosts these tests may name: exempt from the address checks, so nothing is resolved.
WEBHOOK_HOST = "hooks.example.test"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (*rgb, 255)).save(out, "PNG")
    return out.getvalue()


#: The images brand logos may name in these tests (see ``fetch_logo`` below).
MARK = "https://logos.example.test/mark.png"
WORDMARK = "https://logos.example.test/wordmark.png"
LOGOS = {MARK: png(200, 200, (230, 40, 40)), WORDMARK: png(480, 120, (40, 40, 230))}


@dataclass
class Domain:
    """The services under test, and the state and storage under them (to check effects)."""

    state: State
    storage: LocalStorage
    plans: Plans
    keys: ApiKeys
    signing_keys: SigningKeys
    limits: Limits
    usage: Usage
    templates: TemplateCatalogue
    brands: Brands
    gallery: Gallery
    renders: Renders
    deliveries: Deliveries
    woken: list[str]
    library: Library
    reports: Reports


@pytest.fixture
async def domain(tmp_path: Path, renderer: Renderer) -> AsyncIterator[Domain]:
    state = sqlite_state(tmp_path / "state.db")
    await state.open()
    storage = LocalStorage(tmp_path / "data")
    await storage.open()
    outbound = AddressPolicy((WEBHOOK_HOST,))
    client = GuardedClient(outbound, ca_file="", timeout=2.0, max_bytes=1 << 20)
    fetcher = ImageFetcher(
        client, capacity=renderer.capacity, threads=1, max_pixels=1 << 20, cache_bytes=1 << 20
    )
    woken: list[str] = []
    plans = Plans(PLANS)
    keys = ApiKeys(state.keys, plans, ttl=60.0, max_active=MAX_KEYS)
    limits = Limits(
        state.limits,
        plans,
        anonymous_daily=ANONYMOUS_DAILY,
        image_per_minute=0,
        signed_per_minute=0,
        previews_per_hour=PREVIEWS,
        redeliveries_per_hour=REDELIVERIES,
    )
    repeats = RepeatCache(state.repeats, storage, 1 << 20)
    usage = Usage(state.usage, Retention(days=31, recent=100))
    templates = TemplateCatalogue(
        state.templates,
        renderer,
        load_directory(ROOT / "templates"),
        CustomTemplateSettings(
            TemplateLimits(), max_per_user=4, render_budget=5.0, cache_bytes=8 << 20
        ),
    )
    gallery = Gallery(state.renders, storage)

    async def fetch_logo(url: str) -> bytes:
        # The guarded fetcher is tested over HTTPS in the integration tests (and its own unit
        # tests); here a logo URL names one of LOGOS' images, any other fails as a fetch does.
        if url not in LOGOS:
            raise FetchError("logo: could not be fetched", [FieldError("logo", "not found")])
        return LOGOS[url]

    brands = Brands(
        state.brands,
        resolve_font=renderer.resolve_family,
        fetch_logo=fetch_logo,
        max_per_user=MAX_BRANDS,
    )
    pipeline = RenderPipeline(renderer, fetcher, Metrics(None))
    renders = Renders(
        pipeline,
        templates,
        state,
        gallery,
        usage,
        limits,
        plans,
        Webhooks(outbound, "https://og.example.test", lambda: woken.append("render")),
        repeats,
        brands=brands,
        dedup_wait=2.0,
    )
    deliveries = Deliveries(
        state.deliveries, state.renders, keys, limits, lambda: woken.append("redeliver")
    )
    yield Domain(
        state,
        storage,
        plans,
        keys,
        SigningKeys(state.signing_keys, ttl=60.0),
        limits,
        usage,
        templates,
        brands,
        gallery,
        renders,
        deliveries,
        woken,
        Library(state, gallery, deliveries),
        Reports(usage, limits, plans),
    )
    await repeats.close()
    pipeline.close()
    await client.close()
    await storage.close()
    await state.close()
