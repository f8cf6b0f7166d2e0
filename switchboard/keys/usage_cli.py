"""`switchboard usage report`: spend from the usage table as a terminal table, or as CSV.

Reads Settings().database_url like `switchboard keys`; never migrates. The database code is
imported when the command runs, never by the parser.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from switchboard.keys.cli import _runner

if TYPE_CHECKING:
    from switchboard.keys.store import KeyStore

GROUPS = ("model", "key", "tenant", "day")  # keys/cost_report.COST_GROUPS, kept import-free
NUMBERS = ("requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd")


def _columns(by: str) -> list[str]:
    first = ["key_id", "name", "tenant"] if by == "key" else [by]
    return [*first, *NUMBERS]


def _cell(value: Any, column: str) -> str:
    if value is None:
        return "-"
    if column == "cost_usd":
        return f"{value:,.6f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(entries: list[dict[str, Any]], columns: list[str]) -> str:
    """Aligned columns (numbers to the right), a rule under the header."""
    cells = [[_cell(e.get(c), c) for c in columns] for e in entries]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if c in NUMBERS else v.ljust(w)
            for v, w, c in zip(values, widths, columns, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(columns), rule, *(line(row) for row in cells)])


async def _report(store: KeyStore, args: argparse.Namespace) -> int:
    from switchboard.keys.cost_report import Period, build_cost_report, grouped

    now = datetime.now(UTC)
    report = await build_cost_report(store, args.since, args.until, args.top, now)
    period = Period(date.fromisoformat(report["since"]), date.fromisoformat(report["until"]), now)
    rows = await store.usage(since=period.since, until=period.until)
    keys = {k.id: k for k in await store.list()}
    limit = args.top if args.by in ("key", "tenant") and not args.csv else None
    entries = grouped(rows, args.by, keys, limit)
    columns = _columns(args.by)
    if args.csv:
        writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(entries)
        return 0
    print(f"Spend by {args.by}, {report['since']} .. {report['until']} (USD)")
    print(table(entries, columns))
    total = report["total"]
    print(f"\ntotal: {total['requests']:,} requests, ${total['cost_usd']:,.6f}")
    p = report["projection"]
    print(
        f"{p['month']}: ${p['month_to_date_usd']:,.6f} so far, "
        f"projected ${p['projected_month_end_usd']:,.2f} by month end"
    )
    for b in report["budgets"]:
        if b["projected_over"]:
            end = "day" if b["budget_period"] == "daily" else "month"
            print(
                f"over budget by the end of the {end}:"
                f" {b['key_id']} ({b['name']}, {b['tenant']}) ${b['projected_usd']:,.2f}"
                f" of ${b['budget_usd']:,.2f}"
            )
    return 0


def add_usage_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    usage = sub.add_parser("usage", help="usage and spend from the key database")
    actions = usage.add_subparsers(dest="usage_command", required=True)
    report = actions.add_parser(
        "report", help="spend by model, key, tenant or day; month-end projection; budgets"
    )
    report.add_argument("--since", type=date.fromisoformat, help="first UTC day (YYYY-MM-DD)")
    report.add_argument("--until", type=date.fromisoformat, help="last UTC day, inclusive")
    report.add_argument("--by", choices=GROUPS, default="model", help="default: model")
    report.add_argument("--top", type=int, default=10, help="keys or tenants shown (table)")
    report.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    report.set_defaults(func=_runner(_report, writes=False))
