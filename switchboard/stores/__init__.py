"""Small storage protocols, each with an embedded and a distributed implementation."""
