"""V1 with ``avatar``/``logo`` fetched from a real local HTTPS server through the guarded client."""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import trustme
from PIL import Image

from conftest import Server
from golden.cases import NEAR_EXACT, all_cases, difference
from golden.samples import avatar_png, logo_png
from receiver import Receiver, write_ca
from support import Reply, assert_error, request


def image_bytes(color: str, fmt: str, size: int = 300) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Receiver, str]]:
    ca = trustme.CA()
    r = Receiver(ca)
    r.files = {
        "/red.png": image_bytes("#ff0000", "PNG"),
        "/blue.jpg": image_bytes("#0000ff", "JPEG"),
        "/text.png": b"this is not an image",
    }
    r.start()
    yield r, write_ca(ca, tmp_path_factory.mktemp("ca") / "ca.pem")
    r.stop()


@pytest.fixture(scope="module")
def app(origin: tuple[Receiver, str], server_factory: Callable[..., Server]) -> Server:
    _, ca_file = origin
    return server_factory(
        OGMINT_OUTBOUND_ALLOW="127.0.0.1",
        OGMINT_OUTBOUND_CA_FILE=ca_file,
        OGMINT_ANONYMOUS_DAILY_LIMIT="1000",
    )


def og(app: Server, **params: str) -> Reply:
    return request(f"{app.url}/api/og?{urllib.parse.urlencode(params)}")


def test_avatar_and_logo_are_fetched_and_drawn(origin: tuple[Receiver, str], app: Server) -> None:
    r, _ = origin
    reply = og(
        app,
        template="blog",
        title="With images",
        author="Jane",
        avatar=r.url("/red.png"),
        logo=r.url("/blue.jpg"),
        palette="paper",
    )
    assert reply.status == 200, reply.body
    px = np.asarray(reply.image().convert("RGB"), dtype=np.int16)
    # blog draws the avatar as a 48 px circle at (80, 518) and the logo top right.
    avatar = px[532:552, 94:114].reshape(-1, 3).mean(axis=0)
    assert avatar[0] > 200 and avatar[1] < 60 and avatar[2] < 60, avatar
    logo_region = px[72:124, 940:1120].reshape(-1, 3)
    blue = (logo_region[:, 2] > 200) & (logo_region[:, 0] < 60)
    assert blue.sum() > 1000


def test_served_card_is_the_golden_image(origin: tuple[Receiver, str], app: Server) -> None:
    """A V1 render whose avatar and logo come through the real fetch path is, pixel for pixel,
    the golden image (whose images go through the same re-encoding)."""
    r, _ = origin
    r.files["/golden-avatar.png"], r.files["/golden-logo.png"] = avatar_png(), logo_png()
    case = next(c for c in all_cases() if c.name == "blog-paper")
    params = {
        **case.params,
        "avatar": r.url("/golden-avatar.png"),
        "logo": r.url("/golden-logo.png"),
    }
    reply = og(app, template=case.template, palette=case.palette, **params)
    assert reply.status == 200, reply.body
    got = np.asarray(reply.image().convert("RGB"), dtype=np.int16)
    want = np.asarray(Image.open(case.path).convert("RGB"), dtype=np.int16)
    mean, differing = difference(want, got, NEAR_EXACT)
    assert mean <= NEAR_EXACT.max_mean_diff and differing <= NEAR_EXACT.max_differing_fraction


def test_fetched_images_are_cached_by_url(origin: tuple[Receiver, str], app: Server) -> None:
    r, _ = origin
    r.files["/cached.png"] = image_bytes("#00ff00", "PNG")
    for i in range(3):
        assert (
            og(
                app, template="blog", title=f"Cache {i}", author="A", avatar=r.url("/cached.png")
            ).status
            == 200
        )
    assert len(r.hits_for("/cached.png")) == 1


@pytest.mark.parametrize(
    ("path", "field"),
    [("/missing.png", "avatar"), ("/text.png", "logo")],
)
def test_unusable_images_are_400_naming_the_field(
    origin: tuple[Receiver, str], app: Server, path: str, field: str
) -> None:
    r, _ = origin
    r.script[path] = [404] if path == "/missing.png" else []
    body = assert_error(
        og(app, template="blog", title="Bad image", **{field: r.url(path)}), 400, field
    )
    assert body["code"] == "fetch_failed"


def test_redirects_are_not_followed(origin: tuple[Receiver, str], app: Server) -> None:
    r, _ = origin
    r.script["/moved.png"] = ["redirect"]
    body = assert_error(
        og(app, template="blog", title="Moved", avatar=r.url("/moved.png")), 400, "avatar"
    )
    assert body["code"] == "fetch_failed"
    assert "302" in body["error"] and "redirect" in body["error"], body
    assert r.hits_for("/elsewhere") == []  # the Location was never requested


def test_untrusted_certificate_is_refused(
    origin: tuple[Receiver, str], app: Server, server_factory: Callable[..., Server]
) -> None:
    r, _ = origin
    strict = server_factory(OGMINT_OUTBOUND_ALLOW="127.0.0.1", OGMINT_ANONYMOUS_DAILY_LIMIT="10")
    before = len(r.hits_for("/red.png"))
    body = assert_error(
        og(strict, template="blog", title="TLS", avatar=r.url("/red.png")), 400, "avatar"
    )
    assert body["code"] == "fetch_failed"
    assert len(r.hits_for("/red.png")) == before  # no request was sent over the failed handshake
    # The refusal is the certificate's: a server trusting the CA fetches the same URL.
    assert og(app, template="blog", title="TLS", avatar=r.url("/red.png")).status == 200
