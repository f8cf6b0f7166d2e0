"""An evaluation through the real pipeline: a scripted upstream answers (some right, some
wrong) and judges; the report's means, usage and cost follow; a failing item is recorded;
`switchboard eval` writes the same report from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from switchboard.catalogue import Catalogue
from switchboard.config import Settings
from switchboard.evaluation.dataset import parse_dataset
from switchboard.evaluation.judge import GRADER
from switchboard.gateway import Gateway
from switchboard.jobs.eval_task import EvalOptions, evaluate
from switchboard.testing.harness import BackgroundLoop, chat_upstream

ANSWERS = {  # what the scripted model says: two right, one verbose-right, one wrong
    "What is the capital of France?": "Paris",
    "What is the capital of Japan?": "Tokyo",
    "Who designed Python?": "It was designed by Guido van Rossum.",
    "What is the capital of Brazil?": "Rio de Janeiro",
}
DATASET = "\n".join(
    json.dumps(row)
    for row in [
        {"question": "What is the capital of France?", "answer": "Paris"},
        {"question": "What is the capital of Japan?", "answer": "Tokyo"},
        {"question": "Who designed Python?", "answer": "Guido van Rossum"},
        {"question": "What is the capital of Brazil?", "answers": ["Brasilia", "Brasília"]},
        {"question": "Unanswerable: the upstream fails", "answer": "x"},
    ]
)


async def scripted(request: web.Request) -> web.Response:
    body = await request.json()
    messages = body["messages"]
    if messages[0]["content"] == GRADER:
        text = messages[1]["content"]
        ref = text.split("Reference answer: ")[1].split("\n")[0]
        cand = text.split("Candidate answer: ")[1]
        reply = "CORRECT" if ref.split(" | ")[0].lower() in cand.lower() else "INCORRECT"
    elif messages[-1]["content"] in ANSWERS:
        reply = ANSWERS[messages[-1]["content"]]
    else:
        return web.json_response({"error": {"message": "no", "type": "server_error"}}, status=500)
    return web.json_response(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": reply},
                 "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        }
    )  # fmt: skip


@pytest.fixture(scope="module")
def upstream(background: BackgroundLoop) -> Iterator[str]:
    with chat_upstream(background, scripted) as url:
        yield url


def catalogue(url: str) -> dict[str, Any]:
    dep = {"provider": "openai", "api_base": url, "api_key": "sk-x", "model": "scripted"}
    return {
        "models": [
            {
                "name": "answerer",
                "deployments": [{**dep, "name": "a", "price": {"input": 1.0, "output": 2.0}}],
            },
            {"name": "judge", "deployments": [{**dep, "name": "j"}]},
        ],
        "default_model": "answerer",
    }


async def test_a_run_through_the_pipeline_scores_and_costs(upstream: str, tmp_path: Path) -> None:
    settings = Settings(
        catalogue=Catalogue.model_validate(catalogue(upstream)),
        database_url=f"sqlite:///{tmp_path / 'g.db'}",
        retry_rounds=0,
        preload_local_model=False,
    )
    gateway = Gateway.build(settings)
    await gateway.start()
    seen: list[int] = []

    async def progress(done: int, total: int) -> None:
        seen.append(done)

    try:
        report = await evaluate(
            gateway,
            None,
            parse_dataset(DATASET),
            EvalOptions(model="answerer", judge_model="judge", concurrency=2),
            progress,
        )
    finally:
        await gateway.aclose()
    assert (report["items"], report["answered"], report["errors"]) == (5, 4, 1)
    scores = report["scores"]
    assert scores["exact_match"] == 0.5  # Paris, Tokyo
    assert scores["contains"] == 0.75  # ... and the verbose Guido van Rossum
    f1_guido = 2 * (3 / 7) * 1 / (3 / 7 + 1)  # 3 of 7 answer tokens, all 3 reference tokens
    assert scores["f1"] == pytest.approx((1 + 1 + f1_guido + 0) / 4, abs=1e-4)
    assert scores["judge"] == 0.75
    assert 0 < scores["similarity"] < 1 and scores["retrieval_hit"] is None
    assert report["usage"] == {"prompt_tokens": 40, "completion_tokens": 8}
    assert report["cost_usd"] == pytest.approx(4 * (10 * 1.0 + 2 * 2.0) / 1e6)
    failed = [r for r in report["results"] if r["error"]]
    assert len(failed) == 1 and failed[0]["prediction"] is None
    assert sorted(seen) == [1, 2, 3, 4, 5]


def test_the_command_line_writes_the_report(upstream: str, tmp_path: Path) -> None:
    config = tmp_path / "catalogue.yaml"
    config.write_text(yaml.safe_dump(catalogue(upstream)))
    data = tmp_path / "qa.jsonl"
    data.write_text(DATASET)
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "eval", str(data), "--config", str(config),
         "--out", str(out), "--concurrency", "1"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["scores"]["exact_match"] == 0.5 and report["errors"] == 1
    assert "exact_match    0.500" in done.stdout
    assert "What is the capital of Brazil?" in done.stdout  # among the lowest F1
