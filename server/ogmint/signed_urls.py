"""Signed V1 URLs (SPEC §2.1): the canonical query, its signature, and the checks.

A signed URL is a V1 URL plus ``kid``, optional ``exp`` and ``sig``. The signature covers a
canonical form of the query, decoded and re-encoded, so that any encoder's output (``+`` or
``%20``, ``%2b`` or ``%2B``, any parameter order) signs the same: ``sig`` = base64url without
padding of HMAC-SHA256(secret, ``"GET\\n/api/og\\n" + canonical query``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import quote_from_bytes, unquote_to_bytes

from ogmint.errors import SignatureExpiredError, SignatureInvalidError, ValidationError
from ogmint.ids import random_base62
from ogmint.rendering.palettes import parse_color

KID_PREFIX = "sk_"
SIGNING_SECRET_PREFIX = "ogm_sign_"  # noqa: S105 - a format marker, not a secret
#: The signed request line: the method and path are fixed, so the message names them.
MESSAGE_PREFIX = b"GET\n/api/og\n"
#: The parameters a signature adds to a V1 URL (not render parameters).
SIGNATURE_PARAMS = frozenset(["kid", "exp", "sig"])

#: Colour parameters: a colour is signed in its canonical ``rrggbb`` form (SPEC §1), so
#: ``%23FFF`` and ``ffffff`` sign the same.
COLOR_PARAMS = frozenset(
    [b"bgColor", b"bg", b"textColor", b"text", b"accentColor", b"accent", b"surfaceColor"]
)

_KID = re.compile(r"sk_[0-9A-Za-z]{12}")
_EXP = re.compile(r"[0-9]{1,12}")


def new_signing_key() -> tuple[str, str]:
    """A new (public id, secret): ``sk_<12 base62>`` and ``ogm_sign_<40 base62>``."""
    return KID_PREFIX + random_base62(12), SIGNING_SECRET_PREFIX + random_base62(40)


def decode_query(query: str) -> list[tuple[bytes, bytes]]:
    """The query's ``(name, value)`` pairs, percent-decoded to bytes (``+`` is a space).

    A part without ``=`` is a name with an empty value; empty parts (``&&``) are skipped. A
    ``%`` not followed by two hex digits stays a literal ``%``.
    """
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append(
            (unquote_to_bytes(name.replace("+", " ")), unquote_to_bytes(value.replace("+", " ")))
        )
    return pairs


def encode(raw: bytes) -> str:
    """Percent-encodes every byte except ``A–Z a–z 0–9 - . _ ~`` (upper-case hex)."""
    return quote_from_bytes(raw, safe="")


def canonical_query(pairs: list[tuple[bytes, bytes]], *, colors: bool = True) -> str:
    """The signed form of decoded pairs: ``sig`` left out, sorted by name bytes, re-encoded.

    A repeated name (however it was encoded) is a 400: which value counts would be ambiguous.
    """
    signed = sorted(_canonical_color(n, v) if colors else (n, v) for n, v in pairs if n != b"sig")
    for (a, _), (b, _) in pairwise(signed):
        if a == b:
            raise _repeated(a)
    return "&".join(encode(name) + "=" + encode(value) for name, value in signed)


def _canonical_color(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """A colour parameter's value as lower-case ``rrggbb`` when it is a colour (else as is:
    the render answers its 400)."""
    if name in COLOR_PARAMS:
        color = parse_color(value.decode(errors="replace"))
        if color is not None:
            return name, color.encode()
    return name, value


def signature(secret: str, canonical: str) -> str:
    """``sig`` for a canonical query: base64url, no padding, of the HMAC-SHA256."""
    mac = hmac.new(secret.encode(), MESSAGE_PREFIX + canonical.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def _repeated(name: bytes) -> ValidationError:
    field = name.decode(errors="replace")
    return ValidationError.field(field, "is repeated; a signed URL gives each parameter once")


@dataclass(frozen=True, slots=True)
class SignedQuery:
    """A signed V1 query, parsed but not yet verified."""

    kid: str
    exp: int | None
    sig: str
    pairs: list[tuple[bytes, bytes]]  # every parameter, decoded
    as_sent: str | None  # the query before a final ``&sig=``, if ``sig`` is last
    params: dict[str, str]  # the render parameters (every name but kid, exp and sig)

    def canonical(self) -> str:
        return canonical_query(self.pairs)

    def _forms(self) -> list[str]:
        """The canonical form, and — for URLs signed before colours were canonicalised — the
        form with colours as written, when it differs."""
        forms = [self.canonical()]
        legacy = canonical_query(self.pairs, colors=False)
        return forms if legacy == forms[0] else [*forms, legacy]

    def verify(self, secret: str, now: float) -> str:
        """403 ``invalid_signature`` for a wrong ``sig``, then 403 ``signature_expired``; the
        form that was signed (the query as sent before ``&sig=``, or the form it matched)."""
        sig = self.sig.encode()
        # The kits send the canonical form itself, sig last. Only canonical forms are ever
        # signed, so a match on the query as sent proves it without re-encoding; any other
        # spelling is re-encoded and checked.
        signed = self.as_sent
        if signed is None or not hmac.compare_digest(signature(secret, signed).encode(), sig):
            signed = next(
                (
                    f
                    for f in self._forms()
                    if hmac.compare_digest(signature(secret, f).encode(), sig)
                ),
                None,
            )
        if signed is None:
            raise SignatureInvalidError()
        if self.exp is not None and self.exp <= now:
            raise SignatureExpiredError()
        return signed

    def canonical_spelling(self) -> str:
        """The one spelling of this signed query that is served (SPEC §2.1): the canonical
        query, then ``sig``. Caches key on the raw URL, so every other spelling that verifies
        is redirected here: one cache entry per signed card."""
        return f"{self.canonical()}&sig={encode(self.sig.encode())}"

    def served_spelling(self, query: str, signed: str) -> str | None:
        """None when ``query`` (as sent) is the spelling to serve, else that spelling: the
        form that was signed (:meth:`verify`'s answer), then ``sig`` — the canonical query for
        every kit, colours as written for URLs signed before colours were canonicalised."""
        spelling = f"{signed}&sig={encode(self.sig.encode())}"
        return None if spelling == query else spelling

    def max_age(self, now: float, longest: int) -> int:
        """How long the response may be cached: ``longest``, never past ``exp``."""
        if self.exp is None:
            return longest
        return max(0, min(longest, int(self.exp - now)))  # whole seconds left, rounded down


def _names_kid_or_sig(query: str) -> bool:
    """Whether a parameter is named ``kid`` or ``sig``, decoding names only (unsigned URLs,
    the common case, pay for no more)."""
    if "kid" not in query and "sig" not in query and "%" not in query:
        return False
    for part in query.split("&"):
        name = part.partition("=")[0]
        if "%" in name or "+" in name:
            name = unquote_to_bytes(name.replace("+", " ")).decode(errors="replace")
        if name in ("kid", "sig"):
            return True
    return False


def parse_signed(query: str) -> SignedQuery | None:
    """The signed query, or None when the URL carries neither ``kid`` nor ``sig``.

    400 for a repeated parameter or a malformed ``exp``; 403 ``invalid_signature`` when
    ``kid`` or ``sig`` is missing or ``kid`` is not a key id.
    """
    if not _names_kid_or_sig(query):
        return None
    pairs = decode_query(query)
    text = {n.decode(errors="replace"): v.decode(errors="replace") for n, v in pairs}
    if len({n for n, _ in pairs}) != len(pairs):
        raise _repeated(next(a for (a, _), (b, _) in pairwise(sorted(pairs)) if a == b))
    kid, sig, exp = text.get("kid"), text.get("sig"), text.get("exp")
    if kid is None or sig is None or not _KID.fullmatch(kid):
        raise SignatureInvalidError()
    if exp is not None and not _EXP.fullmatch(exp):
        raise ValidationError.field("exp", "must be a Unix time in seconds")
    head, found, tail = query.rpartition("&sig=")
    as_sent = head if found and "&" not in tail else None
    params = {n: v for n, v in text.items() if n not in SIGNATURE_PARAMS}
    return SignedQuery(kid, None if exp is None else int(exp), sig, pairs, as_sent, params)
