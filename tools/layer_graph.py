"""Draw console's package imports as an SVG: ``python tools/layer_graph.py [--output PATH]``.

The import graph comes from grimp (the library under import-linter), the order
of the rows from the ``layers`` contract in pyproject.toml, so the picture is
made from the same two sources ``lint-imports`` checks. Each top-level package
of ``console`` is a box; packages outside the layers (the server) stand in a
column beside the stack. A package's imports leave it on one vertical line
with a branch and an arrowhead per package it imports, labelled with the
number of module-to-module imports. An import against a contract (upwards
through the layers, between independent packages, or into a forbidden
package) is drawn red on a line of its own, dashed when the contract's
``ignore_imports`` tolerates every one of its module imports. The children of
a package named in an ``independence`` contract (connectors) are drawn inside
it, with arcs for the imports between them.

tests/tools/test_layer_graph.py regenerates the picture and compares it with
docs/layers.svg, so the committed picture cannot fall behind the code.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "console"

# Geometry, in SVG pixels.
MARGIN = 24
TITLE_H = 56
BOX_W = 300
PORT_GAP = 15
HEADER_H = 26
ROW_GAP = 14
LANE_GAP = 34
ARC_BASE = 16  # how high the arc between neighbouring children rises
ARC_STEP = 14  # and how much higher each wider one
FONT = "DejaVu Sans, Verdana, sans-serif"
GREY = "#55606e"
RED = "#c62828"
# One colour per importing package, so a branch can be traced to its line; none of them red.
PALETTE = [
    "#1f5fa8",
    "#2e8b57",
    "#7b4fa0",
    "#8c6239",
    "#0f7f8c",
    "#b07800",
    "#b0468f",
    "#4c5a6a",
    "#5a7d1a",
    "#2c3e94",
    "#222222",
    "#6d6d6d",
]


# ---------------------------------------------------------------- the contracts


@dataclass(frozen=True)
class Contracts:
    """What pyproject.toml's import-linter section says, in the shapes the drawing needs."""

    layers: list[list[str]]
    """Top to bottom; each layer the top-level package names in it (``a | b``: two)."""
    independent_layers: set[int]
    """Layers whose members may not import each other (written with ``|``)."""
    rules: list[tuple[str, list[str], list[str], list[str]]] = field(default_factory=list)
    """(contract name, importer prefixes, forbidden prefixes, ignore patterns) of the forbidden
    and independence contracts over console's own modules."""
    layer_ignores: list[str] = field(default_factory=list)
    inside: list[str] = field(default_factory=list)
    """Top-level packages whose children are drawn inside them."""


def read_contracts(pyproject: Path) -> Contracts:
    """The layers contract's rows and the other contracts' rules from ``pyproject``."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers: list[list[str]] = []
    independent: set[int] = set()
    rules: list[tuple[str, list[str], list[str], list[str]]] = []
    layer_ignores: list[str] = []
    inside: list[str] = []
    for contract in config["contracts"]:
        ignores = list(contract.get("ignore_imports", []))
        kind = contract["type"]
        if kind == "layers":
            for index, entry in enumerate(contract["layers"]):
                separator = "|" if "|" in entry else ":"
                layers.append([_top(part.strip()) for part in entry.split(separator)])
                if separator == "|" and len(layers[-1]) > 1:
                    independent.add(index)
            layer_ignores = ignores
        elif kind == "forbidden":
            own = [m for m in contract["forbidden_modules"] if _is_own(m)]
            if own:
                rules.append((contract["name"], contract["source_modules"], own, ignores))
        elif kind == "independence":
            modules = contract["modules"]
            for module in modules:
                others = [m for m in modules if m != module]
                rules.append((contract["name"], [module], others, ignores))
            parents = {m.rsplit(".", 1)[0] for m in modules}
            if len(parents) == 1 and parents != {PACKAGE}:
                inside.append(_top(parents.pop()))
    if not layers:
        raise SystemExit("pyproject.toml has no layers contract")
    return Contracts(layers, independent, rules, layer_ignores, inside)


def _is_own(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _top(module: str) -> str:
    """``console.connectors.rt.mapping`` → ``connectors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _ignored(importer: str, imported: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        left, right = (side.strip() for side in pattern.split("->"))
        if _matches(importer, left) and _matches(imported, right):
            return True
    return False


def _matches(module: str, pattern: str) -> bool:
    parts = []
    for part in pattern.split("."):
        parts.append({"**": r"[^.]+(\.[^.]+)*", "*": r"[^.]+"}.get(part, re.escape(part)))
    return re.fullmatch(r"\.".join(parts), module) is not None


# ---------------------------------------------------------------- the graph


@dataclass
class Edge:
    """Every module import from one package (or connector) into another."""

    source: str
    target: str
    count: int = 0
    broken: int = 0
    """How many of the module imports a contract forbids."""
    tolerated: int = 0
    """How many of those the contract's ignore_imports lets through."""

    @property
    def red(self) -> bool:
        return self.broken > 0

    @property
    def dashed(self) -> bool:
        return self.broken > 0 and self.tolerated == self.broken


@dataclass
class Graph:
    packages: list[str]
    modules: Counter[str]
    edges: list[Edge]
    inner: dict[str, list[str]]
    inner_edges: list[Edge]


def build(contracts: Contracts) -> Graph:
    """The package-level import graph of ``console``, judged against ``contracts``."""
    import grimp

    sys.path.insert(0, str(ROOT))  # this checkout's console, not an installed copy
    graph = grimp.build_graph(PACKAGE)
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None
    assert spec.submodule_search_locations is not None
    source = Path(next(iter(spec.submodule_search_locations)))
    packages = sorted(
        _top(child)
        for child in graph.find_children(PACKAGE)
        if (source / _top(child) / "__init__.py").exists()
    )
    layer_of = {name: i for i, layer in enumerate(contracts.layers) for name in layer}
    modules = Counter(_top(m) for m in graph.modules if _top(m) in packages)
    edges: dict[tuple[str, str], Edge] = {}
    inner_edges: dict[tuple[str, str], Edge] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            a, b = _top(importer), _top(imported)
            if a not in packages or b not in packages:
                continue  # console/__init__.py and __main__.py belong to no package
            broken, tolerated = _judge(importer, imported, a, b, layer_of, contracts)
            if a != b:
                key = (a, b)
            elif a in contracts.inside:
                ia, ib = _child(importer), _child(imported)
                if ia == ib:
                    continue
                key = (ia, ib)
                edge = inner_edges.setdefault(key, Edge(*key))
                edge.count += 1
                edge.broken += broken
                edge.tolerated += tolerated
                continue
            else:
                continue
            edge = edges.setdefault(key, Edge(*key))
            edge.count += 1
            edge.broken += broken
            edge.tolerated += tolerated
    inner = {
        name: sorted(_child(c) for c in graph.find_children(f"{PACKAGE}.{name}"))
        for name in contracts.inside
        if name in packages
    }
    return Graph(
        packages,
        modules,
        sorted(edges.values(), key=lambda e: (e.source, e.target)),
        inner,
        sorted(inner_edges.values(), key=lambda e: (e.source, e.target)),
    )


def _child(module: str) -> str:
    """``console.connectors.rt.mapping`` → ``console.connectors.rt``."""
    return ".".join(module.split(".")[:3])


def _judge(
    importer: str,
    imported: str,
    a: str,
    b: str,
    layer_of: dict[str, int],
    contracts: Contracts,
) -> tuple[int, int]:
    """(1, tolerated?) when a contract forbids ``importer → imported``, else (0, 0)."""
    if a != b and a in layer_of and b in layer_of:
        la, lb = layer_of[a], layer_of[b]
        if la > lb or (la == lb and la in contracts.independent_layers):
            return 1, int(_ignored(importer, imported, contracts.layer_ignores))
    for _name, sources, forbidden, ignores in contracts.rules:
        if _within(importer, sources) and _within(imported, forbidden):
            return 1, int(_ignored(importer, imported, ignores))
    return 0, 0


# ---------------------------------------------------------------- the drawing


@dataclass
class Box:
    name: str
    x: float
    y: float
    w: float
    h: float
    ports: list[str] = field(default_factory=list)
    """Port keys along the edge that faces the lanes, top to bottom."""
    faces_right: bool = True

    def port(self, key: str) -> tuple[float, float]:
        x = self.x + self.w if self.faces_right else self.x
        return x, self.y + HEADER_H / 2 + PORT_GAP * (self.ports.index(key) + 0.5)


class Svg:
    """The SVG text, one element a line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, element: str) -> None:
        self.lines.append(element)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: int = 12,
        anchor: str = "start",
        weight: str = "normal",
        fill: str = "#1d232b",
        halo: bool = False,
    ) -> None:
        extra = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
        self.add(
            f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}"'
            f' font-weight="{weight}" fill="{fill}"{extra}>{escape(content)}</text>'
        )

    def line(
        self, points: list[tuple[float, float]], colour: str, *, dashed: bool, head: bool
    ) -> None:
        path = " ".join(f"{x:.0f},{y:.0f}" for x, y in points)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        marker = f' marker-end="url(#head{colour[1:]})"' if head else ""
        self.add(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"'
            f"{dash}{marker}/>"
        )


def _text_w(content: str, size: int) -> float:
    return len(content) * size * 0.62


def render(graph: Graph, contracts: Contracts) -> str:
    """The whole picture as SVG text; the same graph always gives the same bytes."""
    layered = [name for layer in contracts.layers for name in layer if name in graph.packages]
    beside = [name for name in graph.packages if name not in layered]
    sources = sorted({e.source for e in graph.edges if not e.red}, key=_order(contracts, beside))
    ports: dict[str, list[str]] = {name: [] for name in graph.packages}
    # Each package's own line leaves from its first port; then one port per line arriving.
    for name in sources:
        ports[name].append(f"out:{name}")
    for edge in graph.edges:
        if edge.red:
            ports[edge.source].append(f"red-out:{edge.source}>{edge.target}")
    key = _order(contracts, beside)
    for edge in sorted(graph.edges, key=lambda e: (key(e.target), key(e.source))):
        ports[edge.target].append(f"in:{edge.source}>{edge.target}")

    # The client stack: one row per package, the layers as bands behind them.
    inner_w = {
        name: sum(_text_w(_short(c), 11) + 22 for c in children) + 8 * (len(children) + 1)
        for name, children in graph.inner.items()
    }
    stack_w = max([BOX_W, *(w + 16 for w in inner_w.values())])
    boxes: dict[str, Box] = {}
    y: float = MARGIN + TITLE_H
    bands: list[tuple[int, float, float]] = []
    for index, layer in enumerate(contracts.layers):
        top = y
        for name in layer:
            if name not in graph.packages:
                continue
            h: float = HEADER_H + PORT_GAP * max(len(ports[name]), 1)
            if name in graph.inner:
                above, below = _arc_room(graph.inner[name], graph.inner_edges)
                h = max(h, HEADER_H + above + 24 + below + 4)
            boxes[name] = Box(name, MARGIN + 40, y, stack_w, h, ports[name])
            y += h + 8
        bands.append((index, top - 6, y - 2))
        y += ROW_GAP
    stack_bottom = y

    # Lanes: contract-breaking imports nearest the stack, then one line per importer,
    # short lines nearer than long ones so branches cross as few lines as possible.
    lanes_x = MARGIN + 40 + stack_w + 30
    red_edges = [e for e in graph.edges if e.red]
    client = [s for s in sources if s in layered]
    server = [s for s in sources if s not in layered]

    def span(name: str) -> float:
        targets = [e.target for e in graph.edges if e.source == name and not e.red]
        ys = [boxes[t].y for t in targets if t in boxes] + [boxes[name].y]
        return max(ys) - min(ys)

    lane_of: dict[str, float] = {}
    order = [f"red:{e.source}>{e.target}" for e in red_edges]
    order += [f"out:{s}" for s in sorted(client, key=lambda s: (span(s), key(s)))]
    order += [f"out:{s}" for s in server]
    for i, lane_key in enumerate(order):
        lane_of[lane_key] = lanes_x + i * LANE_GAP
    lanes_right = lanes_x + max(len(order) - 1, 0) * LANE_GAP

    # Packages outside the layers stand beside the stack, from its top.
    y = MARGIN + TITLE_H
    for name in beside:
        h = HEADER_H + PORT_GAP * max(len(ports[name]), 1)
        boxes[name] = Box(name, lanes_right + 40, y, 220, h, ports[name], faces_right=False)
        y += h + 24
    width = lanes_right + 40 + (220 if beside else 0) + MARGIN
    height = max(stack_bottom, y) + 78

    svg = Svg()
    svg.add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">'
    )
    svg.add("<defs>")
    colour_of = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sources)}
    for colour in sorted({GREY, RED, *colour_of.values()}):
        svg.add(
            f'<marker id="head{colour[1:]}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"'
            f' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
            f' fill="{colour}"/></marker>'
        )
    svg.add("</defs>")
    svg.add(f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    svg.text(
        MARGIN, MARGIN + 14, f"{PACKAGE}: its packages and who imports whom", size=17, weight="bold"
    )
    svg.text(
        MARGIN,
        MARGIN + 34,
        "Rows: the layers contract in pyproject.toml, top to bottom. Made by tools/layer_graph.py "
        "from the import graph (grimp).",
        size=12,
        fill="#4a5563",
    )
    for index, band_top, band_bottom in bands:
        fill = "#f1f4f8" if index % 2 == 0 else "#e7ecf2"
        svg.add(
            f'<rect x="{MARGIN:.0f}" y="{band_top:.0f}" width="{lanes_right - MARGIN + 16:.0f}"'
            f' height="{band_bottom - band_top:.0f}" fill="{fill}" rx="4"/>'
        )
        svg.text(
            MARGIN + 20, band_top + 20, str(index + 1), size=13, anchor="middle", fill="#7a8594"
        )
        if index in contracts.independent_layers:
            svg.text(MARGIN + 20, band_top + 36, "⟂", size=13, anchor="middle", fill="#7a8594")

    for name, box in boxes.items():
        fill = "#fff7e6" if name in beside else "#ffffff"
        svg.add(
            f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{box.w:.0f}" height="{box.h:.0f}"'
            f' rx="5" fill="{fill}" stroke="#2f3a48" stroke-width="1.2"/>'
        )
        svg.text(box.x + 10, box.y + 18, name, size=14, weight="bold")
        count = graph.modules[name]
        svg.text(
            box.x + 12 + _text_w(name, 14) + 6,
            box.y + 18,
            f"{count} module{'s' if count != 1 else ''}",
            size=11,
            fill="#6b7684",
        )
        if name in graph.inner:
            _draw_inner(svg, box, graph.inner[name], graph.inner_edges)

    # One line per importer: out of its first port, down (or up) its lane, a branch per target.
    for source in sources:
        lane = lane_of[f"out:{source}"]
        start = boxes[source].port(f"out:{source}")
        branches = [e for e in graph.edges if e.source == source and not e.red]
        ends = [boxes[e.target].port(f"in:{e.source}>{e.target}") for e in branches]
        ys = [start[1], *(end[1] for end in ends)]
        lane_top, lane_bottom = min(ys), max(ys)
        colour = colour_of[source]
        svg.add(f'<circle cx="{start[0]:.0f}" cy="{start[1]:.0f}" r="4" fill="{colour}"/>')
        svg.line([start, (lane, start[1])], colour, dashed=False, head=False)
        svg.line([(lane, lane_top), (lane, lane_bottom)], colour, dashed=False, head=False)
        for y_ in ys:
            if lane_top < y_ < lane_bottom:
                svg.add(f'<circle cx="{lane:.0f}" cy="{y_:.0f}" r="3" fill="{colour}"/>')
        for edge, end in zip(branches, ends, strict=True):
            svg.line([(lane, end[1]), end], colour, dashed=False, head=True)
            _label(svg, lane, end, edge, colour)

    for edge in red_edges:
        lane = lane_of[f"red:{edge.source}>{edge.target}"]
        start = boxes[edge.source].port(f"red-out:{edge.source}>{edge.target}")
        end = boxes[edge.target].port(f"in:{edge.source}>{edge.target}")
        svg.line([start, (lane, start[1]), (lane, end[1]), end], RED, dashed=edge.dashed, head=True)
        _label(svg, lane, end, edge, RED)

    _legend(svg, MARGIN, height - 52)
    svg.add("</svg>")
    return "\n".join(svg.lines) + "\n"


def _order(contracts: Contracts, beside: list[str]) -> Any:
    """Sort key: packages in the order of the rows, those beside the stack after them."""
    rank = {name: i for i, name in enumerate(n for layer in contracts.layers for n in layer)}
    rank.update({name: len(rank) + i for i, name in enumerate(beside)})
    return lambda name: (rank.get(name, len(rank)), name)


def _short(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def _label(svg: Svg, lane: float, end: tuple[float, float], edge: Edge, colour: str) -> None:
    """The number of module imports, beside the branch where it leaves the lane."""
    towards_left = end[0] < lane
    x = lane - 5 if towards_left else lane + 5
    svg.text(
        x,
        end[1] - 3,
        str(edge.count),
        size=10,
        anchor="end" if towards_left else "start",
        fill=colour,
        halo=True,
    )


def _arcs(children: list[str], edges: list[Edge]) -> list[tuple[Edge, bool, int]]:
    """Each import between children: (edge, above the row?, its level on that side).

    Imports leftwards go above the row and rightwards below it; on each side a
    wider arc gets a higher level, so arcs nest and their numbers never overlap.
    """
    index = {child: i for i, child in enumerate(children)}
    placed: list[tuple[Edge, bool, int]] = []
    for above in (True, False):
        side = [e for e in edges if (index[e.target] < index[e.source]) == above]
        side.sort(key=lambda e: (abs(index[e.target] - index[e.source]), e.source, e.target))
        placed += [(edge, above, level) for level, edge in enumerate(side)]
    return placed


def _arc_room(children: list[str], edges: list[Edge]) -> tuple[float, float]:
    """How much height the arcs need above and below the children's row."""
    room = {True: 8.0, False: 8.0}
    for _edge, above, level in _arcs(children, edges):
        room[above] = max(room[above], 0.75 * (ARC_BASE + ARC_STEP * level) + 16)
    return room[True], room[False]


def _draw_inner(svg: Svg, box: Box, children: list[str], edges: list[Edge]) -> None:
    """The package's children in a row, an arc per import: leftwards above, rightwards below."""
    _above, below = _arc_room(children, edges)
    x = box.x + 8
    row = box.y + box.h - below - 24
    centre: dict[str, float] = {}
    for child in children:
        w = _text_w(_short(child), 11) + 22
        svg.add(
            f'<rect x="{x:.0f}" y="{row:.0f}" width="{w:.0f}" height="24" rx="4" fill="#eef3fb"'
            f' stroke="#5b7290" stroke-width="1"/>'
        )
        svg.text(x + w / 2, row + 16, _short(child), size=11, anchor="middle")
        centre[child] = x + w / 2
        x += w + 8
    for edge, above, level in _arcs(children, edges):
        a, b = centre[edge.source], centre[edge.target]
        rise = ARC_BASE + ARC_STEP * level
        y = row
        if not above:  # start and end on the row's lower edge, bulge downwards
            y, rise = row + 24, -rise
        colour = RED if edge.red else GREY
        dash = ' stroke-dasharray="5 3"' if edge.dashed else ""
        # Arcs meeting one box spread along its edge instead of sharing a point.
        spread = min(3 * level, 12)
        sx = a + (4 + spread if b > a else -4 - spread)
        tx = b + (-4 - spread if b > a else 4 + spread)
        svg.add(
            f'<path d="M{sx:.0f},{y:.0f} C{sx:.0f},{y - rise:.0f} {tx:.0f},{y - rise:.0f}'
            f' {tx:.0f},{y:.0f}" fill="none" stroke="{colour}" stroke-width="1.2"{dash}'
            f' marker-end="url(#head{colour[1:]})"/>'
        )
        svg.text(
            (sx + tx) / 2,
            y - rise * 0.75 + (-2 if rise > 0 else 10),
            str(edge.count),
            size=10,
            anchor="middle",
            fill=RED if edge.red else "#333d49",
            halo=True,
        )


def _legend(svg: Svg, x: float, y: float) -> None:
    svg.add(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="4" fill="{GREY}"/>')
    svg.line([(x, y), (x + 40, y)], GREY, dashed=False, head=True)
    svg.text(
        x + 48, y + 4, "imports (one colour per importer; the number: module imports)", size=12
    )
    svg.line([(x + 450, y), (x + 490, y)], RED, dashed=False, head=True)
    svg.text(x + 498, y + 4, "against a contract", size=12)
    svg.line([(x + 640, y), (x + 680, y)], RED, dashed=True, head=True)
    svg.text(x + 688, y + 4, "against a contract, listed in its ignore_imports", size=12)
    svg.text(
        x,
        y + 26,
        "A package may import the rows below it; ⟂: the packages of that row may not import each "
        "other. lint-imports checks all contracts; this is their picture.",
        size=12,
        fill="#4a5563",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "layers.svg")
    args = parser.parse_args(argv)
    contracts = read_contracts(ROOT / "pyproject.toml")
    args.output.write_text(render(build(contracts), contracts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
