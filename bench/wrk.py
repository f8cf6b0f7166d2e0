"""Drive wrk with a POST script and read back throughput, latency percentiles and errors.

wrk's `--latency` text gives 50/75/90/99; a Lua `done()` hook prints the exact percentiles
(p95 included) in microseconds, and the two are cross-checked so that every number is wrk's own.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import pinned

_MARK = "BENCH_DONE "
_SCRIPT = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "{mark}{{\\"requests\\":%d,\\"duration_us\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p95\\":%d,"
    .. "\\"p99\\":%d,\\"max\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,"
    .. "\\"status\\":%d,\\"timeout\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def write_script(path: Path, body: bytes, headers: dict[str, str] | None = None) -> Path:
    """A wrk Lua script that POSTs `body` (with `headers`) and reports exact percentiles."""
    extra = "".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in (headers or {}).items()
    )
    path.write_text(extra + _SCRIPT.format(body=json.dumps(body.decode()), mark=_MARK))
    return path


@dataclass
class WrkResult:
    target: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: dict[str, int]
    flags: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.flags


def _to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def _close(text_ms: float, exact_ms: float) -> bool:
    """wrk prints two decimals of its unit; allow that rounding and nothing more."""
    return abs(text_ms - exact_ms) <= 0.006 * max(exact_ms, 1.0) + 0.005


def parse(target: str, connections: int, out: str) -> WrkResult:
    """Build a WrkResult from wrk's stdout; flags record anything that makes the row suspect."""
    line = next((ln for ln in out.splitlines() if ln.startswith(_MARK)), None)
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if line is None or rps_match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    exact = json.loads(line[len(_MARK) :])
    text_pct = {p: _to_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    non_2xx_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    errors = {k: int(exact[k]) for k in ("connect", "read", "write", "timeout")}
    result = WrkResult(
        target=target,
        connections=connections,
        seconds=exact["duration_us"] / 1e6,
        requests=int(exact["requests"]),
        rps=float(rps_match.group(1)),
        p50_ms=exact["p50"] / 1000,
        p90_ms=exact["p90"] / 1000,
        p95_ms=exact["p95"] / 1000,
        p99_ms=exact["p99"] / 1000,
        max_ms=exact["max"] / 1000,
        non_2xx=non_2xx,
        socket_errors=errors,
    )
    if non_2xx or exact["status"]:
        result.flags.append(f"non-2xx={max(non_2xx, int(exact['status']))}")
    if any(errors.values()):
        result.flags.append("socket errors " + ",".join(f"{k}={v}" for k, v in errors.items() if v))
    if result.requests == 0:
        result.flags.append("no requests completed")
    for pct in ("50", "90", "99"):
        exact_ms = exact[f"p{pct}"] / 1000
        if pct not in text_pct or not _close(text_pct[pct], exact_ms):
            result.flags.append(f"p{pct} mismatch: text {text_pct.get(pct)} vs {exact_ms:.3f}ms")
    return result


def command(url: str, script: Path, connections: int, seconds: int) -> list[str]:
    """wrk with one thread, a 5 s socket timeout and the full latency distribution."""
    return [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
    ]


def run(
    target: str,
    url: str,
    script: Path,
    connections: int,
    seconds: int,
    cpu: str | None,
) -> WrkResult:
    """One wrk run; bounded by wrk's own -d plus a hard timeout."""
    argv = pinned(cpu, command(url, script, connections, seconds))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse(target, connections, done.stdout)
