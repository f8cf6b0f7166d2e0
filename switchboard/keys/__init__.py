"""API keys and usage records: a KeyStore protocol over SQLite (embedded) or PostgreSQL.

The SQL store is loaded on first use, so a gateway without keys never imports SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

from switchboard.keys.models import ApiKey, BudgetPeriod, KeyStatus, NewKey, UsageRow

_LAZY = {"KeyStore": "store", "SqlKeyStore": "store"}

__all__ = ["ApiKey", "BudgetPeriod", "KeyStatus", "KeyStore", "NewKey", "SqlKeyStore", "UsageRow"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'switchboard.keys' has no attribute {name!r}")
    return getattr(importlib.import_module(f"switchboard.keys.{module}"), name)
