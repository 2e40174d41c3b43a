"""The id maker: random names are uniform over base62."""

from __future__ import annotations

import re
import string
from collections import Counter

from ogmint.ids import new_id, random_base62

BASE62 = string.digits + string.ascii_letters


def test_random_base62_has_the_asked_length_and_alphabet() -> None:
    for n in (1, 8, 40, 300):
        value = random_base62(n)
        assert len(value) == n
        assert set(value) <= set(BASE62)
    assert len({random_base62(8) for _ in range(1000)}) == 1000


def test_random_base62_is_unbiased() -> None:
    # A plain ``byte % 62`` would make the first 8 characters 25 % more likely than the rest.
    counts = Counter("".join(random_base62(100) for _ in range(4000)))
    assert set(counts) == set(BASE62)
    first = sum(counts[c] for c in BASE62[:8]) / 8
    rest = sum(counts[c] for c in BASE62[8:]) / 54
    assert abs(first / rest - 1) < 0.06


def test_new_id_is_its_prefix_and_random_base62() -> None:
    assert re.fullmatch(r"msg_[0-9A-Za-z]{24}", new_id("msg_", 24))
