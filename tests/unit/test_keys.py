"""Key material: random names are uniform over base62, keys look as SPEC §6 says."""

from __future__ import annotations

import re
import string
from collections import Counter

from ogmint.domain.keys import KEY_PREFIX, hash_key, new_key
from ogmint.ids import random_base62

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


def test_new_key_shape_and_hash() -> None:
    key_id, key = new_key()
    assert re.fullmatch(r"key_[0-9A-Za-z]{12}", key_id)
    assert re.fullmatch(KEY_PREFIX + r"[0-9A-Za-z]{40}", key)
    assert hash_key(key) == hash_key(key) != hash_key(new_key()[1])
    assert key not in hash_key(key)
