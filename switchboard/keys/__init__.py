"""API keys and usage records: a KeyStore protocol over SQLite (embedded) or PostgreSQL."""

from switchboard.keys.models import ApiKey, BudgetPeriod, KeyStatus, NewKey, UsageRow
from switchboard.keys.store import KeyStore, SqlKeyStore

__all__ = ["ApiKey", "BudgetPeriod", "KeyStatus", "KeyStore", "NewKey", "SqlKeyStore", "UsageRow"]
