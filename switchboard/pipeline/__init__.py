"""The request's path, one stage a module; the chain itself is listed in build.py."""
