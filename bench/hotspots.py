"""Profile Switchboard under wrk load with py-spy and rank where its CPU time goes.

Run from the repository root (needs wrk, taskset and `pip install py-spy`):

    python -m bench.hotspots                          # c=16, 20 s of samples
    python -m bench.hotspots --target forwarder       # the baseline, to compare against
    python -m bench.hotspots --stream --connections 64 --raw /tmp/switchboard.raw
    python -m bench.hotspots --native                 # C frames too: the garbage collector's share

Same layout as bench.overhead: Switchboard alone on one core; the mock, wrk and py-spy on the
other. The raw file (collapsed stacks) can be turned into a flame graph with flamegraph.pl.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench import wrk
from bench.procs import Fleet, cpu_seconds, pinned
from bench.targets import BODY, PATH, STREAM_BODY, Launcher, pick_layout

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::\d+)?\)$")
_PACKAGES = ("switchboard", "starlette", "fastapi", "uvicorn", "aiohttp", "pydantic", "asyncio")

Stack = list[tuple[str, str]]  # (file, function), outermost first


def _frames(line: str) -> tuple[Stack, int]:
    stack_text, _, count = line.rpartition(" ")
    stack = []
    for frame in stack_text.split(";"):
        match = _FRAME.match(frame)
        stack.append((match["file"], match["func"]) if match else ("?", frame))
    return stack, int(count)


def read_raw(path: Path) -> Iterator[tuple[Stack, int]]:
    for line in path.read_text().splitlines():
        if line.strip():
            yield _frames(line)


def _short(file: str) -> str:
    """`switchboard/api/render.py` rather than the whole site-packages path."""
    for package in _PACKAGES:
        marker = f"/{package}/"
        if marker in file:
            return package + "/" + file.rsplit(marker, 1)[1]
    return file.rsplit("/", 1)[-1]


def _is_own(file: str, func: str) -> bool:
    """A frame of the proxy's own code below its entry point (which is on every stack)."""
    if file.endswith("/bench/forwarder.py"):
        return func not in ("main", "<module>")
    return "/switchboard/" in file and not file.endswith("/switchboard/cli.py")


def _package(file: str) -> str:
    return next((p for p in _PACKAGES if f"/{p}/" in file), "other")


def summarize(stacks: list[tuple[Stack, int]], top: int, us_per_sample: float) -> list[str]:
    """Own (leaf) time, inclusive time of the proxy's functions, and time under each of them.

    `us_per_sample` turns sample counts into CPU microseconds per request.
    """
    total = sum(n for _, n in stacks) or 1
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    nearest: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    collector = 0
    for stack, n in stacks:
        if any(func == "gc_collect_main" for _, func in stack):
            collector += n
        file, func = stack[-1]
        leaf[f"{_short(file)}:{func}"] += n
        packages[_package(file)] += n
        own = [f"{_short(f)}:{fn}" for f, fn in stack if _is_own(f, fn)]
        for name in set(own):
            inclusive[name] += n
        nearest[own[-1] if own else "(event loop and server, no proxy frame)"] += n

    def block(title: str, counts: Counter[str]) -> list[str]:
        rows = [
            f"{100 * n / total:6.1f}% {n * us_per_sample:7.1f} us/req  {name}"
            for name, n in counts.most_common(top)
        ]
        return [f"\n{title}", *rows]

    lines = [f"{total} samples, {total * us_per_sample:.0f} us of CPU a request"]
    if collector:
        share = f"{100 * collector / total:.1f}% {collector * us_per_sample:.1f} us/req"
        lines.append(f"garbage collector (gc_collect_main, inclusive): {share}")
    lines += block("self time by package (leaf frame):", packages)
    lines += block("self time by function (leaf frame):", leaf)
    lines += block("the proxy's own functions, inclusive:", inclusive)
    lines += block("samples charged to the innermost frame of the proxy's own code:", nearest)
    return lines


def _profile(args: argparse.Namespace, tmp: Path, raw: Path) -> float:
    """Sample the target under wrk load into `raw`; return its CPU microseconds a request.

    The CPU time comes from /proc, not from the sample count: py-spy counts a thread that waits
    for a busy core as active, so samples give shares, and /proc gives the total.
    """
    layout = pick_layout()
    with Fleet() as fleet:
        launcher = Launcher(fleet, layout, tmp, args.switchboard_src)
        mock = launcher.mock(args.tokens)
        headers: dict[str, str] = {}
        if args.target == "keys":  # API key + Redis limits + budget
            gateway, key = launcher.switchboard_with_keys(mock, args.redis, budget=True)
            headers["Authorization"] = f"Bearer {key}"
        else:
            start = launcher.switchboard if args.target == "switchboard" else launcher.forwarder
            gateway = start(mock)
        body = STREAM_BODY if args.stream else BODY
        script = wrk.write_script(tmp / "post.lua", body, headers)
        url = f"http://127.0.0.1:{gateway.port}{PATH}"
        wrk.run("warm-up", url, script, args.connections, 2, layout.load_cpu)
        load_argv = wrk.command(url, script, args.connections, args.duration + 4)
        load = subprocess.Popen(
            pinned(layout.load_cpu, load_argv), stdout=subprocess.PIPE, text=True
        )
        try:
            spy = ["py-spy", "record", "--format", "raw", "--full-filenames"]
            spy += ["--rate", str(args.rate), "--native" if args.native else "--nonblocking"]
            spy += ["--duration", str(args.duration), "--pid", str(gateway.pid), "-o", str(raw)]
            cpu_before = cpu_seconds(gateway.pid)
            subprocess.run(pinned(layout.load_cpu, spy), check=True, timeout=args.duration + 30)
            cpu = cpu_seconds(gateway.pid) - cpu_before
            out, _ = load.communicate(timeout=args.duration + 30)
        finally:
            load.kill()
        result = wrk.parse(args.target, args.connections, out)
        print(f"{args.target} under py-spy: {result.rps:.0f} req/s, p50 {result.p50_ms:.3f} ms")
        return 1e6 * cpu / max(result.rps * args.duration, 1.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", choices=["switchboard", "forwarder", "keys"], default="switchboard")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for --target keys")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--stream", action="store_true", help="streamed requests (SSE) instead")
    p.add_argument("--native", action="store_true", help="C frames too (pauses the target)")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples a second")
    p.add_argument("--duration", type=int, default=20, help="seconds of sampling")
    p.add_argument("--tokens", type=int, default=16)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    p.add_argument("--switchboard-src", type=Path, help="as in bench.overhead")
    args = p.parse_args(argv)
    if shutil.which("py-spy") is None or shutil.which("wrk") is None:
        print("needs wrk and py-spy (pip install py-spy)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sb-hotspots-") as name:
        raw = args.raw or Path(name) / "profile.raw"
        us_per_request = _profile(args, Path(name), raw)
        stacks = list(read_raw(raw))
        us_per_sample = us_per_request / max(sum(n for _, n in stacks), 1)
        print(*summarize(stacks, args.top, us_per_sample), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
