"""The capability table (providers/capabilities.py) against README's feature table, and what
fitting a request to a provider type does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from switchboard.catalogue import DeploymentConfig
from switchboard.domain import ChatRequest, Message, NativeBody
from switchboard.errors import UnsupportedOperation
from switchboard.providers.capabilities import (
    CAPABILITIES,
    capabilities,
    check_native_setting,
    fit_request,
)
from switchboard.providers.registry import FACTORIES

README = Path(__file__).parents[2] / "README.md"


def feature_table() -> tuple[list[list[str]], list[list[str]]]:
    """(provider types of each column, rows of cells) of README's *Features by provider type*."""
    text = README.read_text(encoding="utf-8").split("### Features by provider type", 1)[1]
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header, rows = lines[0], lines[2:]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    columns = [re.findall(r"`(\w+)`", c) for c in header.strip("|").split("|")[1:]]
    return columns, cells


def test_every_provider_type_has_capabilities_and_a_column() -> None:
    assert set(CAPABILITIES) == set(FACTORIES)
    columns, _ = feature_table()
    assert sorted(p for column in columns for p in column) == sorted(FACTORIES)


def test_readme_refusals_match_the_code() -> None:
    columns, rows = feature_table()
    names = {p.name for caps in CAPABILITIES.values() for p in caps.refuses}
    seen = set()
    for row in rows:
        label = row[0]
        named = [n for n in names if f"`{n}`" in label or f"(`{n}`)" in label]
        if not named:
            continue
        [name] = named
        seen.add(name)
        for cell, providers in zip(row[1:], columns, strict=True):
            for provider in providers:
                refused = any(p.name == name for p in capabilities(provider).refuses)
                assert cell.startswith("refused") == refused, (name, provider, cell)
    assert seen == names


def test_readme_n_row_matches_the_code() -> None:
    columns, rows = feature_table()
    [row] = [r for r in rows if r[0] == "`n` > 1"]
    for cell, providers in zip(row[1:], columns, strict=True):
        for provider in providers:
            assert (cell == "passed") == capabilities(provider).native_n, provider


def dep(provider: str) -> DeploymentConfig:
    return DeploymentConfig(provider=provider, model="m", name=f"{provider}-dep")


def request(**params: object) -> ChatRequest:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    content = [{"type": "text", "text": "What is this?"}, image]
    return ChatRequest(model="pub", messages=[Message("user", content)], params=dict(params))


def test_openai_wire_passes_everything() -> None:
    req = request(tools=[{}], logprobs=True, response_format={"type": "json_object"})
    assert fit_request(req, dep("openai"), drop=False) == (req, ())


def test_refusal_names_the_first_and_dropping_removes_all() -> None:
    req = request(tools=[{"type": "function"}], tool_choice="auto", logprobs=True, top_logprobs=3)
    with pytest.raises(UnsupportedOperation) as caught:
        fit_request(req, dep("local"), drop=False)
    assert caught.value.param == "tools" and "`pub`" in caught.value.message
    fitted, dropped = fit_request(req, dep("local"), drop=True)
    assert dropped == ("tools", "logprobs", "messages")
    assert fitted.params == {}
    assert fitted.messages[0].content == [{"type": "text", "text": "What is this?"}]
    assert req.params["tools"] and len(req.messages[0].content or []) == 2  # not mutated


def test_text_format_is_not_json_mode() -> None:
    req = ChatRequest("pub", [Message("user", "hi")], params={"response_format": {"type": "text"}})
    assert fit_request(req, dep("anthropic"), drop=False) == (req, ())


def responses_request(untranslated: tuple[str, str] | None) -> ChatRequest:
    body = {"model": "pub", "input": "hi", "tools": [{"type": "web_search"}]}
    native = NativeBody("responses", body, untranslated)
    return ChatRequest("pub", [Message("user", "hi")], native=native)


def test_a_native_deployment_takes_the_body_and_others_refuse_what_it_needs() -> None:
    left_out = ("tools", "tool type 'web_search' is a built-in OpenAI tool")
    req = responses_request(left_out)
    native = DeploymentConfig(provider="vllm", model="m", responses_api="native")
    assert fit_request(req, native, drop=False) == (req, ())
    for provider in ("openai", "anthropic", "local"):  # translate, the default
        with pytest.raises(UnsupportedOperation) as caught:
            fit_request(req, dep(provider), drop=False)
        assert caught.value.param == "tools" and "responses_api: native" in caught.value.message
    assert fit_request(req, dep("openai"), drop=True) == (req, ("tools",))
    plain = responses_request(None)  # nothing left out: any deployment serves the translation
    assert fit_request(plain, dep("anthropic"), drop=False) == (plain, ())


def test_native_is_only_for_provider_types_that_speak_it() -> None:
    speak = {p for p, caps in CAPABILITIES.items() if caps.native_responses}
    assert speak == {"openai", "azure", "vllm"}
    for provider in FACTORIES:
        deployment = DeploymentConfig(provider=provider, model="m", responses_api="native")
        if provider in speak:
            check_native_setting(deployment)
        else:
            with pytest.raises(ValueError, match="responses_api native"):
                check_native_setting(deployment)
