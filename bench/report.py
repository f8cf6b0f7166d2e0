"""Turn the overhead benchmark's measurements into the table, the ratios and the verdict."""

from __future__ import annotations

from typing import Any

from bench.targets import BUDGET, DIRECT, FORWARDER, FULL, GRANIAN, LIMITS, SWITCHBOARD

P50_BUDGET_MS = 1.0  # target: Switchboard adds at most 1 ms at p50, concurrency 1
RPS_SHARE = 0.90  # target: at least 90% of the forwarder's requests/s at concurrency 16

Row = dict[str, Any]


def _find(rows: list[Row], target: str, conns: int) -> Row | None:
    return next((r for r in rows if r["target"] == target and r["connections"] == conns), None)


_COLUMNS = (  # header, row key, alignment and width, number format
    ("target", "target", "<12", ""),
    ("c", "connections", ">3", ""),
    ("req/s", "rps", ">8", ".0f"),
    ("spread", "spread", ">6", ""),
    ("p50 ms", "p50_ms", ">8", ".3f"),
    ("p95 ms", "p95_ms", ">8", ".3f"),
    ("p99 ms", "p99_ms", ">8", ".3f"),
    ("cpu us/req", "server_cpu_us_per_req", ">10", ".0f"),
    ("srv cpu%", "server_cpu_pct", ">8", ".0f"),
    ("srv core%", "server_core_pct", ">9", ".0f"),
    ("mock cpu%", "mock_cpu_pct", ">9", ".0f"),
    ("load core%", "load_core_pct", ">10", ".0f"),
)


def _spread(row: Row) -> str:
    """(max - min) / median of req/s over the repeats, a quick read on the run-to-run noise."""
    runs = row.get("rps_runs") or [row["rps"]]
    if len(runs) < 2 or not row["rps"]:
        return "-"
    return f"{100 * (max(runs) - min(runs)) / row['rps']:.0f}%"


def table(rows: list[Row]) -> list[str]:
    head = " ".join(f"{title:{width}}" for title, _, width, _ in _COLUMNS) + "  flags"
    lines = [head, "-" * len(head)]
    for r in rows:
        values = r | {"spread": _spread(r)}
        cells = " ".join(f"{values[key]:{width}{fmt}}" for _, key, width, fmt in _COLUMNS)
        lines.append(cells + "  " + (", ".join(r["flags"]) or "ok"))
    return lines


def ratios(rows: list[Row], levels: list[int]) -> list[Row]:
    """Per concurrency: Switchboard's throughput share of the forwarder's and its added p50."""
    out = []
    for conns in levels:
        direct, fwd, sb = (_find(rows, t, conns) for t in (DIRECT, FORWARDER, SWITCHBOARD))
        if direct is None or fwd is None or sb is None:
            continue
        out.append(
            {
                "connections": conns,
                "rps_sb_over_fwd": round(sb["rps"] / fwd["rps"], 3) if fwd["rps"] else None,
                "p50_sb_minus_fwd_ms": round(sb["p50_ms"] - fwd["p50_ms"], 3),
                "p50_sb_minus_direct_ms": round(sb["p50_ms"] - direct["p50_ms"], 3),
                "p50_fwd_minus_direct_ms": round(fwd["p50_ms"] - direct["p50_ms"], 3),
                "cpu_us_per_req_sb_minus_fwd": round(
                    sb["server_cpu_us_per_req"] - fwd["server_cpu_us_per_req"]
                ),
                "trusted": all(r["ok"] for r in (direct, fwd, sb)),
            }
        )
    return out


def ratio_lines(rows: list[Row]) -> list[str]:
    head = (
        f"{'c':>3} {'rps sb/fwd':>10} {'p50 sb-fwd':>11} {'p50 sb-direct':>14} "
        f"{'p50 fwd-direct':>15} {'cpu/req sb-fwd':>15}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        share = r["rps_sb_over_fwd"]
        lines.append(
            f"{r['connections']:>3} {(f'{share:.2f}' if share else '-'):>10} "
            f"{r['p50_sb_minus_fwd_ms']:>8.3f} ms {r['p50_sb_minus_direct_ms']:>11.3f} ms "
            f"{r['p50_fwd_minus_direct_ms']:>12.3f} ms {r['cpu_us_per_req_sb_minus_fwd']:>12.0f} us"
            + ("" if r["trusted"] else "  (flagged)")
        )
    return lines


def verdict(ratio_rows: list[Row]) -> list[str]:
    """The two targets, each stated as met or missed with the number behind it."""
    lines = []
    c1 = next((r for r in ratio_rows if r["connections"] == 1), None)
    if c1 is not None:
        added = c1["p50_sb_minus_direct_ms"]
        mark = "met" if added <= P50_BUDGET_MS else "MISSED"
        lines.append(
            f"p50 overhead at c=1 <= {P50_BUDGET_MS:g} ms: {mark} (added vs direct {added:.3f} ms, "
            f"of which {c1['p50_sb_minus_fwd_ms']:.3f} ms beyond the bare forwarder)"
        )
    c16 = next((r for r in ratio_rows if r["connections"] == 16), None)
    if c16 is not None and c16["rps_sb_over_fwd"] is not None:
        share = c16["rps_sb_over_fwd"]
        mark = "met" if share >= RPS_SHARE else "MISSED"
        lines.append(f"req/s at c=16 >= {RPS_SHARE:.0%} of the forwarder's: {mark} ({share:.0%})")
    return lines


def stream_lines(stream: dict[str, Row], sequential: dict[str, Row]) -> list[str]:
    head = (
        f"{'target':<12} {'n':>4} {'ttft p50':>9} {'ttft p99':>9} {'stream end p50':>15} "
        f"{'json p50':>9} {'json p99':>9} {'reported overhead p50':>22}"
    )
    lines = [head, "-" * len(head)]
    for target, s in stream.items():
        q = sequential.get(target, {})
        reported = q.get("reported_overhead_p50_ms")
        lines.append(
            f"{target:<12} {s['n']:>4} {s['ttft_p50_ms']:>6.3f} ms {s['ttft_p99_ms']:>6.3f} ms "
            f"{s['total_p50_ms']:>12.3f} ms {q.get('total_p50_ms', 0):>6.3f} ms "
            f"{q.get('total_p99_ms', 0):>6.3f} ms "
            + (f"{reported:>19.3f} ms" if reported is not None else f"{'-':>22}")
        )
    return lines


def memory_lines(memory: dict[str, Row]) -> list[str]:
    lines = [f"{'process':<12} {'rest MiB':>9} {'after MiB':>10} {'peak MiB':>9}"]
    for name, m in memory.items():
        lines.append(
            f"{name:<12} {m['rest_mib']:>9.1f} {m['after_mib']:>10.1f} {m['peak_mib']:>9.1f}"
        )
    return lines


def _cpu(row: Row) -> float:
    return float(row.get("server_cpu_us_per_req") or 0)


def limits_lines(rows: list[Row], levels: list[int]) -> list[str]:
    """What API keys with Redis-backed limits (and a budget) add on top of plain Switchboard;
    and what serving the same app with granian changes (negative: granian is cheaper)."""
    out = []
    for name in (LIMITS, BUDGET, FULL, GRANIAN):
        for conns in levels:
            sb, keyed = _find(rows, SWITCHBOARD, conns), _find(rows, name, conns)
            if sb is None or keyed is None:
                continue
            out.append(
                f"  {name:<17} c={conns:<3} p50 {keyed['p50_ms'] - sb['p50_ms']:+.3f} ms, "
                f"req/s x{keyed['rps'] / sb['rps']:.2f}, "
                f"cpu/req {_cpu(keyed) - _cpu(sb):+.0f} us"
            )
    return out


def print_results(results: dict[str, Any]) -> None:
    """The whole human-readable report, in the order docs/benchmarks.md shows it."""
    m, s = results["machine"], results["settings"]
    print(
        f"\n{m['cpu_model']}, {m['cores']} cores, Python {m['python']}; server under test on "
        f"cpu {m['server_cpu']}, mock + wrk + client on cpu {m['load_cpu']}; load average "
        f"{m['loadavg_before']} before, {m['loadavg_after']} after"
    )
    print(
        f"switchboard {m['switchboard']}; wrk -t1 -d{s['duration']}s x {s['repeat']} "
        f"(median req/s run kept), non-streaming body, mock --tokens {s['tokens']}\n"
    )
    print(*table(results["rows"]), sep="\n")
    print("\nSwitchboard against the forwarder and the mock direct:")
    print(*ratio_lines(results["ratios"]), sep="\n")
    print(*verdict(results["ratios"]), sep="\n")
    keyed = limits_lines(results["rows"], sorted({r["connections"] for r in results["rows"]}))
    if keyed:
        print("\nAPI key with Redis limits (and a budget) against plain Switchboard:")
        print(*keyed, sep="\n")
    print(f"\nsequential (c=1, Python client, {s['requests']} requests each; ttft = streamed):")
    print(*stream_lines(results["stream"], results["sequential"]), sep="\n")
    print("\nmemory (VmRSS at rest, after the run; VmHWM peak):")
    print(*memory_lines(results["memory"]), sep="\n")
