"""The playground's form and what it gives to paste (issue 25: only the chosen template's
fields; meta tags with og:image:alt and the picture's size)."""

from __future__ import annotations

import pytest

from ogmint.dashboard.playground import form_fields, pixels, playground_params, snippets
from ogmint.rendering.template import FieldInfo


def test_only_the_templates_fields_title_first() -> None:
    fields = form_fields(
        (
            FieldInfo("tag", "text", False, 50),
            FieldInfo("title", "text", True, 200),
            FieldInfo("description", "text", False, 500),
            FieldInfo("logo", "image", False, None),
        )
    )
    assert [(f.name, f.label, f.kind) for f in fields] == [
        ("title", "Title", "text"),
        ("tag", "Tag", "text"),
        ("description", "Description", "long"),
        ("logo", "Logo URL", "image"),
    ]


def test_params_keep_the_templates_fields_and_the_look() -> None:
    args = {
        "template": "quote",
        "title": " Hi ",
        "description": "not a quote field",
        "accentColor": "#FF8800",
        "palette": "paper",
        "junk": "x",
    }
    assert playground_params(args, ["title", "author"]) == {
        "template": "quote",
        "title": "Hi",
        "accentColor": "FF8800",
        "palette": "paper",
    }
    assert playground_params({"template": "docs"}, ["title"])["title"] == "Hello from ogmint"
    assert "palette" not in playground_params({"brand": "brand_x"}, ["title"])


def test_meta_tags_say_the_size_and_the_alt_text() -> None:
    out = snippets("https://og.example.com", {"template": "blog", "title": 'A "quoted" <b>'})
    assert '<meta property="og:image:alt" content="A &quot;quoted&quot; &lt;b&gt;">' in out["meta"]
    assert '<meta property="og:image:width" content="1200">' in out["meta"]
    assert '<meta property="og:image:height" content="630">' in out["meta"]
    assert '<meta name="twitter:image:alt"' in out["meta"]
    assert "x-api-key: YOUR_API_KEY" in out["curl"]
    assert (
        "x-api-key: ogm_live_x" in snippets("https://o", {"title": "t"}, None, "ogm_live_x")["curl"]
    )


def test_pixels_follow_size_and_scale() -> None:
    assert pixels({}) == (1200, 630)
    assert pixels({"size": "square", "scale": "2"}) == (2160, 2160)
    assert pixels({"size": "800x400"}) == (800, 400)
    assert pixels({"size": "nonsense"}) == (1200, 630)


@pytest.mark.parametrize(
    "params", [{"size": "²x300"}, {"scale": "²"}, {"size": "\u0663\u0660\u0660x\u0663\u0660\u0660"}]
)
def test_pixels_of_sizes_a_render_refuses_are_the_default(params: dict[str, str]) -> None:
    # Review 2026-12: "²" is a digit to str.isdigit but not to int(): the page was a 500.
    assert pixels(params) == (1200, 630)
