"""Session messages are kept encrypted with a key only the session's cookie gives (a new key's
secret waits in the shared state for the next page)."""

from __future__ import annotations

from ogmint.domain.accounts import seal, unseal


def test_flash_is_sealed_for_its_session() -> None:
    secret = "ogm_live_" + "x" * 40
    sealed = seal("session-token", secret)
    assert secret not in sealed and "x" * 8 not in sealed
    assert seal("session-token", secret) != sealed  # a fresh nonce each time
    assert unseal("session-token", sealed) == secret
    assert unseal("another-token", sealed) != secret
