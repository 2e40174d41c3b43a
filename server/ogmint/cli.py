"""The ``ogmint`` command: run the server and manage keys and plans."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from ogmint.app import make_state
from ogmint.keys import hash_key, new_key
from ogmint.settings import Settings, SettingsError
from ogmint.state.keys import PLAN_QUOTAS, KeyStore


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
    return p


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
