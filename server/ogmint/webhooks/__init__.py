"""Webhooks (SPEC §4): the payload, its signatures, the retry policy and the delivery worker.

The durable outbox itself lives in the state store (``ogmint.state``), because a delivery must
be queued in the same transaction or atomic step that records its render.
"""
