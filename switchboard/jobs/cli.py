"""`switchboard batch submit FILE [--wait]`: upload a JSONL batch to a running gateway, start
it, and (with --wait) follow it with a progress bar, then save the output and error files."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

FINAL = ("completed", "failed", "cancelled", "expired")


def _client(args: argparse.Namespace) -> Any:
    import httpx

    key = args.api_key or os.environ.get("SWITCHBOARD_API_KEY") or os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=args.url.rstrip("/"), headers=headers, timeout=60)


def _check(reply: Any) -> dict[str, Any]:
    if reply.status_code >= 400:
        try:
            message = reply.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = reply.text[:500]
        raise SystemExit(f"error {reply.status_code}: {message}")
    body: dict[str, Any] = reply.json()
    return body


def _follow(client: Any, batch: dict[str, Any], poll_s: float) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True)) as progress:
        bar = progress.add_task(batch["id"], total=batch["request_counts"]["total"])
        while True:
            counts = batch["request_counts"]
            progress.update(bar, completed=counts["completed"] + counts["failed"],
                            description=f"{batch['id']} {batch['status']}")  # fmt: skip
            if batch["status"] in FINAL:
                return batch
            time.sleep(poll_s)
            batch = _check(client.get(f"/v1/batches/{batch['id']}"))


def _save(client: Any, file_id: str | None, path: Path) -> None:
    if file_id is None:
        return
    reply = client.get(f"/v1/files/{file_id}/content")
    if reply.status_code < 400:
        path.write_bytes(reply.content)
        print(f"saved {path}", file=sys.stderr)


def _submit(args: argparse.Namespace) -> int:
    path = Path(args.file)
    with _client(args) as client:
        uploaded = _check(client.post("/v1/files", data={"purpose": "batch"},
                                      files={"file": (path.name, path.read_bytes())}))  # fmt: skip
        body = {"input_file_id": uploaded["id"], "endpoint": args.endpoint,
                "completion_window": "24h"}  # fmt: skip
        batch = _check(client.post("/v1/batches", json=body))
        print(batch["id"])
        if not args.wait:
            return 0
        batch = _follow(client, batch, args.poll_s)
        stem = path.with_suffix("")
        _save(client, batch.get("output_file_id"), Path(f"{stem}.output.jsonl"))
        _save(client, batch.get("error_file_id"), Path(f"{stem}.errors.jsonl"))
        counts = batch["request_counts"]
        print(f"{batch['status']}: {counts['completed']} completed, {counts['failed']} failed",
              file=sys.stderr)  # fmt: skip
    return 0 if batch["status"] == "completed" else 1


def add_batch_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    batch = sub.add_parser("batch", help="OpenAI-style batches against a running gateway")
    actions = batch.add_subparsers(dest="batch_command", required=True)
    submit = actions.add_parser("submit", help="upload a JSONL file and start a batch")
    submit.add_argument("file", help="JSONL: one {custom_id, method, url, body} a line")
    submit.add_argument("--wait", action="store_true", help="follow it, then save its files")
    submit.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    submit.add_argument("--api-key", help="default: SWITCHBOARD_API_KEY or OPENAI_API_KEY")
    submit.add_argument("--endpoint", default="/v1/chat/completions")
    submit.add_argument("--poll-s", type=float, default=1.0, help="seconds between polls")
    submit.set_defaults(func=_submit)
