"""instructor through Switchboard: a pydantic model back from a tool call (TOOLS), from a JSON
schema (JSON_SCHEMA, `response_format`) and from JSON mode, plain, streamed (partials) and
async; `create_with_completion`'s raw completion equals the one straight from the upstream,
every field included."""

from __future__ import annotations

import instructor
import openai
import pytest
from pydantic import BaseModel

from tests.clients.conftest import MODEL
from tests.clients.upstream import STRUCTURED, ClientsUpstream

MODES = [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA, instructor.Mode.JSON]
ASK = [{"role": "user", "content": "structured"}]


class Weather(BaseModel):
    city: str
    temperature_c: int


def patched(url: str, mode: instructor.Mode) -> instructor.Instructor:
    sdk = openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=10)
    return instructor.from_openai(sdk, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_structured(
    urls: tuple[str, str], upstream: ClientsUpstream, mode: instructor.Mode
) -> None:
    got = []
    for url in urls:
        client = patched(url, mode)
        weather, raw = client.chat.completions.create_with_completion(
            model=MODEL, response_model=Weather, messages=ASK, max_retries=0
        )
        got.append((weather.model_dump(), raw.model_dump()))  # less its private _raw_response
    assert got[1] == got[0]
    assert got[1][0] == STRUCTURED
    assert got[1][1]["system_fingerprint"] == "fp_0123abcd"
    assert upstream.asked_alike()  # the schema reached the upstream as instructor sent it
    sent = upstream.received[-1]
    assert sent.get("tools") or sent.get("response_format") or mode == instructor.Mode.JSON


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA])
def test_partials_streamed(urls: tuple[str, str], mode: instructor.Mode) -> None:
    got = []
    for url in urls:
        partials = patched(url, mode).chat.completions.create_partial(
            model=MODEL, response_model=Weather, messages=ASK, max_retries=0
        )
        got.append([p.model_dump() for p in partials])
    assert got[1] == got[0]
    assert got[1][-1] == STRUCTURED


async def test_async(urls: tuple[str, str]) -> None:
    got = []
    for url in urls:
        sdk = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0, timeout=10)
        client = instructor.from_openai(sdk, mode=instructor.Mode.TOOLS)
        weather = await client.chat.completions.create(
            model=MODEL, response_model=Weather, messages=ASK, max_retries=0
        )
        got.append(weather.model_dump())
    assert got == [STRUCTURED] * 2
