"""observability/periodic.Periodic: runs its action every few seconds, survives a failing run,
runs once more at close, and does nothing at close when never started."""

from __future__ import annotations

import asyncio
import logging

import pytest

from switchboard.observability.periodic import Periodic

log = logging.getLogger("tests.periodic")


async def test_runs_on_a_period_survives_failures_and_runs_once_more_at_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    four = asyncio.Event()

    async def action() -> None:
        calls.append(len(calls))
        if len(calls) == 4:
            four.set()
        if len(calls) == 2:
            raise RuntimeError("store down")

    periodic = Periodic(action, 0.01, log, "publish")
    periodic.start()
    await asyncio.wait_for(four.wait(), 10)
    await periodic.aclose()
    after_close = len(calls)
    assert after_close >= 5  # at least four periodic runs, then the one at close
    await asyncio.sleep(0.05)
    assert len(calls) == after_close  # stopped
    assert "could not publish" in caplog.text


async def test_close_without_start_runs_nothing() -> None:
    calls: list[int] = []

    async def action() -> None:
        calls.append(1)

    await Periodic(action, 0.01, log, "publish").aclose()
    assert calls == []
