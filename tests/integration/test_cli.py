"""The ``ogmint`` command as operators run it (a real process), against a running server's
state: keys are printed once and never listed, plans change a user's quota (SPEC §6, §9)."""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson
import pytest

from conftest import Server
from support import Reply, assert_error, request

KEY = re.compile(r"ogm_live_[A-Za-z0-9]{32,}")
#: SPEC §6's monthly quotas: what a server with no OGMINT_PLAN_QUOTAS gives each plan.
SPEC_QUOTAS = {"free": 100, "starter": 1_000, "pro": 10_000, "agency": 50_000}


@pytest.fixture(scope="module")
def srv(server_factory: Callable[..., Server]) -> Server:
    # Default settings, except that plan changes apply at once instead of within the key cache.
    return server_factory(OGMINT_KEY_CACHE_TTL="0")


def render(server: Server, key: str, title: str) -> Reply:
    headers = {"content-type": "application/json", "x-api-key": key}
    body = orjson.dumps({"template": "minimal", "title": title})
    return request(server.url + "/api/v2/render", "POST", headers, body)


def test_a_key_is_printed_once_and_never_listed(srv: Server) -> None:
    made = srv.cli_process("keys", "create", "--user", "carol")
    assert made.returncode == 0, made.stderr
    keys = KEY.findall(made.stdout + made.stderr)
    assert len(keys) == 1, made.stdout  # shown once
    key = keys[0]
    assert made.stdout.strip().splitlines()[-1] == key
    key_id = re.search(r"\bkey_[A-Za-z0-9]+", made.stdout)
    assert key_id is not None
    assert render(srv, key, "From the CLI").status == 201

    for args in (("keys", "list"), ("keys", "list", "--user", "carol")):
        listed = srv.cli_process(*args)
        assert listed.returncode == 0, listed.stderr
        assert key_id.group() in listed.stdout
        assert not KEY.search(listed.stdout) and key[9:] not in listed.stdout
        assert key[9:21] not in listed.stdout  # not even part of it


def test_plans_set_changes_the_users_quota(srv: Server) -> None:
    key = srv.cli_process("keys", "create", "--user", "dave").stdout.strip().splitlines()[-1]
    assert render(srv, key, "On free").headers["x-ratelimit-limit"] == "100"  # default plan
    done = srv.cli_process("plans", "set", "dave", "agency")
    assert done.returncode == 0, done.stderr
    assert render(srv, key, "On agency").headers["x-ratelimit-limit"] == "50000"
    listed = srv.cli_process("keys", "list", "--user", "dave").stdout
    assert "\tagency\t" in listed and "\tfree\t" not in listed
    unknown = srv.cli_process("plans", "set", "nobody-at-all", "pro")
    assert unknown.returncode == 1 and "nobody-at-all" in unknown.stderr
    assert srv.cli_process("plans", "set", "dave", "platinum").returncode == 2  # not a plan


def test_revoked_key_is_refused(srv: Server) -> None:
    made = srv.cli_process("keys", "create", "--user", "erin", "--plan", "pro").stdout
    key = made.strip().splitlines()[-1]
    key_id = re.search(r"\bkey_[A-Za-z0-9]+", made)
    assert key_id is not None
    assert render(srv, key, "Before revoking").status == 201
    assert srv.cli_process("keys", "revoke", key_id.group()).returncode == 0
    assert_error(render(srv, key, "After revoking"), 401)
    assert "\trevoked\t" in srv.cli_process("keys", "list", "--user", "erin").stdout
    assert srv.cli_process("keys", "revoke", "key_nope").returncode == 1


@pytest.mark.parametrize(("plan", "quota"), SPEC_QUOTAS.items())
def test_default_plan_quotas_are_the_specs(srv: Server, plan: str, quota: int) -> None:
    key = srv.create_key(f"quota-{plan}", plan=plan)
    reply = render(srv, key, f"Plan {plan}")
    assert reply.status == 201, reply.body
    assert reply.headers["x-ratelimit-limit"] == str(quota)
    assert reply.headers["x-ratelimit-remaining"] == str(quota - 1)


def test_a_plan_named_only_in_the_settings_can_be_assigned(
    server_factory: Callable[..., Server],
) -> None:
    # OGMINT_PLAN_QUOTAS is the only list of plans: one it adds is a plan like the others.
    srv = server_factory(OGMINT_KEY_CACHE_TTL="0", OGMINT_PLAN_QUOTAS="free=100,platinum=7")
    key = srv.cli("keys", "create", "--user", "pat").strip().splitlines()[-1]
    done = srv.cli_process("plans", "set", "pat", "platinum")
    assert done.returncode == 0, done.stderr
    assert render(srv, key, "On platinum").headers["x-ratelimit-limit"] == "7"
    made = srv.cli_process("keys", "create", "--user", "quinn", "--plan", "platinum")
    assert made.returncode == 0, made.stderr
    refused = srv.cli_process("plans", "set", "pat", "pro")  # not a plan of this server
    assert refused.returncode == 2 and "platinum" in refused.stderr


def test_the_cli_keeps_to_the_active_signing_keys_cap(srv: Server) -> None:
    srv.create_key("sky")  # the user exists once it has an API key
    for _ in range(20):
        srv.cli("signing-keys", "create", "--user", "sky")
    over = srv.cli_process("signing-keys", "create", "--user", "sky")
    assert over.returncode == 1 and "At most 20 active signing keys" in over.stderr
    listed = srv.cli_process("signing-keys", "list", "--user", "sky").stdout
    assert len(listed.strip().splitlines()) == 20


def test_users_list_and_disable(srv: Server) -> None:
    from console import Console, invite_path

    done = srv.cli_process("users", "create", "frank", "--email", "frank@example.com")
    assert done.returncode == 0, done.stderr
    link = invite_path(done.stdout)
    c = Console(srv.url)
    c.get(link)
    assert c.post(link, {"password": "a long enough passphrase"}).status == 303
    assert c.sign_in("frank@example.com", "a long enough passphrase").status == 303
    key = srv.cli_process("keys", "create", "--user", "frank").stdout.strip().splitlines()[-1]
    assert render(srv, key, "Before disabling").status == 201
    listed = srv.cli_process("users", "list")
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("frank\t")]
    assert row.split("\t")[3:] == ["active", "free", "1", "1/100"]

    disabled = srv.cli_process("users", "disable", "frank")
    assert disabled.returncode == 0, disabled.stderr
    assert "1 keys revoked" in disabled.stdout
    assert_error(render(srv, key, "After disabling"), 401)
    assert c.get("/dashboard/settings").status == 303  # the session ended
    refused = c.sign_in("frank@example.com", "a long enough passphrase")
    assert refused.status == 401 and b"disabled" in refused.body
    assert "\tdisabled\t" in srv.cli_process("users", "list").stdout
    assert srv.cli_process("users", "disable", "nobody-at-all").returncode == 1
    enabled = srv.cli_process("users", "enable", "frank")
    assert enabled.returncode == 0 and "stay revoked" in enabled.stdout
    assert_error(render(srv, key, "After enabling"), 401)  # as the message says
    assert c.sign_in("frank@example.com", "a long enough passphrase").status == 303
