"""Provider adapters, one module each, all behind the Provider protocol in base.py."""
