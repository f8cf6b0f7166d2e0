"""Schemathesis against every operation the real gateway lists in `/openapi.json`: valid and
invalid inputs, generated from the schema, must never be answered with a 5xx.

The gateway is the hostile suite's process (master key + Redis). Requests carry a valid API key,
or the master key on /admin routes; everything stays on loopback. Bounded: at most 25 generated
cases per operation and generation mode, a timeout on every request, no example database on disk.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation, BaseSchema

from tests.hostile.conftest import MASTER, Gateway

REQUEST_TIMEOUT_S = 10
BOUNDED = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def honest_key(hostile_gateway: Gateway) -> str:
    """An API key whose limits never bind during the fuzzing."""
    return hostile_gateway.new_key(rpm=1_000_000, tpm=1_000_000_000)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def gateway_schema(hostile_gateway: Gateway) -> BaseSchema:
    return schemathesis.openapi.from_url(
        f"{hostile_gateway.url}/openapi.json", timeout=REQUEST_TIMEOUT_S
    )


def _operations(schema: BaseSchema) -> dict[tuple[str, str], APIOperation]:
    listed = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        listed[(operation.method.upper(), operation.path)] = operation
    return listed


def _credential(path: str, key: str) -> dict[str, str]:
    token = MASTER if path.startswith(("/admin", "/dashboard")) else key
    return {"Authorization": f"Bearer {token}"}


def _fuzz(operation: APIOperation, base_url: str, key: str, http: requests.Session) -> str | None:
    """Up to 25 valid and 25 invalid cases against one operation; the 5xx found (shrunk to its
    smallest input, as a curl command) or None."""
    headers = _credential(operation.path, key)
    cases = st.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    @settings(BOUNDED, max_examples=50)
    @given(case=cases)
    def send(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(
                base_url=base_url,
                session=http,
                headers=headers,
                checks=[not_a_server_error],
                timeout=REQUEST_TIMEOUT_S,
            )
        except BaseExceptionGroup as found:  # schemathesis's FailureGroup, with a curl command
            raise AssertionError(str(found)) from None

    try:
        send()
    except Exception as found:
        return f"{operation.label}: {found}"
    return None


@pytest.mark.timeout(240)
def test_no_listed_operation_answers_5xx(
    hostile_gateway: Gateway, gateway_schema: BaseSchema, honest_key: str, http: requests.Session
) -> None:
    listed = _operations(gateway_schema)
    assert ("POST", "/admin/keys") in listed and ("GET", "/v1/models") in listed
    found = [
        _fuzz(operation, hostile_gateway.url, honest_key, http) for operation in listed.values()
    ]
    assert not [f for f in found if f], "\n\n".join(f for f in found if f)
