"""`switchboard keys create|list|show|revoke|migrate`: manage keys in Settings().database_url.

Output is JSON on stdout (the same shapes as the admin API); the plaintext key is printed once,
by `create`, which validates the new key with the admin API's own `KeySpec`. `list` and `show`
only read: they never migrate. SWITCHBOARD_KEY_PEPPER, if set, must match the gateway's.
The store (SQLAlchemy) is imported when a command runs, never by `switchboard serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from switchboard.config import Settings
from switchboard.keys.models import BUDGET_PERIODS, key_json
from switchboard.keys.spec import KeySpec, describe, expiry_in_days

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore

Command = Callable[["KeyStore", argparse.Namespace], Awaitable[int]]


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _models(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _spec(args: argparse.Namespace, now: datetime) -> KeySpec:
    days = args.expires_in_days
    return KeySpec(
        name=args.name,
        tenant=args.tenant,
        allowed_models=list(args.models) if args.models is not None else None,
        rpm=args.rpm,
        tpm=args.tpm,
        max_concurrency=args.max_concurrency,
        budget_usd=args.budget,
        budget_period=args.budget_period,
        expires_at=expiry_in_days(days, now) if days is not None else None,
    )


async def _create(store: KeyStore, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    plaintext, key = await store.create(_spec(args, now).to_new_key())
    _print({"key": plaintext, "api_key": key_json(key, now)})
    print("Store the key now: it will not be shown again.", file=sys.stderr)
    return 0


async def _list(store: KeyStore, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    _print([key_json(k, now) for k in await store.list(tenant=args.tenant)])
    return 0


async def _show(store: KeyStore, args: argparse.Namespace) -> int:
    key = await store.get(args.id)
    if key is None:
        print(f"no API key with id {args.id!r}", file=sys.stderr)
        return 1
    _print(key_json(key, datetime.now(UTC)))
    return 0


async def _revoke(store: KeyStore, args: argparse.Namespace) -> int:
    if not await store.revoke(args.id):
        print(f"no API key with id {args.id!r}", file=sys.stderr)
        return 1
    return await _show(store, args)


async def _migrate(store: KeyStore, args: argparse.Namespace) -> int:
    return 0


async def _with_store(command: Command, args: argparse.Namespace, writes: bool) -> int:
    from switchboard.keys.engine import HEAD_REVISION, current_revision
    from switchboard.keys.store import SqlKeyStore

    store = SqlKeyStore.from_settings(Settings())
    try:
        if writes:
            await store.migrate()
        else:
            async with store.engine.connect() as conn:
                revision = await conn.run_sync(current_revision)
            if revision != HEAD_REVISION:
                print(
                    f"error: the key database is at revision {revision}, not {HEAD_REVISION}:"
                    " run `switchboard keys migrate` (or start the gateway) first",
                    file=sys.stderr,
                )
                return 1
        return await command(store, args)
    finally:
        await store.aclose()


def _runner(command: Command, *, writes: bool) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return asyncio.run(_with_store(command, args, writes))
        except ValidationError as exc:
            print(f"error: {describe(exc)}", file=sys.stderr)
            return 2
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return run


def _add_create(sub: Any) -> None:
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--tenant", required=True)
    create.add_argument("--models", type=_models, help="comma-separated; default: every model")
    create.add_argument("--rpm", type=int, help="requests per minute")
    create.add_argument("--tpm", type=int, help="tokens per minute")
    create.add_argument("--max-concurrency", type=int, help="requests in flight")
    create.add_argument("--budget", type=float, help="USD per budget period")
    create.add_argument("--budget-period", choices=BUDGET_PERIODS, default="total")
    create.add_argument("--expires-in-days", type=float, help="default: never expires")
    create.set_defaults(func=_runner(_create, writes=True))


def add_keys_commands(subparsers: Any) -> None:
    """Add `keys ...` to the `switchboard` command's subparsers."""
    keys = subparsers.add_parser("keys", help="manage API keys (SWITCHBOARD_DATABASE_URL)")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    _add_create(sub)
    listing = sub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--tenant")
    listing.set_defaults(func=_runner(_list, writes=False))
    for name, command, text, writes in (
        ("show", _show, "show one key", False),
        ("revoke", _revoke, "revoke", True),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("id", help="the key's id")
        parser.set_defaults(func=_runner(command, writes=writes))
    migrate = sub.add_parser("migrate", help="create or upgrade the key tables")
    migrate.set_defaults(func=_runner(_migrate, writes=True))
