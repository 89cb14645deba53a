"""tools/layer_graph.py: the layers picture is well-formed, complete and current.

The picture in docs/architecture.md is only worth having if it shows the code
as it is: the test runs the script into a temporary file, parses the SVG, finds
every top-level package of ``console`` named in it, and requires the committed
docs/layers.svg to be byte for byte what the script draws today. When the code
or the contracts change, run ``python tools/layer_graph.py`` and commit the
new picture. It also proves the one rule of the drawing that matters to a
reader: an import against the layers is red.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "layer_graph.py"
SVG = "{http://www.w3.org/2000/svg}"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layer_graph", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _draw(tmp_path: Path) -> Path:
    output = tmp_path / "layers.svg"
    subprocess.run([sys.executable, str(SCRIPT), "--output", str(output)], check=True, cwd=tmp_path)
    return output


def test_the_picture_parses_and_names_every_top_level_package(tmp_path: Path) -> None:
    root = ET.parse(_draw(tmp_path)).getroot()
    assert root.tag == f"{SVG}svg"
    texts = {element.text for element in root.iter(f"{SVG}text")}
    packages = sorted(p.parent.name for p in (ROOT / "console").glob("*/__init__.py"))
    assert {"server", "domain"} <= set(packages)
    assert [name for name in packages if name not in texts] == []


def test_the_committed_picture_is_up_to_date(tmp_path: Path) -> None:
    drawn = _draw(tmp_path).read_text(encoding="utf-8")
    committed = (ROOT / "docs" / "layers.svg").read_text(encoding="utf-8")
    assert committed == drawn, "docs/layers.svg is stale: run python tools/layer_graph.py"


def test_an_upward_import_is_red_and_a_tolerated_one_dashed() -> None:
    tool = _script()
    contracts = tool.Contracts(
        layers=[["app"], ["store"], ["domain"]],
        independent_layers=set(),
        layer_ignores=["console.domain.clock -> console.app.gui"],
    )
    edge = tool.Edge
    graph = tool.Graph(
        packages=["app", "domain", "store"],
        modules={"app": 1, "domain": 2, "store": 1},
        edges=[
            edge("app", "store", count=3),
            edge("domain", "app", count=1, broken=1, tolerated=1),
            edge("store", "app", count=2, broken=2),
        ],
        inner={},
        inner_edges=[],
    )
    root = ET.fromstring(tool.render(graph, contracts))
    lines = [
        (line.get("stroke"), line.get("stroke-dasharray") is not None)
        for line in root.iter(f"{SVG}polyline")
        if line.get("marker-end")
    ]
    red = [dashed for stroke, dashed in lines if stroke == tool.RED]
    # The legend draws one plain and one dashed red sample; the graph adds one of each.
    assert sorted(red) == [False, False, True, True]
    assert any(stroke not in (tool.RED, tool.GREY) for stroke, _ in lines)


def test_contracts_are_read_from_pyproject() -> None:
    tool = _script()
    contracts = tool.read_contracts(ROOT / "pyproject.toml")
    rows = [name for layer in contracts.layers for name in layer]
    assert (rows[0], rows[-1]) == ("cli", "domain")
    assert "server" not in rows
    assert "connectors" in contracts.inside
