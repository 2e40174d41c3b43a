"""Plans as settings (SPEC §6): a plan added in OGMINT_PLAN_QUOTAS works everywhere (CLI, the
admin page, quotas), bursts per plan come from OGMINT_PLAN_BURSTS, and plan names that do not
add up stop the server at start-up."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Server, start_server
from console import Console, invite_path
from support import Reply, assert_error, request

PASSWORD = "correct horse battery"
QUOTAS = "free=100,starter=1000,team=3"
BURSTS = "free=1,team=20"


@pytest.fixture(scope="module")
def srv(server_factory: Callable[..., Server]) -> Server:
    return server_factory(
        OGMINT_PLAN_QUOTAS=QUOTAS,
        OGMINT_PLAN_BURSTS=BURSTS,
        OGMINT_SIGN_IN_LIMIT_IP="1000",
        OGMINT_SIGN_IN_LIMIT_ACCOUNT="1000",
    )


def keyed(srv: Server, key: str, path: str = "/api/v2/signing-keys") -> Reply:
    return request(srv.url + path, headers={"x-api-key": key})


def test_an_added_plan_works_in_the_cli_and_its_quota_applies(srv: Server) -> None:
    key = srv.create_key("on-team", plan="team")
    assert "on-team\tteam\t" in srv.cli("keys", "list", "--user", "on-team")
    card = "/api/og?template=minimal&title=Team+card"
    reply = keyed(srv, key, card)
    assert reply.status == 200
    assert (reply.headers["x-ratelimit-limit"], reply.headers["x-ratelimit-remaining"]) == (
        "3",
        "2",
    )
    srv.create_key("to-team", plan="free")
    assert "is now on plan team" in srv.cli("plans", "set", "to-team", "team")
    with pytest.raises(RuntimeError, match="no plan 'agency': one of team, free, starter"):
        srv.cli("plans", "set", "to-team", "agency")  # a SPEC plan this server does not have
    with pytest.raises(RuntimeError, match="no plan 'gold'"):
        srv.cli("keys", "create", "--user", "nobody", "--plan", "gold")


def test_bursts_are_per_plan(srv: Server) -> None:
    team, free = (
        srv.create_key("burst-team", plan="team"),
        srv.create_key("burst-free", plan="free"),
    )

    def at_once(key: str, n: int) -> list[Reply]:
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            return list(pool.map(lambda _: keyed(srv, key), range(n)))

    assert [r.status for r in at_once(team, 12)] == [200] * 12  # 20/s
    refused = [r for r in at_once(free, 4) if r.status == 429]  # 1/s
    assert refused, "a free key got 4 requests through at once with a burst of 1"
    body = assert_error(refused[0], 429)
    assert body["error"] == "Burst limit of 1 requests per second exceeded"


def test_the_admin_page_offers_and_sets_added_plans(srv: Server) -> None:
    out = srv.cli("users", "create", "plans-admin", "--email", "admin@example.com", "--admin")
    admin = Console(srv.url)
    link = invite_path(out)
    admin.get(link)
    assert admin.post(link, {"password": PASSWORD}).status == 303
    assert admin.sign_in("admin@example.com", PASSWORD).status == 303
    srv.cli("users", "create", "plans-user", "--email", "user@example.com")
    srv.create_key("plans-user", plan="free")
    page = admin.get("/dashboard/admin")
    assert page.status == 200
    options = page.body.decode()
    assert '<option value="team"' in options and '<option value="pro"' not in options
    assert admin.post("/dashboard/admin/users/plans-user/plan", {"plan": "team"}).status == 303
    assert "plans-user\tteam\t" in srv.cli("keys", "list", "--user", "plans-user")
    assert admin.post("/dashboard/admin/users/plans-user/plan", {"plan": "pro"}).status == 400


def test_plan_names_that_do_not_add_up_stop_the_server(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="OGMINT_PLAN_BURSTS: unknown plan teem"):
        start_server(tmp_path, OGMINT_PLAN_QUOTAS=QUOTAS, OGMINT_PLAN_BURSTS="teem=5")
