"""``OGMINT_REDIS_URL``: a single server or a Sentinel-managed primary (README "Scale-out")."""

from __future__ import annotations

import pytest

from ogmint.settings import Settings, SettingsError
from ogmint.state.redis.address import SentinelAddress, parse_redis_url


def test_single_servers_pass_through() -> None:
    for url in ("redis://127.0.0.1:6379/2", "rediss://:pw@host:6380", "unix:///run/redis.sock"):
        assert parse_redis_url(url) == url


def test_the_sentinel_form() -> None:
    assert parse_redis_url("redis+sentinel://:s%40cret@10.0.0.1:26380,10.0.0.2/main/3") == (
        SentinelAddress(
            sentinels=(("10.0.0.1", 26380), ("10.0.0.2", 26379)),
            service="main",
            db=3,
            password="s@cret",
        )
    )
    assert parse_redis_url("REDIS+SENTINEL://app:pw@[::1]:5000/svc") == SentinelAddress(
        (("::1", 5000),), "svc", 0, "app", "pw"
    )


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://host:26379",  # no service
        "redis+sentinel://host:26379/",
        "redis+sentinel://host:26379/svc/db",
        "redis+sentinel://host:26379/svc/1/2",
        "redis+sentinel://host:0/svc",
        "redis+sentinel://host:x/svc",
        "redis+sentinel://,host/svc",
        "redis+sentinel://host/svc?db=2",
        "sentinel://host/svc",
        "localhost:6379",
    ],
)
def test_malformed_urls_are_refused_at_start(url: str) -> None:
    with pytest.raises(SettingsError, match="OGMINT_REDIS_URL"):
        Settings.from_env({"OGMINT_REDIS_URL": url})


def test_errors_never_echo_the_password() -> None:
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"OGMINT_REDIS_URL": "redis+sentinel://:hunter2@host:99999/svc"})
    assert "hunter2" not in str(e.value)


def test_replicas_confirm_writes_by_default_only_with_sentinel() -> None:
    sentinel = "redis+sentinel://127.0.0.1:26379/ogmint"
    assert Settings.from_env({"OGMINT_REDIS_URL": sentinel}).redis_replicas_required == 1
    assert Settings.from_env({"OGMINT_REDIS_URL": "redis://h"}).redis_replicas_required == 0
    explicit = {"OGMINT_REDIS_URL": sentinel, "OGMINT_REDIS_REPLICAS": "0"}
    assert Settings.from_env(explicit).redis_replicas_required == 0
    assert Settings.from_env({"OGMINT_REDIS_REPLICAS": "2"}).redis_replicas_required == 2
    with pytest.raises(SettingsError, match="OGMINT_REDIS_REPLICAS"):
        Settings.from_env({"OGMINT_REDIS_REPLICAS": "-1"})
