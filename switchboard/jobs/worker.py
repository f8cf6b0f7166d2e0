"""`switchboard worker`: a Celery worker whose one task runs a job by id through the same
runner as the embedded mode, on an event loop of its own holding this process's Gateway.

The Gateway is built on the first job (after any fork), with the local model not preloaded:
a job that calls it loads it then. LLM calls go through the Gateway's pipeline with the job's
key, exactly like HTTP requests.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from switchboard.jobs.celery_app import RUN_JOB, make_celery
from switchboard.jobs.runner import Outcome, execute

if TYPE_CHECKING:
    from celery import Celery

    from switchboard.config import Settings
    from switchboard.gateway import Gateway

log = logging.getLogger("switchboard.jobs")


class WorkerRuntime:
    """One event loop thread and one Gateway per worker process, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.model_copy(update={"preload_local_model": False})
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gateway: Gateway | None = None

    def _started(self) -> tuple[asyncio.AbstractEventLoop, Gateway]:
        with self._lock:
            if self._loop is None or self._gateway is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="jobs-loop", daemon=True).start()
                self._gateway = asyncio.run_coroutine_threadsafe(self._build(), loop).result()
                self._loop = loop
            return self._loop, self._gateway

    async def _build(self) -> Gateway:
        from switchboard.gateway import Gateway

        gateway = Gateway.build(self._settings)
        await gateway.start()
        assert gateway.jobs is not None
        gateway.jobs.start_sweeper()
        return gateway

    def submit(self, coro: Any) -> Future[Any]:
        loop, _ = self._started()
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def execute(self, job_id: str) -> Outcome:
        _, gateway = self._started()
        assert gateway.jobs is not None
        outcome: Outcome = self.submit(execute(gateway.jobs, job_id)).result()
        return outcome

    def close(self) -> None:
        with self._lock:
            if self._loop is None or self._gateway is None:
                return
            asyncio.run_coroutine_threadsafe(self._gateway.aclose(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = self._gateway = None


def worker_app(settings: Settings, runtime: WorkerRuntime) -> Celery:
    app = make_celery(settings)

    @app.task(name=RUN_JOB, bind=True, acks_late=True, reject_on_worker_lost=True)
    def run_job(task: Any, job_id: str) -> None:
        outcome = runtime.execute(job_id)
        if outcome.state == "retry":
            raise task.retry(countdown=outcome.delay_s, max_retries=None)

    return app


def serve_metrics(settings: Settings) -> Callable[[], None]:
    """`worker_metrics_port`: the worker's own /metrics (its jobs' outcomes, retries, durations,
    webhook deliveries, batch lines, and its Gateway's request series). prometheus_client's
    multiprocess mode sums every process of the worker (prefork children included); returns
    what to call at exit."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    from switchboard.prefork import prepare_metrics_dir

    folder, made_here = prepare_metrics_dir()  # before the Gateway makes any metric
    everyone = CollectorRegistry()
    multiprocess.MultiProcessCollector(everyone)
    assert settings.worker_metrics_port is not None
    server, thread = start_http_server(
        settings.worker_metrics_port, addr=settings.host, registry=everyone
    )
    log.info("worker metrics on %s:%d", settings.host, settings.worker_metrics_port)

    def stop() -> None:
        server.shutdown()
        thread.join(5)
        if made_here:
            shutil.rmtree(folder, ignore_errors=True)

    return stop


def run_worker(settings: Settings, concurrency: int, pool: str, loglevel: str) -> int:
    stop_metrics = serve_metrics(settings) if settings.worker_metrics_port else None
    runtime = WorkerRuntime(settings)
    app = worker_app(settings, runtime)
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        f"--queues={settings.jobs_queue}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    try:
        app.worker_main(argv)
    finally:
        runtime.close()
        if stop_metrics is not None:
            stop_metrics()
    return 0
