"""The topology diagram: clients -> gateway (with Redis and the database) -> public models ->
deployments, fallbacks dashed, each deployment coloured by its circuit state. Rendered offline:
a PNG with matplotlib's Agg backend, or Mermaid text for Markdown."""

from __future__ import annotations

import io
import re

from switchboard.export.facts import Architecture

_CIRCUIT_COLOURS = {"closed": "#c8e6c9", "half_open": "#ffe0b2", "open": "#ffcdd2"}
_GREY = "#eceff1"
_LEGEND = (
    "dashed orange: fallback or router tier\n"
    "deployment colour = circuit: green closed, orange half-open, red open, grey not measured"
)


def _spread(count: int, height: float) -> list[float]:
    step = height / (count + 1)
    return [height - step * (i + 1) for i in range(count)]


Point = tuple[float, float]


class _Canvas:
    """Boxes and arrows on one matplotlib Figure (no pyplot: no global state, thread-safe)."""

    def __init__(self, height: float, dpi: int) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(12, height), dpi=dpi)
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, 12)
        self.ax.set_ylim(0, height)
        self.ax.axis("off")

    def box(self, at: Point, text: str, colour: str, width: float = 2.4) -> Point:
        from matplotlib.patches import FancyBboxPatch

        x, y = at
        shape = FancyBboxPatch(
            (x - width / 2, y - 0.25),
            width,
            0.5,
            boxstyle="round,pad=0.05",
            facecolor=colour,
            edgecolor="#37474f",
            linewidth=1,
        )
        self.ax.add_patch(shape)
        self.ax.text(x, y, text, ha="center", va="center", fontsize=8)
        return at

    def arrow(self, start: Point, end: Point, colour: str = "#546e7a", bend: float = 0.0) -> None:
        style = {"arrowstyle": "->", "color": colour, "linewidth": 0.8}
        if bend:
            style |= {"linestyle": "--", "connectionstyle": f"arc3,rad={bend}"}
        self.ax.annotate("", xy=end, xytext=start, arrowprops=style)

    def png(self) -> bytes:
        out = io.BytesIO()
        self.fig.savefig(out, format="png")
        return out.getvalue()


def png(arch: Architecture, dpi: int = 110) -> bytes:
    height = 1.0 + max(len(arch.deployments), len(arch.models), 4) * 0.7
    c = _Canvas(height, dpi)
    clients = c.box((1.4, height * 0.6), "Clients\n(OpenAI / Anthropic API, WS)", "#e3f2fd")
    gateway = c.box((4.2, height * 0.6), "Switchboard gateway\n(replicas)", "#bbdefb")
    c.arrow((2.65, clients[1]), (2.95, gateway[1]))
    store_y = gateway[1]
    for component, backend, _ in arch.topology[1:3]:
        store_y -= 0.9
        label = backend if len(backend) < 34 else backend[:31] + "..."
        c.box((4.2, store_y), f"{component}\n{label}", "#f3e5f5", width=2.8)
        c.ax.plot([4.2, 4.2], [store_y + 0.3, store_y + 0.6], color="#9e9e9e", linewidth=0.8)
    c.ax.text(0.2, height - 0.3, _LEGEND, fontsize=7, va="top", color="#455a64")
    heights = _spread(len(arch.models), height)
    at = {
        m.name: c.box((7.0, y), m.name, "#fff9c4")
        for m, y in zip(arch.models, heights, strict=True)
    }
    circuits = arch.live.circuits if arch.live else {}
    for m in arch.models:
        c.arrow((5.45, gateway[1]), (5.75, at[m.name][1]))
        for target in [*m.fallbacks, *m.tiers.values()]:
            if target in at:
                c.arrow((8.2, at[m.name][1]), (8.2, at[target][1]), "#ef6c00", bend=-0.4)
    heights = _spread(len(arch.deployments), height)
    for d, y in zip(arch.deployments, heights, strict=True):
        colour = _CIRCUIT_COLOURS.get(circuits.get(d.id, ""), _GREY)
        c.box((10.2, y), f"{d.id}\n{d.provider}: {d.upstream_model}"[:60], colour, width=3.0)
        c.arrow((8.25, at[d.model][1]), (8.7, y))
    return c.png()


def _id(name: str) -> str:
    return re.sub(r"\W", "_", name)


def mermaid(arch: Architecture) -> str:
    lines = ["flowchart LR", "  clients([Clients]) --> gateway[Switchboard gateway]"]
    for component, backend, _ in arch.topology[1:]:
        lines.append(f'  gateway --- {_id(component)}[("{component}: {backend}")]')
    for m in arch.models:
        lines.append(f'  gateway --> m_{_id(m.name)}["{m.name}"]')
        for target in m.fallbacks:
            lines.append(f"  m_{_id(m.name)} -. fallback .-> m_{_id(target)}")
        for tier, target in m.tiers.items():
            lines.append(f"  m_{_id(m.name)} -. {tier} .-> m_{_id(target)}")
    for d in arch.deployments:
        lines.append(f'  m_{_id(d.model)} --> d_{_id(d.id)}["{d.id} ({d.provider})"]')
    return "\n".join(lines)
