"""What a render's webhook fields ask for: every bad field named, nothing asked without a URL."""

from __future__ import annotations

import pytest

from ogmint.domain.webhooks import MAX_METADATA_BYTES, WebhookAsk, webhook_ask
from ogmint.errors import ValidationError


def test_no_url_asks_for_nothing() -> None:
    assert webhook_ask({"title": "x"}, b"{}") is None


def test_a_valid_ask() -> None:
    body = {"webhookUrl": "https://h.example/x", "webhookSecret": None, "metadata": {"a": 1}}
    assert webhook_ask(body, b"") == WebhookAsk("https://h.example/x", "", {"a": 1})


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"webhookUrl": "http://h.example/x"}, ["webhookUrl"]),
        ({"webhookUrl": "https://h.example/" + "x" * 2048}, ["webhookUrl"]),
        ({"webhookUrl": 7}, ["webhookUrl"]),
        ({"webhookSecret": ""}, ["webhookSecret"]),
        ({"webhookSecret": "whsec_!!"}, ["webhookSecret"]),
        ({"metadata": [1]}, ["metadata"]),
        ({"metadata": {"x": "y" * MAX_METADATA_BYTES}}, ["metadata"]),
        ({"webhookUrl": "ftp://x", "metadata": "no"}, ["webhookUrl", "metadata"]),
    ],
)
def test_every_bad_field_is_named(fields: dict[str, object], named: list[str]) -> None:
    with pytest.raises(ValidationError) as refused:
        webhook_ask(fields, b"")
    assert [d.field for d in refused.value.details] == named
