"""The README's settings table, generated from `Settings` so that it cannot drift:
`python -m switchboard.settings_table` prints it; tests/test_config_check.py compares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from switchboard.config import Settings

START = "<!-- settings-table:start (python -m switchboard.settings_table) -->"
END = "<!-- settings-table:end -->"
SKIPPED = {"catalogue"}  # set in code by tests and embedders, not from the environment

# Meanings for the fields whose Field() carries no description yet.
NOTES = {
    "host": "bind address",
    "port": "port",
    "max_body_bytes": "larger request bodies get 413",
    "local_default_max_tokens": "local model: max_tokens when a request names none",
    "log_level": "`debug`, `info`, `warning` or `error`",
    "access_log": "log one line per request (uvicorn's access log)",
    "preload_local_model": "load the local model at start-up, not on the first request",
    "breaker_window_s": "circuit breaker: the window of outcomes it judges",
    "breaker_min_calls": "circuit breaker: calls in the window before it may open",
    "breaker_failure_rate": "circuit breaker: failure share that opens it",
    "breaker_cooldown_s": "circuit breaker: open time before a half-open probe",
    "redis_down_policy": "Redis unreachable: `open` serves with local limits, `closed` answers 503",
    "retry_backoff_max_s": "cap of the exponential backoff",
    "conversation_max_messages": "messages kept per conversation",
    "conversation_max_count": "conversations kept in memory (embedded store)",
}


def _default(field: FieldInfo) -> str:
    value: Any = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and value >= 10_000:
        return f"`{value:_}`".replace("_", " ")
    return f"`{value}`"


def rows() -> list[tuple[str, str, str]]:
    out = []
    for name, field in Settings.model_fields.items():
        if name in SKIPPED:
            continue
        meaning = field.description or NOTES.get(name, "")
        out.append((f"`SWITCHBOARD_{name.upper()}`", _default(field), meaning.replace("|", "\\|")))
    return out


def table() -> str:
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| {var} | {default} | {meaning} |" for var, default, meaning in rows()]
    return "\n".join([START, *lines, END])


def readme_table(readme: Path) -> str:
    """The generated block as it stands in a README ('' if the markers are missing)."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    return text[start : end + len(END)] if start >= 0 and end > start else ""


if __name__ == "__main__":
    print(table())
