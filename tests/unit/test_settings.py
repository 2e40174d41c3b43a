"""Settings: parsing, error reporting, and the README's table kept in step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ogmint.domain.plans import Plans
from ogmint.settings import Settings, SettingsError, describe, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_and_overrides() -> None:
    s = Settings.from_env({"OGMINT_PORT": "9000", "OGMINT_OUTBOUND_ALLOW": "127.0.0.1, localhost"})
    assert s.port == 9000
    assert s.outbound_allow == ("127.0.0.1", "localhost")
    assert s.base_url == "http://127.0.0.1:9000"
    assert Settings.from_env({}).anonymous_daily_limit == 10


def test_workers_default_to_the_cpus() -> None:
    assert Settings.from_env({}).workers == (os.cpu_count() or 1)


def test_all_problems_reported_together() -> None:
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"OGMINT_PORT": "x", "OGMINT_WORKERS": "0", "OGMINT_ACCESS_LOG": "maybe"})
    for name in ("OGMINT_PORT", "OGMINT_WORKERS", "OGMINT_ACCESS_LOG"):
        assert name in str(e.value)


def test_readme_table_is_generated_from_settings() -> None:
    text = README.read_text()
    table = text.split("<!-- settings:start -->")[1].split("<!-- settings:end -->")[0]
    assert table.strip() == markdown_table(), "regenerate: python -m ogmint.settings"
    for name, _default, _description in describe():
        assert f"`{name}`" in table, name


def test_spec_defaults() -> None:
    """SPEC §4 and §6 values, written out here rather than read from the implementation."""
    s = Settings.from_env({})
    assert dict(s.plan_quotas) == {"free": 100, "starter": 1000, "pro": 10000, "agency": 50000}
    assert s.webhook_timeout == 10.0
    assert s.redis_prefix == "ogmint:"


def test_redis_prefix_may_not_hold_hash_tags() -> None:
    assert Settings.from_env({"OGMINT_REDIS_PREFIX": "blue:"}).redis_prefix == "blue:"
    with pytest.raises(SettingsError, match="OGMINT_REDIS_PREFIX"):
        Settings.from_env({"OGMINT_REDIS_PREFIX": "{x}:"})


def test_anonymous_daily_limit_takes_a_number_zero_or_unlimited() -> None:
    def limit(value: str) -> int | None:
        return Settings.from_env({"OGMINT_ANONYMOUS_DAILY_LIMIT": value}).anonymous_daily_limit

    assert limit("250") == 250
    assert limit("0") == 0
    assert limit("unlimited") is None
    assert limit(" Unlimited ") is None
    for bad in ("-1", "lots", ""):
        with pytest.raises(SettingsError, match="OGMINT_ANONYMOUS_DAILY_LIMIT"):
            limit(bad)


def test_plans_are_settings_and_unknown_plan_names_are_reported() -> None:
    s = Settings.from_env(
        {
            "OGMINT_PLAN_QUOTAS": "free=10,team=5000,pro=10000",
            "OGMINT_PLAN_BURSTS": "team=20, pro=0.5",
        }
    )
    plans = Plans(s.plan_quotas, s.plan_bursts)
    assert plans.names() == ["free", "team", "pro"]
    assert (plans.quota("team"), plans.quota("gone")) == (5000, 0)
    assert (plans.burst("team"), plans.burst("pro")) == ((20.0, 20), (0.5, 1))
    assert plans.burst("free") == (5.0, 5)  # SPEC default
    with pytest.raises(SettingsError) as e:
        Settings.from_env(
            {"OGMINT_PLAN_QUOTAS": "free=10,team=50", "OGMINT_PLAN_BURSTS": "teem=2,free=1"}
        )
    assert "OGMINT_PLAN_BURSTS: unknown plan teem" in str(e.value)
    with pytest.raises(SettingsError, match="OGMINT_PLAN_QUOTAS: must include free"):
        Settings.from_env({"OGMINT_PLAN_QUOTAS": "team=50"})
    for bad in ("free=0", "free=-1", "=3", "free", "free=inf"):
        with pytest.raises(SettingsError, match="OGMINT_PLAN_BURSTS"):
            Settings.from_env({"OGMINT_PLAN_BURSTS": bad})
