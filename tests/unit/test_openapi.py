"""The OpenAPI document describes every route the app serves, and nothing else."""

from __future__ import annotations

import json
import re
from importlib import resources

from sanic import Sanic

from ogmint.app import create_app
from ogmint.dashboard.reference import operations
from ogmint.settings import Settings


def shape(path: str) -> str:
    """A path with its parameters blanked: ``/i/<slug:str>`` and ``/i/{slug}`` → ``/i/{}``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_route_is_documented() -> None:
    doc = json.loads(resources.files("ogmint").joinpath("openapi.json").read_text())
    app = create_app(Settings())
    Sanic.unregister_app(app)  # the name stays free for other tests that build the app
    # The dashboard's HTML pages and forms are the console, not the API (README: Dashboard);
    # nor is the browsers' icon.
    served = {
        (shape("/" + r.path), method.lower())
        for r in app.router.routes
        for method in r.methods
        if not r.path.startswith("dashboard") and r.path != "favicon.ico"
    }
    documented = {(shape(path), method) for path, item in doc["paths"].items() for method in item}
    assert served == documented


def test_the_api_page_shows_each_body_fields_type() -> None:
    # Review 2026-12: the preview's fields share the render's definitions ($ref); the API page
    # showed them with no type or description.
    doc = json.loads(resources.files("ogmint").joinpath("openapi.json").read_text())
    untyped = [
        (op["method"], op["path"], name)
        for op in operations(doc)
        for name, field in op["body"].items()
        if "type" not in field and "anyOf" not in field
    ]
    assert untyped == []
    preview = next(o for o in operations(doc) if o["path"] == "/api/v2/templates/preview")
    assert preview["body"]["size"]["type"] == "string" and preview["body"]["size"]["description"]
