"""Key material: random names are uniform over base62, keys look as SPEC §6 says."""

from __future__ import annotations

import re
import string

from ogmint.domain.keys import KEY_PREFIX, hash_key, new_key

BASE62 = string.digits + string.ascii_letters


def test_new_key_shape_and_hash() -> None:
    key_id, key = new_key()
    assert re.fullmatch(r"key_[0-9A-Za-z]{12}", key_id)
    assert re.fullmatch(KEY_PREFIX + r"[0-9A-Za-z]{40}", key)
    assert hash_key(key) == hash_key(key) != hash_key(new_key()[1])
    assert key not in hash_key(key)
