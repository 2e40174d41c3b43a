"""The ``ogmint`` command: run the server and manage keys, plans and dashboard accounts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from ogmint.accounts import Accounts, SignInLimits
from ogmint.app import make_state
from ogmint.keys import hash_key, new_key
from ogmint.settings import Settings, SettingsError
from ogmint.state.keys import PLAN_QUOTAS, KeyStore
from ogmint.state.store import State

#: The CLI never signs anyone in.
NO_SIGN_IN = SignInLimits(per_account=1, per_ip=1)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ogmint", description="ogmint Open Graph image service")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (settings from OGMINT_* variables)")
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser("create", help="create a key; the key is printed once, last")
    create.add_argument("--user", required=True)
    create.add_argument("--plan", choices=sorted(PLAN_QUOTAS), default=None)
    listing = keys.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--user")
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    plans = sub.add_parser("plans", help="manage plans").add_subparsers(
        dest="action", required=True
    )
    setp = plans.add_parser("set", help="change a user's plan")
    setp.add_argument("user")
    setp.add_argument("plan", choices=sorted(PLAN_QUOTAS))
    users = sub.add_parser("users", help="manage dashboard accounts").add_subparsers(
        dest="action", required=True
    )
    ucreate = users.add_parser("create", help="create an account; prints its invite link")
    ucreate.add_argument("user")
    ucreate.add_argument("--email", required=True)
    ucreate.add_argument("--admin", action="store_true", help="may see every user, set plans")
    ureset = users.add_parser("reset", help="print a one-time password-reset link")
    ureset.add_argument("user")
    return p


async def _users(args: argparse.Namespace, settings: Settings, state: State) -> int:
    accounts = Accounts(
        state.accounts,
        state.limits,
        link_ttl=settings.account_link_ttl,
        session_ttl=0,
        sign_in=NO_SIGN_IN,
    )
    if args.action == "create":
        try:
            token: str | None = await accounts.create(args.user, args.email, admin=args.admin)
        except ValueError as e:  # AccountExists included
            print(e, file=sys.stderr)
            return 1
    else:
        token = await accounts.new_link(args.user)
        if token is None:
            print(f"no account {args.user}", file=sys.stderr)
            return 1
    hours = settings.account_link_ttl / 3600
    print(f"one-time link for {args.user} (valid {hours:g} h; nothing was e-mailed):")
    print(f"{settings.base_url}/dashboard/password/{token}")
    return 0


async def _keys_and_plans(args: argparse.Namespace, state: KeyStore) -> int:
    if args.command == "keys" and args.action == "create":
        key_id, key = new_key()
        await state.create_key(args.user, key_id, hash_key(key), args.plan)
        record = await state.find_key(hash_key(key))
        plan = record.plan if record else args.plan
        print(f"created {key_id} for user {args.user} (plan {plan})")
        print("store this key now; it cannot be shown again:")
        print(key)
        return 0
    if args.command == "keys" and args.action == "list":
        for k in await state.list_keys(args.user):
            status = "revoked" if k.revoked else "active"
            print(f"{k.key_id}\t{k.user}\t{k.plan}\t{status}\t{k.created_at}")
        return 0
    if args.command == "keys" and args.action == "revoke":
        if await state.revoke_key(args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"no key {args.key_id}", file=sys.stderr)
        return 1
    if await state.set_plan(args.user, args.plan):
        print(f"user {args.user} is now on plan {args.plan}")
        return 0
    print(f"no user {args.user}", file=sys.stderr)
    return 1


async def _with_state(args: argparse.Namespace, settings: Settings) -> int:
    state = make_state(settings)
    await state.open()
    try:
        if args.command == "users":
            return await _users(args, settings, state)
        return await _keys_and_plans(args, state.keys)
    finally:
        await state.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from ogmint.__main__ import main as serve

        return serve()
    try:
        settings = Settings.from_env()
    except SettingsError as e:
        print(e, file=sys.stderr)
        return 2
    return asyncio.run(_with_state(args, settings))


if __name__ == "__main__":
    sys.exit(main())
