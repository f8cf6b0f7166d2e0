"""A missing service skips its tests locally and fails them in CI."""

from __future__ import annotations

import socket

import pytest

from switchboard.testing.services import (
    REQUIRE_FLAGS,
    accepts_connections,
    require_or_skip,
    services_required,
)


@pytest.fixture
def local_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in REQUIRE_FLAGS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("local_run")
def test_a_local_run_skips() -> None:
    assert not services_required()
    with pytest.raises(pytest.skip.Exception, match="no Redis"):
        require_or_skip("no Redis")


@pytest.mark.usefixtures("local_run")
@pytest.mark.parametrize("flag", REQUIRE_FLAGS)
@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_either_flag_makes_a_missing_service_fail(
    monkeypatch: pytest.MonkeyPatch, flag: str, value: str
) -> None:
    monkeypatch.setenv(flag, value)
    assert services_required()
    with pytest.raises(pytest.fail.Exception, match="no Redis"):
        require_or_skip("no Redis")


@pytest.mark.usefixtures("local_run")
@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_a_false_flag_still_skips(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert not services_required()


def test_accepts_connections_tells_a_listener_from_a_closed_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert accepts_connections(f"redis://127.0.0.1:{port}/0")
        assert accepts_connections(f"postgresql+asyncpg://u@127.0.0.1:{port}/db")
    assert not accepts_connections(f"redis://127.0.0.1:{port}/0")
