"""The ``ogmint`` command: run the server, manage keys, plans, signing keys, brands and
dashboard accounts, sign URLs, preview a template file."""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ogmint.app import custom_template_settings, make_renderer, operations
from ogmint.domain.brands import look_of
from ogmint.domain.templates import TemplateSource, preview_local
from ogmint.errors import (
    BrandLimitError,
    NotFoundError,
    OgmintError,
    TooManyError,
    ValidationError,
)
from ogmint.operator import health_url, missing_state, state_location
from ogmint.services import Operations
from ogmint.settings import Settings, SettingsError

#: Commands that only read the state (the others say where they write).
READS = {("keys", "list"), ("signing-keys", "list"), ("brands", "list"), ("sign-url", None)}
#: ``brands create`` options and the brand fields they set.
BRAND_FLAGS = (
    ("--bg-color", "bgColor"),
    ("--text-color", "textColor"),
    ("--accent-color", "accentColor"),
    ("--surface-color", "surfaceColor"),
    ("--palette", "palette"),
    ("--font", "font"),
    ("--logo", "logo"),
)
#: Options of every command that opens the state: without --init none creates a new one.
_STATE_OPTIONS = argparse.ArgumentParser(add_help=False)
_STATE_OPTIONS.add_argument(
    "--init",
    action="store_true",
    help="create the data directory's database when there is none (a new, empty state)",
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ogmint", description="ogmint Open Graph image service")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (settings from OGMINT_* variables)")
    health = sub.add_parser(
        "health", help="exit 0 when the server on OGMINT_HOST:OGMINT_PORT is up (HEALTHCHECK)"
    )
    health.add_argument(
        "--ready", action="store_true", help="ask /readyz (state store reachable), not /healthz"
    )
    state = [_STATE_OPTIONS]
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser(
        "create", help="create a key; the key is printed once, last", parents=state
    )
    create.add_argument("--user", required=True)
    create.add_argument("--plan", default=None, help="one of OGMINT_PLAN_QUOTAS' plans")
    listing = keys.add_parser("list", help="list keys (never the keys themselves)", parents=state)
    listing.add_argument("--user")
    revoke = keys.add_parser("revoke", help="revoke a key by its id", parents=state)
    revoke.add_argument("key_id")
    plans = sub.add_parser("plans", help="manage plans").add_subparsers(
        dest="action", required=True
    )
    setp = plans.add_parser("set", help="change a user's plan", parents=state)
    setp.add_argument("user")
    setp.add_argument("plan", help="one of OGMINT_PLAN_QUOTAS' plans")
    users = sub.add_parser("users", help="manage dashboard accounts").add_subparsers(
        dest="action", required=True
    )
    ucreate = users.add_parser(
        "create", help="create an account; prints its invite link", parents=state
    )
    ucreate.add_argument("user")
    ucreate.add_argument("--email", required=True)
    ucreate.add_argument("--admin", action="store_true", help="may see every user, set plans")
    ureset = users.add_parser("reset", help="print a one-time password-reset link", parents=state)
    ureset.add_argument("user")
    users.add_parser("list", help="list accounts with plan, active keys and renders this month")
    udisable = users.add_parser(
        "disable", help="disable a user: no sign-in, sessions ended, every key revoked"
    )
    udisable.add_argument("user")
    uenable = users.add_parser("enable", help="let a disabled user sign in again")
    uenable.add_argument("user")
    signing = sub.add_parser("signing-keys", help="manage a user's keys for signed V1 URLs")
    signing_actions = signing.add_subparsers(dest="action", required=True)
    for action, text in [
        ("create", "create a signing key; its secret is printed once, last"),
        ("list", "list a user's active signing keys (never the secrets)"),
        ("revoke", "revoke one of a user's signing keys"),
    ]:
        one = signing_actions.add_parser(action, help=text, parents=state)
        one.add_argument("--user", required=True)
        if action == "revoke":
            one.add_argument("kid")
    brands = sub.add_parser("brands", help="manage a user's brands (saved looks, SPEC §6.1)")
    brand_actions = brands.add_subparsers(dest="action", required=True)
    blist = brand_actions.add_parser(
        "list", help="list a user's brands, newest first", parents=state
    )
    blist.add_argument("--user", required=True)
    bcreate = brand_actions.add_parser(
        "create", help="create a brand; a logo is fetched now, once; prints its id", parents=state
    )
    bcreate.add_argument("--user", required=True)
    bcreate.add_argument("--name", required=True)
    for flag, _field in BRAND_FLAGS:
        bcreate.add_argument(flag)
    bdelete = brand_actions.add_parser(
        "delete", help="delete one of a user's brands", parents=state
    )
    bdelete.add_argument("--user", required=True)
    bdelete.add_argument("brand_id")
    sign = sub.add_parser("sign-url", help="print a signed V1 URL (SPEC §2.1)", parents=state)
    sign.add_argument("--kid", required=True, help="the signing key (sk_…)")
    sign.add_argument("--expires-in", type=int, metavar="SECONDS", help="add exp = now + SECONDS")
    sign.add_argument("query", help="render parameters as a query, e.g. 'template=blog&title=Hi'")
    preview = sub.add_parser(
        "preview", help="check a template file as an upload is and render it to a PNG"
    )
    preview.add_argument("file", help="the template's SVG")
    preview.add_argument("--title", help="the title (default: a sample)")
    preview.add_argument("--palette", help="a palette, e.g. paper")
    preview.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other render parameter or field of the template, repeatable "
        "(description=…, date=…, bgColor=…); an image field's value is a PNG/JPEG file",
    )
    preview.add_argument(
        "--size-svg",
        action="append",
        default=[],
        metavar="PRESET=FILE",
        help="the template's document for another size (square=card.square.svg …), "
        "repeatable; --field size=PRESET draws it",
    )
    preview.add_argument("-o", "--output", default="preview.png", help="the PNG to write")
    return p


def _preview(args: argparse.Namespace, settings: Settings) -> int:
    """``ogmint preview``: errors as ``FILE: line N, <element>: what`` on stderr, exit 1."""
    raw: dict[str, str] = {}
    for item in args.field:
        name, eq, value = item.partition("=")
        if not eq or not name:
            print(f"--field {item!r}: write NAME=VALUE", file=sys.stderr)
            return 2
        raw[name] = value
    raw |= {k: v for k, v in (("title", args.title), ("palette", args.palette)) if v is not None}
    files = {"svg": args.file}
    for item in args.size_svg:
        preset, eq, path = item.partition("=")
        if not eq or not preset or not path:
            print(f"--size-svg {item!r}: write PRESET=FILE", file=sys.stderr)
            return 2
        files[f"sizes.{preset}"] = path
    try:
        read = {name: Path(path).read_text(encoding="utf-8") for name, path in files.items()}
        sizes = {name.removeprefix("sizes."): text for name, text in read.items() if name != "svg"}
        source = TemplateSource(read["svg"], sizes)
        png = preview_local(
            make_renderer(settings, threads=1),
            custom_template_settings(settings),
            source,
            raw,
            lambda path: Path(path).read_bytes(),
            max_pixels=settings.image_max_pixels,
        )
    except OSError as e:
        print(f"cannot read {e.filename or args.file}: {e.strerror or e}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"{args.file}: template must be UTF-8", file=sys.stderr)
        return 1
    except OgmintError as e:
        details = [(d.field, d.message) for d in e.details] or [("", e.message)]
        for field, message in details:
            # A document's problem names its file; a parameter's, the parameter.
            where = files.get(field)
            line = f"{where}: {message}" if where else f"parameters: {field}: {message}"
            print(line if field else f"parameters: {message}", file=sys.stderr)
        return 1
    Path(args.output).write_bytes(png)
    print(f"wrote {args.output}")
    return 0


async def _users(args: argparse.Namespace, ops: Operations) -> int:
    if args.action == "list":
        print("user\temail\tadmin\tstatus\tplan\tactive keys\trenders this month")
        for row in await ops.users.overview():
            a = row.account
            status = "disabled" if a.disabled else "active" if a.password_hash else "invited"
            print(
                f"{a.user}\t{a.email}\t{'admin' if a.admin else '-'}\t{status}\t{row.plan}"
                f"\t{row.active_keys}\t{row.used}/{row.quota}"
            )
        return 0
    if args.action in ("disable", "enable"):
        try:
            if args.action == "disable":
                revoked = await ops.users.disable(args.user)
                print(
                    f"disabled {args.user}: sessions ended, {revoked} keys revoked for good "
                    "(enabling does not restore them)"
                )
            else:
                await ops.users.enable(args.user)
                print(
                    f"enabled {args.user}: the keys revoked when disabled stay revoked; "
                    f"make new ones (ogmint keys create --user {args.user}, or Settings)"
                )
        except NotFoundError:
            print(f"no account {args.user}", file=sys.stderr)
            return 1
        return 0
    if args.action == "create":
        try:
            token: str | None = await ops.accounts.create(args.user, args.email, admin=args.admin)
        except ValueError as e:  # AccountExists included
            print(e, file=sys.stderr)
            return 1
    else:
        token = await ops.accounts.new_link(args.user)
        if token is None:
            print(f"no account {args.user}", file=sys.stderr)
            return 1
    hours = ops.settings.account_link_ttl / 3600
    print(f"one-time link for {args.user} (valid {hours:g} h; nothing was e-mailed):")
    print(f"{ops.settings.base_url}/dashboard/password/{token}")
    return 0


def _plan_refused(plan: str, ops: Operations) -> int:
    print(f"no plan {plan!r}: one of {', '.join(ops.keys.plans.names())}", file=sys.stderr)
    return 2


async def _keys_and_plans(args: argparse.Namespace, ops: Operations) -> int:
    if args.command == "keys" and args.action == "create":
        if args.plan is not None and args.plan not in ops.keys.plans:
            return _plan_refused(args.plan, ops)
        try:
            made = await ops.keys.create(args.user, args.plan)
        except TooManyError as e:
            print(f"user {args.user}: {e.message}", file=sys.stderr)
            return 1
        print(f"created {made.key_id} for user {args.user} (plan {made.plan})")
        print("store this key now; it cannot be shown again:")
        print(made.key)
        return 0
    if args.command == "keys" and args.action == "list":
        for k in await ops.keys.listed(args.user):
            status = "revoked" if k.revoked else "active"
            print(f"{k.key_id}\t{k.user}\t{k.plan}\t{status}\t{k.created_at}")
        return 0
    if args.command == "keys" and args.action == "revoke":
        if await ops.keys.revoke(args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"no key {args.key_id}", file=sys.stderr)
        return 1
    if args.plan not in ops.keys.plans:
        return _plan_refused(args.plan, ops)
    if await ops.keys.set_plan(args.user, args.plan):
        print(f"user {args.user} is now on plan {args.plan}")
        return 0
    print(f"no user {args.user}", file=sys.stderr)
    return 1


async def _signing_keys(args: argparse.Namespace, ops: Operations) -> int:
    if args.action == "create":
        try:
            made = await ops.signing_keys.create(args.user)
        except TooManyError as e:
            print(e.message, file=sys.stderr)
            return 1
        if made is None:
            print(f"no user {args.user} (create an API key for it first)", file=sys.stderr)
            return 1
        print(f"created {made.kid} for user {args.user}")
        print("store this secret now; it cannot be shown again:")
        print(made.secret)
        return 0
    if args.action == "list":
        for k in await ops.signing_keys.listed(args.user):
            print(f"{k.kid}\t{k.user}\t{k.created_at}")
        return 0
    if await ops.signing_keys.revoke(args.user, args.kid):
        print(f"revoked {args.kid} (workers forget it within OGMINT_KEY_CACHE_TTL)")
        return 0
    print(f"no active signing key {args.kid} of user {args.user}", file=sys.stderr)
    return 1


async def _brands(args: argparse.Namespace, ops: Operations) -> int:
    if args.action == "list":
        for b in await ops.brands.list(args.user):
            look = " ".join(f"{k}={v}" for k, v in look_of(b).items() if v is not None)
            print(f"{b.id}\t{b.name}\t{b.created_at}\t{look}")
        return 0
    if args.action == "create":
        body: dict[str, object] = {"name": args.name}
        for flag, field in BRAND_FLAGS:
            value = getattr(args, flag.removeprefix("--").replace("-", "_"))
            if value is not None:
                body[field] = value
        try:
            made = await ops.brands.create(args.user, body)
        except ValidationError as e:
            for d in e.details:
                print(f"{d.field}: {d.message}", file=sys.stderr)
            return 2
        except BrandLimitError as e:
            print(e.message, file=sys.stderr)
            return 1
        print(f"created {made.id} for user {args.user}")
        print(made.id)
        return 0
    try:
        await ops.brands.delete(args.user, args.brand_id)
    except NotFoundError:
        print(f"no brand {args.brand_id} of user {args.user}", file=sys.stderr)
        return 1
    print(f"deleted {args.brand_id}")
    return 0


async def _sign_url(args: argparse.Namespace, ops: Operations) -> int:
    try:
        query = await ops.signing_keys.sign(args.kid, args.query, args.expires_in)
    except NotFoundError as e:
        print(e.message, file=sys.stderr)
        return 1
    except ValidationError as e:
        print(e.message, file=sys.stderr)
        return 2
    print(f"{ops.settings.base_url}/api/og?{query}")
    return 0


def _health(settings: Settings, ready: bool) -> int:
    url = health_url(settings, ready=ready)
    try:
        with urllib.request.urlopen(url, timeout=4) as r:
            ok = r.status == 200
    except OSError as e:  # refused, timed out, or an HTTP error status
        print(f"{url}: {e}", file=sys.stderr)
        return 1
    print(f"{url}: {'ok' if ok else 'not ok'}")
    return 0 if ok else 1


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    problem = missing_state(settings)
    if problem is not None and not args.init:
        print(problem, file=sys.stderr)
        return 2
    if (args.command, getattr(args, "action", None)) not in READS:
        # stderr: stdout stays the command's result (a key is its last line).
        print(f"using {state_location(settings)}", file=sys.stderr)
    async with operations(settings) as ops:
        if args.command == "users":
            return await _users(args, ops)
        if args.command == "signing-keys":
            return await _signing_keys(args, ops)
        if args.command == "brands":
            return await _brands(args, ops)
        if args.command == "sign-url":
            return await _sign_url(args, ops)
        return await _keys_and_plans(args, ops)


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
    if args.command == "preview":  # local: no state, no server
        return _preview(args, settings)
    if args.command == "health":
        return _health(settings, args.ready)
    return asyncio.run(_run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
