"""The `switchboard` command: serve | worker | mock-provider | keys | config | export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from switchboard import __version__


def _serve(args: argparse.Namespace) -> int:
    import os

    from switchboard.config import Settings
    from switchboard.prefork import shared_state_problem, worker_count
    from switchboard.server import serve, serve_granian, serve_processes, setup_logging

    overrides: dict[str, object] = {}
    if args.config is not None:
        overrides["config"] = Path(args.config)
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.log_format is not None:
        overrides["log_format"] = args.log_format
    try:
        workers = worker_count(args.workers)
    except ValueError:
        print(f"switchboard serve: --workers takes a number >= 1 or auto, not {args.workers!r}",
              file=sys.stderr)  # fmt: skip
        return 2
    settings = Settings(**overrides)  # type: ignore[arg-type]
    setup_logging(settings)
    problem = shared_state_problem(settings, workers)
    if problem is not None:
        print(f"switchboard serve: {problem}", file=sys.stderr)
        return 2
    if args.server == "granian":  # its workers read the settings from the environment
        os.environ.update({f"SWITCHBOARD_{k.upper()}": str(v) for k, v in overrides.items()})
        return serve_granian(settings, workers)
    if workers > 1:
        return serve_processes(settings, workers, _app)
    return serve(_app(settings), settings)


def _app(settings: object) -> object:
    from switchboard.app import create_app
    from switchboard.config import Settings

    assert isinstance(settings, Settings)
    return create_app(settings)


def _worker(args: argparse.Namespace) -> int:
    from switchboard.config import Settings
    from switchboard.server import setup_logging

    overrides: dict[str, object] = {}
    if args.config is not None:
        overrides["config"] = Path(args.config)
    if args.broker is not None:
        overrides["jobs_broker_url"] = args.broker
    if args.metrics_port is not None:
        overrides["worker_metrics_port"] = args.metrics_port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if not settings.jobs_broker_url:
        print("no broker: set SWITCHBOARD_JOBS_BROKER_URL (serve runs jobs itself without one)",
              file=sys.stderr)  # fmt: skip
        return 2
    setup_logging(settings)
    from switchboard.jobs.worker import run_worker

    concurrency = args.concurrency or settings.jobs_concurrency
    return run_worker(settings, concurrency, args.pool, args.loglevel)


def _mock_provider(args: argparse.Namespace) -> int:
    from switchboard.testing.mock_provider import MockConfig
    from switchboard.testing.mock_server import run_mock_provider

    config = MockConfig(
        ttft_ms=args.ttft_ms,
        itl_ms=args.itl_ms,
        tokens=args.tokens,
        error_rate=args.error_rate,
        error_status=args.error_status,
        hang_rate=args.hang_rate,
        cut_stream_rate=args.cut_stream_rate,
        seed=args.seed,
    )
    run_mock_provider(config, args.host, args.port)
    return 0


def _config_check(args: argparse.Namespace) -> int:
    from switchboard.config_check import check

    report = check(args.file)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.ok:
        errors = sum(not p.warning for p in report.problems)
        print(f"config check failed: {errors} error(s)", file=sys.stderr)
        return 1
    print(f"ok: {report.summary}")
    return 0


def _add_config_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="check the configuration without starting anything")
    actions = config.add_subparsers(dest="config_command", required=True)
    check = actions.add_parser(
        "check", help="validate a catalogue and the SWITCHBOARD_* environment; exit 1 on errors"
    )
    check.add_argument("file", nargs="?", help="YAML catalogue (default: SWITCHBOARD_CONFIG)")
    check.set_defaults(func=_config_check)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    p.add_argument("--version", action="version", version=f"switchboard {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="YAML model catalogue (default: the embedded local model)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument(
        "--log-format", choices=("text", "json"), help="log lines (default text; env: LOG_FORMAT)"
    )
    serve.add_argument(
        "--workers",
        default="1",
        help="processes serving the port (default 1; auto = one per core); more than one "
        "needs SWITCHBOARD_REDIS_URL",
    )
    serve.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="HTTP server (default uvicorn; granian needs the granian package)",
    )
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run background jobs (a Celery worker)")
    worker.add_argument("--config", help="YAML model catalogue (default: the embedded local model)")
    worker.add_argument("--broker", help="redis:// or amqp:// URL (env: JOBS_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, help="jobs at once (env: JOBS_CONCURRENCY)")
    worker.add_argument(
        "--pool", default="threads", choices=("threads", "solo", "prefork"), help="Celery pool"
    )
    worker.add_argument("--loglevel", default="warning")
    worker.add_argument(
        "--metrics-port", type=int, help="serve the worker's /metrics (env: WORKER_METRICS_PORT)"
    )
    worker.set_defaults(func=_worker)

    mock = sub.add_parser("mock-provider", help="run the OpenAI-compatible mock upstream")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=9000)
    mock.add_argument("--ttft-ms", type=float, default=0.0, help="delay before the first token")
    mock.add_argument("--itl-ms", type=float, default=0.0, help="delay between streamed tokens")
    mock.add_argument("--tokens", type=int, default=16, help="completion tokens per response")
    mock.add_argument(
        "--error-rate", type=float, default=0.0, help="fraction answered with an error"
    )
    mock.add_argument("--error-status", type=int, default=500, help="status of injected errors")
    mock.add_argument("--hang-rate", type=float, default=0.0, help="fraction never answered")
    mock.add_argument("--cut-stream-rate", type=float, default=0.0, help="fraction of streams cut")
    mock.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    mock.set_defaults(func=_mock_provider)

    from switchboard.keys.cli import add_keys_commands

    add_keys_commands(sub)
    from switchboard.keys.usage_cli import add_usage_commands

    add_usage_commands(sub)
    from switchboard.jobs.cli import add_batch_commands

    add_batch_commands(sub)
    from switchboard.jobs.eval_cli import add_eval_command

    add_eval_command(sub)
    _add_config_commands(sub)
    from switchboard.export.command import add_command as add_export_command

    add_export_command(sub)
    from switchboard.cache.cli import add_cache_commands

    add_cache_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
