"""Webhook payload serialisation (checked against Node's JSON.stringify), signing, retries."""

from __future__ import annotations

import shutil
import subprocess

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogmint.settings import Settings
from ogmint.state.deliveries import DELIVERED, FAILED, PENDING
from ogmint.state.renders import RenderRecord
from ogmint.webhooks.payload import NotRepresentable, js_json, render_completed
from ogmint.webhooks.queue import RetryPolicy
from ogmint.webhooks.signing import delivery_headers, ogmint_signature, standard_signature

RECORD = RenderRecord(
    "xK9mQ2pL", "key_1", "d", "images/x.png", '"e"', 1, "blog", "2025-03-08T00:00:00.000Z"
)

# JSON values as orjson.loads returns them (it keeps no lone surrogates, and no ints > 64 bits).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=6) | st.from_regex(r"[0-9]{1,11}", fullmatch=True),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def node_roundtrip(bodies: list[bytes]) -> list[bytes]:
    """``JSON.stringify(JSON.parse(body))`` for each body, by Node itself."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: `make test` installs it (apt nodejs)")
    script = (
        "const lines = require('fs').readFileSync(0, 'utf8').split('\\n');"
        "for (const l of lines) { if (l) console.log(JSON.stringify(JSON.stringify(JSON.parse(JSON.parse(l))))); }"
    )
    # Each body travels as a JSON string on its own line (bodies never hold a raw newline).
    stdin = b"".join(orjson.dumps(b.decode()) + b"\n" for b in bodies)
    out = subprocess.run([node, "-e", script], input=stdin, capture_output=True, check=True).stdout
    return [orjson.loads(line).encode() for line in out.splitlines()]


def test_payload_shape_and_order() -> None:
    body = render_completed(RECORD, "https://og.example.com/i/xK9mQ2pL", {})
    assert body == (
        b'{"event":"render.completed","data":{"url":"https://og.example.com/i/xK9mQ2pL",'
        b'"slug":"xK9mQ2pL","template":"blog","metadata":{},"createdAt":"2025-03-08T00:00:00.000Z"}}'
    )


SAMPLES: list[object] = [
    {"name": "Zoë — 東京 🚀 مرحبا", "ctl": '\x00\x1f\x7f\b\f\n\r\t"\\/', "sep": "\u2028\u2029"},
    {"b": 1, "10": 2, "2": 3, "01": 4, "4294967294": 5, "4294967295": 6, "-1": 7, "": 8},
    {
        "n": [
            0,
            -0.0,
            1.0,
            1e21,
            1e20,
            1e-7,
            1e-6,
            123.456,
            5e-324,
            1.7976931348623157e308,
            2**53,
            -(2**63),
            2**63,
            10**20,
        ]
    },
    {"deep": {"a": [[], {}, [None, True, False]], "z": {"9": {"1": "x"}}}},
]


def test_samples_equal_node_json_stringify() -> None:
    bodies = [render_completed(RECORD, "https://x/i/a", m) for m in SAMPLES]  # type: ignore[arg-type]
    assert node_roundtrip(bodies) == bodies


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(
    st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=5), min_size=1, max_size=40)
)
def test_any_metadata_equals_node_json_stringify(metadatas: list[dict[str, object]]) -> None:
    bodies = []
    for m in metadatas:
        try:
            bodies.append(render_completed(RECORD, "https://x/i/a", m))
        except NotRepresentable:
            # Refused only for a reason: an integer a JavaScript number cannot hold exactly.
            assert _has_inexact_integer(m), m
            continue
        assert not _has_inexact_integer(m), m
    if bodies:
        assert node_roundtrip(bodies) == bodies


def _has_inexact_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return int(float(value)) != value
    if isinstance(value, dict):
        return any(_has_inexact_integer(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_inexact_integer(v) for v in value)
    return False


@pytest.mark.parametrize("value", [2**53 + 1, -(2**63) + 1, 2**64 - 1, float("inf"), float("nan")])
def test_numbers_javascript_would_change_are_refused(value: object) -> None:
    with pytest.raises(NotRepresentable):
        js_json({"n": value})


def test_standard_webhooks_reference_vector() -> None:
    sig = standard_signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_ogmint_signature_is_hex_hmac_of_body() -> None:
    # RFC 4231 test case 2.
    assert ogmint_signature("Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_headers_signed_only_with_a_secret() -> None:
    plain = delivery_headers("msg_1", "", 1700000000, b"{}")
    assert plain == {
        "Content-Type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
    }
    signed = delivery_headers("msg_1", "k", 1700000000, b"{}")
    assert signed["x-ogmint-signature"] == ogmint_signature("k", b"{}")
    assert signed["webhook-signature"] == standard_signature("k", "msg_1", 1700000000, b"{}")


def test_retry_policy_verdicts() -> None:
    policy = RetryPolicy((1.0, 2.0))
    assert policy.verdict(1, 204, "").state == DELIVERED
    assert policy.verdict(1, 410, "").state == FAILED
    for status, error in [(500, ""), (429, ""), (302, ""), (404, ""), (None, "timed out")]:
        v = policy.verdict(1, status, error)
        assert v.state == PENDING and 1.0 <= v.retry_in <= 1.25, (status, v)
        assert v.error
    assert policy.verdict(2, 500, "").state == PENDING
    last = policy.verdict(3, 500, "")
    assert (last.state, last.error) == (FAILED, "HTTP 500")
    assert "redirect" in policy.verdict(1, 301, "").error


def test_default_schedule_retries_for_at_least_a_day() -> None:
    schedule = Settings.from_env({}).webhook_retry_schedule
    assert sum(schedule) >= 24 * 3600
    assert list(schedule) == sorted(schedule)  # backs off


def test_lease_must_outlast_an_attempt() -> None:
    with pytest.raises(ValueError, match="WEBHOOK_LEASE"):
        Settings.from_env({"OGMINT_WEBHOOK_TIMEOUT": "10", "OGMINT_WEBHOOK_LEASE": "5"})
