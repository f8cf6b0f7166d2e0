"""Key material, the key record's rules and the authentication cache, without a database."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from switchboard.keys.cache import KeyCache
from switchboard.keys.engine import async_url, check_schema
from switchboard.keys.models import ApiKey, NewKey
from switchboard.keys.secrets import KeyHasher, generate_key, looks_like_key

NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)


def api_key(**kw: object) -> ApiKey:
    fields: dict[str, object] = {
        "id": "k1", "name": "n", "tenant": "t", "prefix": "sk-sb-abcdef", "allowed_models": None,
        "rpm": None, "tpm": None, "max_concurrency": None, "budget_usd": None,
        "budget_period": "total", "expires_at": None, "revoked_at": None, "created_at": NOW,
        **kw,
    }  # fmt: skip
    return ApiKey(**fields)  # type: ignore[arg-type]


def test_generated_keys_have_the_documented_shape() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("sk-sb-") and len(k) == 49 and looks_like_key(k) for k in keys)
    assert not looks_like_key("sk-other-" + "x" * 40)


def test_hashes_with_and_without_pepper() -> None:
    key = generate_key()
    assert KeyHasher(None).hash(key) == hashlib.sha256(key.encode()).hexdigest()
    assert KeyHasher("").hash(key) == hashlib.sha256(key.encode()).hexdigest()
    peppered = KeyHasher("p").hash(key)
    assert peppered == hmac.new(b"p", key.encode(), hashlib.sha256).hexdigest()
    assert KeyHasher("p").matches(key, peppered) and not KeyHasher("q").matches(key, peppered)
    assert "s3cr3t" not in repr(KeyHasher("s3cr3t"))


def test_status_and_models() -> None:
    assert api_key().status(NOW) == "active"
    assert api_key(expires_at=NOW).status(NOW) == "expired"
    assert api_key(expires_at=NOW + timedelta(seconds=1)).status(NOW) == "active"
    assert api_key(revoked_at=NOW, expires_at=NOW).status(NOW) == "revoked"
    assert api_key().allows_model("x")
    assert api_key(allowed_models=("a",)).allows_model("a")
    assert not api_key(allowed_models=("a",)).allows_model("b")


def test_budget_window() -> None:
    today = date(2025, 6, 15)
    assert api_key().budget_window_start(today) is None
    assert api_key(budget_period="daily").budget_window_start(today) == today
    assert api_key(budget_period="monthly").budget_window_start(today) == date(2025, 6, 1)


@pytest.mark.parametrize(
    "kw",
    [
        {"name": ""},
        {"tenant": ""},
        {"rpm": 0},
        {"tpm": -1},
        {"max_concurrency": 0},
        {"budget_usd": -0.01},
        {"budget_period": "weekly"},
        {"expires_at": datetime(2030, 1, 1)},
    ],
)
def test_new_key_rejects(kw: dict[str, object]) -> None:
    fields: dict[str, object] = {"name": "n", "tenant": "t", **kw}
    with pytest.raises(ValueError):
        NewKey(**fields)  # type: ignore[arg-type]


def test_new_key_accepts_any_aware_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert NewKey("n", "t", expires_at=datetime(2030, 1, 1, tzinfo=plus_two)).expires_at


def test_cache_expires_bounds_and_forgets() -> None:
    now = [0.0]
    cache = KeyCache(ttl_s=5, max_size=2, clock=lambda: now[0])
    a, b, c = api_key(id="a"), api_key(id="b"), api_key(id="c")
    cache.put("ha", a)
    cache.put("hb", b)
    assert cache.get("ha") == a  # a is now the most recent
    cache.put("hc", c)
    assert cache.get("hb") is None and cache.get("hc") == c
    cache.forget("c")
    assert cache.get("hc") is None
    now[0] = 5.0
    assert cache.get("ha") is None
    disabled = KeyCache(ttl_s=0, max_size=10, clock=lambda: 0.0)
    disabled.put("ha", a)
    assert disabled.get("ha") is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "sqlite+aiosqlite:///./switchboard.db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("/var/lib/sb/keys.db", "sqlite+aiosqlite:////var/lib/sb/keys.db"),
        ("keys.db", "sqlite+aiosqlite:///keys.db"),
        ("postgresql://u:pw@db:5432/sb", "postgresql+asyncpg://u:pw@db:5432/sb"),
        ("postgres://u@db/sb", "postgresql+asyncpg://u@db/sb"),
        ("postgresql+asyncpg://u@db/sb", "postgresql+asyncpg://u@db/sb"),
    ],
)
def test_database_urls(given: str | None, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


def test_schema_names_are_checked() -> None:
    assert check_schema("t_abc123") == "t_abc123"
    for bad in ("", "Public", 'x"; drop', "1abc", "a" * 64):
        with pytest.raises(ValueError):
            check_schema(bad)
