"""Jinja2 pages of the dashboard: one environment per worker, HTML autoescaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sanic import HTTPResponse, Request

from ogmint.dashboard.readable import number, when

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
#: Navigation links every signed-in page shows (SPEC §10 names them).
NAV = (
    ("Get started", "/dashboard/start"),
    ("Settings", "/dashboard/settings"),
    ("Usage", "/dashboard/usage"),
    ("Renders", "/dashboard/renders"),
    ("Templates", "/dashboard/templates"),
    ("Brands", "/dashboard/brands"),
    ("API", "/dashboard/api"),
)


class Pages:
    """Renders the dashboard's templates into ``text/html`` responses."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals["nav"] = NAV
        self._env.globals["flash"] = None  # pages with a session say its message
        self._env.filters["when"] = when
        self._env.filters["number"] = number

    def html(self, page: str, status: int = 200, /, **context: Any) -> HTTPResponse:
        body = self._env.get_template(page).render(**context)
        return HTTPResponse(
            body,
            status=status,
            content_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )


def page(request: Request, name: str, status: int = 200, /, **context: Any) -> HTTPResponse:
    """The dashboard page ``name`` through the app's :class:`Pages` (built by ``create_app``)."""
    pages: Pages = request.app.ctx.pages
    return pages.html(name, status, **context)
