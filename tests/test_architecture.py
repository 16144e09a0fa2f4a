"""The house's import rules, read from the code with `ast` (imports inside functions count too).

Roof -> apps -> kernel: `avitogw` (the project) may import every app and `core`; an app may
import the apps below it and `core`; `core` imports no app. Among the apps the order is
messenger < webhooks < bulk, reconcile < inbox (the staff inbox composes messenger and
webhooks), so messenger never imports webhooks. No module outside `avitogw/` imports `avitogw`,
and no product module takes part in an import cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Rank of each top-level product package: a module may import its own package and lower ranks only.
LAYERS = {"core": 0, "messenger": 1, "accounts": 2, "webhooks": 3, "bulk": 4, "reconcile": 4, "inbox": 5,
          "avitogw": 6}


def product_modules() -> dict[str, Path]:
    found = {}
    for top in LAYERS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:  # frozen history: a migration names the models of its time
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported_names(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


MODULES = product_modules()
IMPORTS = {name: imported_names(name, path) for name, path in MODULES.items()}


def test_the_rules_see_the_whole_product():
    assert {name.split(".")[0] for name in MODULES} == set(LAYERS)
    assert "core.work.leases" in MODULES and "inbox.admin" in MODULES


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_no_import_runs_up_the_house(top):
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in IMPORTS.items() if name.split(".")[0] == top
        for target in targets
        if target.split(".")[0] in LAYERS and target.split(".")[0] != top
        and LAYERS[target.split(".")[0]] >= LAYERS[top]
    )
    assert upward == []


def test_only_the_project_imports_the_project():
    outside = sorted(f"{name} imports {target}" for name, targets in IMPORTS.items()
                     if not name.startswith("avitogw") for target in targets if target.split(".")[0] == "avitogw")
    assert outside == []


def test_messenger_never_imports_webhooks():
    found = sorted(f"{name} imports {target}" for name, targets in IMPORTS.items()
                   if name.startswith("messenger") for target in targets if target.split(".")[0] == "webhooks")
    assert found == []


def module_graph() -> dict[str, set[str]]:
    graph = {}
    for name, targets in IMPORTS.items():
        edges = set()
        for target in targets:
            while target and target not in MODULES:  # `from pkg import name`: the nearest module named
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                edges.add(target)
        graph[name] = edges
    return graph


def test_no_import_cycles():
    graph = module_graph()
    state, cycles = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checks_would_catch_a_break():
    """The rules above are not vacuous: an upward import and a cycle, made up here, are seen."""
    IMPORTS["core.errors"].add("messenger.models")
    try:
        with pytest.raises(AssertionError):
            test_no_import_runs_up_the_house("core")
    finally:
        IMPORTS["core.errors"].discard("messenger.models")
    IMPORTS["core.work.leases"].add("core.work.heartbeat")  # heartbeat imports leases
    try:
        with pytest.raises(AssertionError):
            test_no_import_cycles()
    finally:
        IMPORTS["core.work.leases"].discard("core.work.heartbeat")
