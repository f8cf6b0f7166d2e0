"""Background jobs' Prometheus series, on the gateway's registry (Metrics.jobs).

Counters and the duration histogram are written by the process that does the work: the API
process counts submissions; the process that runs a job (`serve` with the embedded runner, or a
`switchboard worker`, which serves them on its own port) counts outcomes, retries, webhook
deliveries and batch lines. The queue gauges are read from the shared job table at scrape time
(`QueueGauges`), so every replica reports the same cluster-wide figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)


@dataclass(frozen=True)
class QueueRow:
    """One kind's live jobs in the table: waiting, running, and the oldest wait in seconds."""

    kind: str
    queued: int
    running: int
    oldest_queued_s: float


class QueueGauges(Collector):
    """The job table's depth by kind, as last read (the reader refreshes it before a scrape)."""

    def __init__(self) -> None:
        self.rows: tuple[QueueRow, ...] = ()
        self.up = True

    def update(self, rows: tuple[QueueRow, ...], up: bool = True) -> None:
        self.rows, self.up = rows, up

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queued = GaugeMetricFamily(
            "switchboard_jobs_queued", "Jobs waiting in the job table, by kind", labels=["kind"]
        )
        running = GaugeMetricFamily(
            "switchboard_jobs_running", "Jobs held by a runner, by kind", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "switchboard_jobs_oldest_queued_age_seconds",
            "How long the longest-waiting due job has waited (0: none waiting), by kind",
            labels=["kind"],
        )
        for row in self.rows:
            queued.add_metric([row.kind], row.queued)
            running.add_metric([row.kind], row.running)
            oldest.add_metric([row.kind], row.oldest_queued_s)
        up = GaugeMetricFamily(
            "switchboard_jobs_table_up",
            "Whether the last read of the job table for the queue gauges succeeded",
            value=1.0 if self.up else 0.0,
        )
        yield from (queued, running, oldest, up)


class JobMetrics:
    """Labels are the task kind (bounded by the registry) and a fixed outcome; never ids."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.submitted = Counter(
            "switchboard_jobs_submitted", "Jobs stored by this process, by kind", ["kind"],
            registry=r,
        )  # fmt: skip
        self.finished = Counter(
            "switchboard_jobs_finished",
            "Jobs whose outcome this process recorded: succeeded, failed, dead_letter",
            ["kind", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "switchboard_jobs_retries",
            "Attempts that failed and were put back to run again, by kind",
            ["kind"],
            registry=r,
        )
        self.duration = Histogram(
            "switchboard_job_duration_seconds",
            "Time one attempt of a job ran, from its claim to its outcome, by kind",
            ["kind"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.webhooks = Counter(
            "switchboard_webhook_deliveries",
            "Callback deliveries: delivered, failed (retried later) or abandoned (last attempt)",
            ["outcome"],
            registry=r,
        )
        self.batch_lines = Counter(
            "switchboard_batch_lines",
            "Batch lines recorded: succeeded (status < 400) or failed",
            ["outcome"],
            registry=r,
        )
        self.queue = QueueGauges()
        r.register(self.queue)

    def job_submitted(self, kind: str) -> None:
        self.submitted.labels(kind).inc()

    def job_finished(self, kind: str, outcome: str) -> None:
        self.finished.labels(kind, outcome).inc()

    def job_retried(self, kind: str) -> None:
        self.retries.labels(kind).inc()

    def attempt_ran(self, kind: str, seconds: float) -> None:
        self.duration.labels(kind).observe(seconds)

    def webhook_delivery(self, outcome: str) -> None:
        self.webhooks.labels(outcome).inc()

    def batch_line(self, status_code: int) -> None:
        self.batch_lines.labels("succeeded" if status_code < 400 else "failed").inc()
