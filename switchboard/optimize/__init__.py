"""The token optimizer: trim long context to a token budget and set an adaptive max_tokens."""
