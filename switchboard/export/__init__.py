"""The architecture document: facts from the live configuration and metrics (facts.py, live.py),
one content model (document.py), a diagram (diagram.py) and one module per format (formats.py)."""

from switchboard.export.facts import Architecture, from_config, from_gateway
from switchboard.export.formats import FORMATS, render
from switchboard.export.live import LiveFigures, from_families, from_metrics_text

__all__ = [
    "FORMATS",
    "Architecture",
    "LiveFigures",
    "from_config",
    "from_families",
    "from_gateway",
    "from_metrics_text",
    "render",
]
