"""Run the mock provider as a process (`switchboard mock-provider`): until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

from switchboard.testing.mock_provider import MockConfig, MockProvider


async def _serve(config: MockConfig, host: str, port: int) -> None:
    provider = MockProvider(config)
    bound = await provider.start(host, port)
    print(f"switchboard mock provider listening on http://{host}:{bound}/v1", file=sys.stderr)
    stop = asyncio.Event()
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError):
        pass
    try:
        await stop.wait()
    finally:
        await provider.stop()


def run_mock_provider(config: MockConfig, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM; uses uvloop when it is installed."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        pass
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_serve(config, host, port))
    except KeyboardInterrupt:
        pass
