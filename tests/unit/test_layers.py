"""The house's layering (docs/architecture.md "Package layout"), checked on the source: every ``import`` in
``src/storyreel`` — module-level, inside functions and under ``TYPE_CHECKING`` alike — points down a floor or
stays on its own, and no set of modules imports itself round in a cycle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

BELOW_API = {"core", "engine", "stages", "providers", "media", "prompts", "store"}
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "media": {"core"},
    "prompts": {"core"},
    "providers": {"core", "media", "prompts"},
    "store": {"core", "providers"},  # the received journal keeps a provider's answer (providers.base.Received)
    "engine": {"core", "store"},
    "stages": {"core", "engine", "providers", "media", "prompts", "store"},
    "api": BELOW_API,
    "jobs": {"api", *BELOW_API},
    "web": {"api", "jobs", "core"},  # the dashboard calls the facade (and the job service): never store or engine
    "cli": {"api", "jobs", "web", "core"},
    "__main__": {"cli"},
}
"""Package → the packages it may import (besides itself and the top-level ``storyreel`` package)."""


def modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "storyreel").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the storyreel modules it imports anywhere in its body."""

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                target = resolve(name) if name.startswith("storyreel") else None
                if target and target != module:
                    edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "storyreel"


def test_no_import_cycle_anywhere_in_src():
    found = cycles(imports(modules()))
    assert not found, "import cycles (move the shared part down a floor):\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_every_import_points_down_a_floor():
    wrong = sorted(
        f"{a} imports {b}" for a, targets in imports(modules()).items() for b in targets
        if floor(a) != floor(b) and floor(b) != "storyreel" and floor(b) not in ALLOWED[floor(a)]
    )
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_the_web_holds_no_sql_and_the_api_none_either():
    """SQL lives in ``store``: neither the facade nor the dashboard builds a query."""
    for package in ("web", "api"):
        for path in (SRC / "storyreel" / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "sqlalchemy" not in text and "select(" not in text, f"{path} holds SQL"


def test_settings_and_the_database_are_opened_in_one_place():
    """``settings_for(`` and ``open_store(`` are called only where the session is opened."""
    callers = sorted({str(p.relative_to(SRC)) for p in (SRC / "storyreel").rglob("*.py")
                      for call in ("settings_for(", "open_store(") if call in p.read_text(encoding="utf-8")})
    assert callers == ["storyreel/api/session.py"], callers


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The checks themselves can fail: a made-up cycle and a made-up upward import are found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "store" not in ALLOWED["web"] and "engine" not in ALLOWED["web"]
    assert floor("storyreel.web.routes.jobs") == "web" and "api" not in ALLOWED["stages"]
