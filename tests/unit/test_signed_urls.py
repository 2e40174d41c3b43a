"""Signed V1 URLs: the canonical form and signature against the shared test vectors."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogmint.errors import SignatureExpiredError, SignatureInvalidError, ValidationError
from ogmint.rendering.palettes import parse_color
from ogmint.signed_urls import (
    COLOR_PARAMS,
    canonical_query,
    decode_query,
    new_signing_key,
    parse_signed,
    signature,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "clients" / "test-vectors.json").read_text()
)
SECRET: str = VECTORS["secret"]
NOW = 1_800_000_000  # 2027-01-15: after the past vector's exp, long before the future one's


def test_vectors_cover_the_awkward_cases() -> None:
    names = " ".join(v["name"] for v in VECTORS["vectors"] + VECTORS["refused"])
    for case in ["space", "+", "%2B", "&", "reserved", "unreserved", "Unicode", "emoji"]:
        assert case in names, case
    for case in ["right-to-left", "empty", "exp", "alias", "repeated", "colours"]:
        assert case in names, case


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS["vectors"] if "legacy_sig" in v], ids=lambda v: v["name"]
)
def test_urls_signed_with_colours_as_written_still_verify(vector: dict) -> None:  # type: ignore[type-arg]
    head = vector["query"].rpartition("&sig=")[0]
    signed = parse_signed(f"{head}&sig={vector['legacy_sig']}")
    assert signed is not None
    signed.verify(SECRET, NOW)
    wrong = parse_signed(f"{head}&sig={vector['legacy_sig'][:-2]}AA")
    assert wrong is not None
    with pytest.raises(SignatureInvalidError):
        wrong.verify(SECRET, NOW)


def _colours(params: dict[str, str]) -> dict[str, str]:
    return {
        k: (parse_color(v) or v) if k.encode() in COLOR_PARAMS else v for k, v in params.items()
    }


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_vector(vector: dict) -> None:  # type: ignore[type-arg]
    for query in (vector["query"], vector["signed_query"]):
        signed = parse_signed(query)
        assert signed is not None
        assert signed.canonical() == vector["canonical"]
        assert signed.kid == vector["kid"]
        assert signed.exp == vector.get("exp")
        # Kits sign colours canonically (``#FFF`` → ``ffffff``); both spellings mean the same.
        assert _colours(signed.params) == _colours(dict(vector["params"]))
        if vector["expect"]["status"] == 403:
            with pytest.raises(SignatureExpiredError):
                signed.verify(SECRET, NOW)
        else:
            signed.verify(SECRET, NOW)
    assert signature(SECRET, vector["canonical"]) == vector["sig"]
    assert vector["message"] == "GET\n/api/og\n" + vector["canonical"]
    # The one spelling served (others are redirected to it) is what the kits write.
    for query in (vector["query"], vector["signed_query"]):
        signed = parse_signed(query)
        assert signed is not None
        assert signed.canonical_spelling() == vector["signed_query"]
        if vector["expect"]["status"] == 200:
            served = signed.served_spelling(query, signed.verify(SECRET, NOW))
            assert served == (None if query == vector["signed_query"] else vector["signed_query"])


@pytest.mark.parametrize("case", VECTORS["refused"], ids=lambda v: v["name"])
def test_refused(case: dict) -> None:  # type: ignore[type-arg]
    expect = case["expect"]
    if expect["status"] == 400:
        with pytest.raises(ValidationError) as e:
            parse_signed(case["query"])
        assert [d.field for d in e.value.details] == [expect["field"]]
        return
    with pytest.raises(SignatureInvalidError):
        _verify(case["query"])


def _verify(query: str) -> None:
    signed = parse_signed(query)
    assert signed is not None
    if signed.kid != VECTORS["kid"]:
        raise SignatureInvalidError()  # the store knows no such key
    signed.verify(SECRET, NOW)


def test_unsigned_queries_are_not_signed() -> None:
    assert parse_signed("") is None
    assert parse_signed("template=blog&title=Hello+kid%3D") is None
    assert parse_signed("template=blog&title=skid=3") is None
    assert parse_signed("template=blog&title=Hello%20kid%20sig&x%20y=1") is None
    assert parse_signed("template=blog&title=Hi&k%69d=sk_TestVector01&sig=x") is not None
    with pytest.raises(SignatureInvalidError):
        parse_signed("template=blog&title=Hi&kid")  # a kid with no value is no key id


def test_max_age_never_passes_exp() -> None:
    plain = parse_signed(VECTORS["vectors"][0]["signed_query"])
    timed = parse_signed(next(v for v in VECTORS["vectors"] if v.get("exp"))["signed_query"])
    assert plain is not None and timed is not None and timed.exp is not None
    assert plain.max_age(NOW, 86400) == 86400
    assert timed.max_age(NOW, 86400) == 86400
    assert timed.max_age(timed.exp - 60.5, 86400) == 60
    assert timed.max_age(timed.exp + 5, 86400) == 0


def test_signing_key_shape() -> None:
    kid, secret = new_signing_key()
    assert kid.startswith("sk_") and len(kid) == 15 and kid[3:].isalnum()
    assert secret.startswith("ogm_sign_") and len(secret) == 49 and secret[9:].isalnum()


params = st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=6)


@given(params)
def test_any_encoder_gives_the_same_canonical_form(raw: dict[str, str]) -> None:
    as_form = urlencode(raw)  # '+' for spaces, lower-case-insensitive escapes
    as_path = "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in raw.items())
    reversed_order = "&".join(reversed(as_path.split("&"))) if raw else ""
    form = canonical_query(decode_query(as_form))
    assert form == canonical_query(decode_query(as_path))
    assert form == canonical_query(decode_query(reversed_order))
    assert form == canonical_query(decode_query(form))  # canonical is a fixed point


@given(st.text(max_size=30))
def test_decoding_the_canonical_form_gives_the_value_back(value: str) -> None:
    canonical = canonical_query([(b"title", value.encode())])
    assert decode_query(canonical) == [(b"title", value.encode())]


@given(params, st.sampled_from(["", "&", "&&"]))
def test_the_canonical_spelling_is_a_fixed_point(raw: dict[str, str], junk: str) -> None:
    """Every spelling of a signed query leads to one canonical spelling, which leads to itself:
    a redirect to it never loops."""
    raw = {k: v for k, v in raw.items() if k not in ("kid", "sig", "exp")}
    query = urlencode({**raw, "kid": VECTORS["kid"]}) + junk
    signed = parse_signed(query + "&sig=AAAA")
    assert signed is not None
    spelling = signed.canonical_spelling()
    again = parse_signed(spelling)
    assert again is not None and again.canonical_spelling() == spelling
    assert spelling.endswith("&sig=AAAA")
