"""The reply cache: exact and semantic layers in front of the models (the cache stage)."""
