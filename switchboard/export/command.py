"""`switchboard export-architecture`: the architecture document from the configuration, with the
figures of a running gateway when `--from-url` names one."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from pydantic import ValidationError

from switchboard.config import Settings
from switchboard.errors import SwitchboardError
from switchboard.export.facts import from_config
from switchboard.export.formats import FORMATS, render
from switchboard.export.live import LiveFigures, from_metrics_text


def _get(url: str, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as exc:  # /ready answers 503 with a body when degraded
        return exc.code, exc.read()


def read_live(base_url: str, token: str | None) -> LiveFigures:
    """Metrics and store health of the gateway at `base_url`."""
    base = base_url.rstrip("/")
    status, body = _get(f"{base}/metrics", token)
    if status != 200:
        raise OSError(f"{base}/metrics answered {status}")
    live = from_metrics_text(body.decode())
    _, ready = _get(f"{base}/ready", None)
    try:
        stores = {k: bool(v) for k, v in json.loads(ready).get("stores", {}).items()}
    except (ValueError, AttributeError):
        stores = {}
    return LiveFigures(live.models, live.circuits, stores)


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings(**({"config": Path(args.config)} if args.config else {}))  # type: ignore[arg-type]
        catalogue = settings.load_catalogue()
    except (ValidationError, yaml.YAMLError, OSError) as exc:
        first = str(exc).splitlines()[0]
        print(f"configuration error: {first}; run `switchboard config check`", file=sys.stderr)
        return 1
    live = None
    if args.from_url:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        try:
            live = read_live(args.from_url, token)
        except OSError as exc:
            print(f"cannot read {args.from_url}: {exc}", file=sys.stderr)
            return 1
    try:
        document = render(from_config(settings, catalogue, live), args.format)
    except SwitchboardError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    if args.out is None and args.format == "md":
        sys.stdout.write(document.decode())
        return 0
    out = Path(args.out or f"switchboard-architecture.{FORMATS[args.format].suffix}")
    out.write_bytes(document)
    print(f"wrote {out} ({len(document)} bytes)", file=sys.stderr)
    return 0


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export-architecture", help="write the architecture document (docx, xlsx, pdf, pptx, md)"
    )
    export.add_argument("--format", choices=sorted(FORMATS), default="md")
    export.add_argument(
        "--out",
        help="file to write (default: stdout for md, else ./switchboard-architecture.<format>)",
    )
    export.add_argument("--config", help="YAML catalogue (default: SWITCHBOARD_CONFIG)")
    export.add_argument(
        "--from-url", help="a running gateway (http://host:8000): include its measured figures"
    )
    export.set_defaults(func=run)
