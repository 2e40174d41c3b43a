"""Records the state contract tests store, and the clock helper their timing windows use."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time

from ogmint.state.deliveries import AttemptOutcome, Delivery
from ogmint.state.renders import RenderRecord
from ogmint.state.store import State
from ogmint.state.templates import TemplateSource

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def record(
    slug: str,
    user: str = "alice",
    dedup_key: str = "d1",
    *,
    owner: str = "alice-user",
    created_at: str = "2026-11-05T10:20:30.456Z",
) -> RenderRecord:
    return RenderRecord(
        slug=slug,
        user=user,
        dedup_key=dedup_key,
        storage_key=f"images/{slug}.png",
        etag='"abc123"',
        size=4321,
        template="basic",
        created_at=created_at,
        owner=owner,
        format="webp",
        width=1080,
        height=1350,
        params='{"template":"basic","title":"Hi"}',
    )


def delivery(slug: str, n: int = 1) -> Delivery:
    return Delivery(
        id=f"msg_{slug}{n}",
        slug=slug,
        owner="alice-user",
        url="https://hooks.example.com/x",
        secret="s3cret",
        body='{"event":"render.completed","data":{"t":"é 🚀"}}'.encode(),
        created_at="2026-11-05T10:20:30.456Z",
    )


def outcome(state: str, status: int | None = 200, retry_in: float = 0.0) -> AttemptOutcome:
    return AttemptOutcome(
        "2026-11-05T10:20:31.000Z", status, "" if status == 200 else "HTTP 500", 12, state, retry_in
    )


class Window:
    """A timing window of ``seconds`` opened when a call started.

    On a loaded machine a test cannot know how long its calls took, so "still inside the
    window" is asserted only while the measured elapsed time proves it (``inside``), and
    "after the window" is reached by sleeping past the latest moment it can end (``wait_out``).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.opened = time.monotonic()  # no later than the backend's own start of the window
        self.latest_start = self.opened

    def started(self) -> None:
        """The call that opened the window has returned: it began no later than now."""
        self.latest_start = time.monotonic()

    def inside(self) -> bool:
        """True only if the window is certainly still open."""
        return time.monotonic() - self.opened < self.seconds

    async def wait_out(self, margin: float = 0.1) -> None:
        await asyncio.sleep(max(self.latest_start + self.seconds + margin - time.monotonic(), 0))


async def check_template_from_before_sizes(state: State) -> None:
    """Template ``custom_a`` of ``alice``, stored (source ``<svg/>``) by a version without
    per-size documents, reads as having none and takes them on its next update."""
    found = await state.templates.get_template("alice", "custom_a")
    assert found is not None
    assert (found[0].sizes, found[1]) == ("[]", TemplateSource("<svg/>"))
    assert [m.sizes for m in await state.templates.list_templates("alice")] == ["[]"]
    new = TemplateSource("<svg>2</svg>", {"square": "<svg>sq</svg>"})
    meta = dataclasses.replace(found[0], version="v2", sizes='["square"]')
    assert await state.templates.update_template(meta, new) == meta
    assert await state.templates.get_template("alice", "custom_a") == (meta, new)
