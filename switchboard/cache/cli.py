"""`switchboard cache stats|clear`: the reply cache of a running gateway, through its admin API.

The cache lives in a gateway's memory or in Redis, so the command asks the gateway (at `--url`,
default the serve address from the settings) with the master key (SWITCHBOARD_MASTER_KEY).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx

from switchboard.config import Settings


def _call(args: argparse.Namespace, method: str, path: str, params: dict[str, Any]) -> int:
    settings = Settings()
    if settings.master_key is None:
        print("error: set SWITCHBOARD_MASTER_KEY (the admin API needs it)", file=sys.stderr)
        return 2
    base = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/")
    headers = {"authorization": f"Bearer {settings.master_key.get_secret_value()}"}
    try:
        resp = httpx.request(method, base + path, params=params, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        print(f"error: cannot reach {base}: {type(exc).__name__}", file=sys.stderr)
        return 1
    body = (
        resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    )
    print(json.dumps(body, indent=2))
    return 0 if resp.status_code < 400 else 1


def _stats(args: argparse.Namespace) -> int:
    return _call(args, "GET", "/admin/cache", {})


def _clear(args: argparse.Namespace) -> int:
    if args.entry is not None:
        if args.model is None:
            print("error: --entry needs --model", file=sys.stderr)
            return 2
        one = {"model": args.model, **({"tenant": args.tenant} if args.tenant else {})}
        return _call(args, "DELETE", f"/admin/cache/entries/{args.entry}", one)
    if not (args.tenant or args.model or args.all):
        print("error: name --tenant, --model, --entry, or --all", file=sys.stderr)
        return 2
    params: dict[str, Any] = {
        k: v for k, v in (("tenant", args.tenant), ("model", args.model)) if v
    }
    if args.all:
        params["all"] = "true"
    return _call(args, "DELETE", "/admin/cache", params)


def add_cache_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cache = sub.add_parser("cache", help="the reply cache of a running gateway")
    actions = cache.add_subparsers(dest="cache_command", required=True)
    stats = actions.add_parser("stats", help="entries, layers and policies")
    clear = actions.add_parser("clear", help="drop entries by tenant, model, entry, or all")
    for p in (stats, clear):
        p.add_argument("--url", help="the gateway (default: http://SWITCHBOARD_HOST:PORT)")
    clear.add_argument("--tenant")
    clear.add_argument("--model")
    clear.add_argument("--entry", help="a response's x-switchboard-cache-key (needs --model)")
    clear.add_argument("--all", action="store_true", help="every entry of every tenant")
    stats.set_defaults(func=_stats)
    clear.set_defaults(func=_clear)
