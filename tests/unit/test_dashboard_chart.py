"""The usage chart and the playground's snippets: well-formed, escaped, on a readable scale."""

from __future__ import annotations

import json
import shlex
import xml.etree.ElementTree as ET
from datetime import date

from ogmint.dashboard.chart import usage_chart
from ogmint.dashboard.playground import snippets
from ogmint.domain.usage import month_days
from ogmint.state.usage import DayCount

SVG = "{http://www.w3.org/2000/svg}"


def test_one_stacked_bar_per_day_with_values_on_the_axis() -> None:
    days = [DayCount(d, 0, 0, 0) for d in month_days(date(2026, 2, 10))]
    assert len(days) == 28
    days[3] = DayCount(days[3].day, 7, 30, 2)
    days[9] = DayCount(days[9].day, 0, 4, 0)
    root = ET.fromstring(usage_chart(days))
    assert root.get("role") == "img"
    assert "Renders per day" in (root.get("aria-label") or "")
    rects = root.findall(f".//{SVG}rect")
    assert sorted(r.get("class") for r in rects) == ["v1", "v2", "v2"]
    axis = [t.text for t in root.findall(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert axis == ["0", "10", "20", "30", "40"]  # 37 renders on the busiest day
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "2026-02-04: 7 V1, 30 V2, 2 dedup hits" in titles
    tallest = max(float(r.get("height") or 0) for r in rects)
    assert tallest < 240


def test_an_empty_month_draws_no_bars() -> None:
    root = ET.fromstring(usage_chart([DayCount("2026-03-01", 0, 0, 0)]))
    assert root.findall(f".//{SVG}rect") == []


def test_snippets_quote_what_they_embed() -> None:
    params = {"template": "blog", "title": 'It\'s <b>"fun"</b> & more'}
    out = snippets("https://og.example.com", params)
    assert out["v1"].startswith("https://og.example.com/api/og?template=blog&title=It%27s+")
    words = shlex.split(out["curl"].replace("\\\n", " "))
    body = words[words.index("-d") + 1]
    assert json.loads(body) == params
    assert "<b>" not in out["meta"]
    assert 'content="https://og.example.com/api/og?template=blog&amp;title=' in out["meta"]
