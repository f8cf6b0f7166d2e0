"""Test doubles Switchboard ships: the mock OpenAI-compatible provider."""
