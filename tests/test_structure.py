"""The structure drawn from the code's imports: no module of modelreg imports, directly or
through others, a module that imports it back — counting every import, also the ones
inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import modelreg
from modelreg import errors, hooks

SOURCE = Path(modelreg.__file__).parent


def import_graph() -> dict[str, set[str]]:
    modules = {
        ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        ): path
        for path in SOURCE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    imported.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
        graph[name] = {other for other in imported if other in modules and other != name}
    return graph


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for other in sorted(graph[name]):
            if other == start:
                return [*path, start]
            if other not in seen:
                seen.add(other)
                stack.append((other, [*path, other]))
    return None


def test_the_graph_is_read_from_the_real_imports() -> None:
    graph = import_graph()
    assert "modelreg.hooks" in graph["modelreg.registry"]  # the one direction
    assert "modelreg.hooks.config" in graph["modelreg.hooks.dispatch"]


def test_no_module_imports_in_a_circle() -> None:
    graph = import_graph()
    cycles = [cycle for name in sorted(graph) if (cycle := cycle_through(graph, name))]
    assert cycles == [], [" -> ".join(cycle) for cycle in cycles]


def test_the_hooks_never_import_the_registry() -> None:
    graph = import_graph()
    for name in (name for name in graph if name.startswith("modelreg.hooks")):
        assert "modelreg.registry" not in graph[name], name


def test_hook_errors_are_in_the_one_error_hierarchy() -> None:
    assert hooks.HookDeliveryError is errors.HookDeliveryError
    assert hooks.HooksNotTrustedError is errors.HooksNotTrustedError
    assert {errors.HookDeliveryError, errors.HooksNotTrustedError} <= set(
        errors.RegistryError.__subclasses__()
    )
    assert (errors.HookDeliveryError.exit_code, errors.HooksNotTrustedError.exit_code) == (8, 5)
