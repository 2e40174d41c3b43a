"""Layers point down: the front doors (``api/``, ``dashboard/``, ``cli.py``) only translate and
call domain services. None of them may import the state store, the blob storage or the network
client, or reach for them through the services (read from the code's syntax tree)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from ogmint.services import Services

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "ogmint"
FRONT_DOORS = ("api", "dashboard", "cli.py")
#: What only the domain (and ``create_app``) may use.
BELOW_THE_DOMAIN = ("ogmint.state", "ogmint.storage", "ogmint.net")
#: Services' fields a front door could reach them through, were they there.
HIDDEN = ("state", "storage", "client", "outbound")


def front_door_modules(package: Path) -> list[Path]:
    found: list[Path] = []
    for name in FRONT_DOORS:
        path = package / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _below(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in BELOW_THE_DOMAIN)


def _services_expression(node: ast.expr) -> bool:
    """``svc`` or ``….services`` (``request.app.ctx.services``)."""
    return (isinstance(node, ast.Name) and node.id == "svc") or (
        isinstance(node, ast.Attribute) and node.attr == "services"
    )


def violations(source: str, name: str) -> list[str]:
    """Every import of a module below the domain and every ``svc.state`` (or storage, …) in
    ``source``, as ``name:line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if _below(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(node.lineno, m) for m in modules if _below(m)][:1]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in HIDDEN
            and _services_expression(node.value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return [f"{name}:{line}: {what}" for line, what in found]


@pytest.mark.parametrize(
    "path", front_door_modules(PACKAGE), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_front_doors_use_only_the_domain(path: Path) -> None:
    assert violations(path.read_text(), str(path.relative_to(PACKAGE))) == []


@pytest.mark.parametrize(
    "line",
    [
        "import ogmint.state",
        "import ogmint.storage.local as local",
        "from ogmint.state.keys import ApiKeyRecord",
        "from ogmint import net",
        "from ogmint.net import AddressPolicy",
        "x = svc.state.keys",
        "x = request.app.ctx.services.storage",
        "svc.client.close()",
    ],
)
def test_each_way_around_the_domain_is_caught(line: str) -> None:
    assert violations(line, "example.py") != []


@pytest.mark.parametrize(
    "line",
    [
        "from ogmint.domain.keys import ApiKeyRecord",
        "import ogmint.stateful",
        "from ogmint.networks import x",
        "x = svc.keys.state",
        "from .state import x",
    ],
)
def test_what_is_allowed_passes(line: str) -> None:
    assert violations(line, "example.py") == []


def test_services_hold_no_state_storage_or_network() -> None:
    names = {f.name for f in dataclasses.fields(Services)}
    assert names.isdisjoint(HIDDEN), names & set(HIDDEN)
