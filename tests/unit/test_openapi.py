"""The OpenAPI document describes every route the app serves, and nothing else."""

from __future__ import annotations

import json
import re
from importlib import resources

from sanic import Sanic

from ogmint.app import create_app
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
