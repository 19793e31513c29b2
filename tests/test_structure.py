"""The structure drawn from the code's imports: no module of modelreg imports, directly or
through others, a module that imports it back — counting every import, also the ones
inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
import contextlib
import functools
from pathlib import Path

import modelreg
from modelreg import errors, hooks

SOURCE = Path(modelreg.__file__).parent


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A source file's tree (the files do not change while the tests run)."""
    return ast.parse(path.read_text(encoding="utf-8"))


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
        for node in ast.walk(parsed(path)):
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


# -- no Any in public signatures -----------------------------------------------------------


def _names_in(annotation: ast.expr) -> set[str]:
    """Every name an annotation mentions, also inside string annotations ("JSONValue")."""
    names: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)  # typing.Any
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            with contextlib.suppress(SyntaxError):  # a string that is no annotation
                names |= _names_in(ast.parse(node.value, mode="eval").body)
    return names


def _alias_values(tree: ast.Module) -> dict[str, ast.expr]:
    """The module-level assignments that may be type aliases: ``X = ...``,
    ``X: TypeAlias = ...`` and ``X = TypeVar("X", bound=...)``."""
    values: dict[str, ast.expr] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id != "__all__"
        ):
            values[node.targets[0].id] = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
            and "TypeAlias" in _names_in(node.annotation)
        ):
            values[node.target.id] = node.value
    return values


def _names_hiding_any(trees: dict[str, ast.Module]) -> set[str]:
    """``Any`` and every alias of modelreg that stands for a type containing it."""
    values = [
        (name, value) for tree in trees.values() for name, value in _alias_values(tree).items()
    ]
    hiding = {"Any"}
    grown = True
    while grown:
        grown = False
        for name, value in values:
            if name not in hiding and hiding & _names_in(value):
                hiding.add(name)
                grown = True
    return hiding


def _public_annotations(module: ast.Module) -> list[tuple[str, ast.expr]]:
    """(place, annotation) of every parameter and return of the public functions, classes'
    methods and the annotated fields of public classes (dataclasses, TypedDicts)."""
    found: list[tuple[str, ast.expr]] = []

    def function(place: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        arguments = node.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
        found.extend((f"{place}({arg.arg})", arg.annotation) for arg in every if arg.annotation)
        if node.returns is not None:
            found.append((f"{place} ->", node.returns))

    def public(name: str) -> bool:
        return not name.startswith("_") or name in ("__init__", "__call__")

    def members(place: str, body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and public(node.name):
                function(f"{place}{node.name}", node)
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                members(f"{place}{node.name}.", node.body)
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and not node.target.id.startswith("_")
            ):
                found.append((f"{place}{node.target.id}", node.annotation))

    members("", module.body)
    return found


def _public_module(module: str) -> bool:
    parts = Path(module).with_suffix("").parts
    return not any(part.startswith("_") and part not in ("__init__", "__main__") for part in parts)


def any_in_public_signatures() -> list[str]:
    """Each place of a public module where a public signature mentions ``Any``."""
    trees = {str(path.relative_to(SOURCE)): parsed(path) for path in sorted(SOURCE.rglob("*.py"))}
    hiding = _names_hiding_any(trees)
    return [
        f"{module}:{place}: {ast.unparse(annotation)}"
        for module, tree in trees.items()
        if _public_module(module)
        for place, annotation in _public_annotations(tree)
        if hiding & _names_in(annotation)
    ]


def test_the_any_walk_sees_through_aliases_and_nesting() -> None:
    tree = ast.parse(
        "from typing import Any\n"
        "Doc = dict[str, Any]\n"
        "Docs = list[Doc]\n"
        "Fine = dict[str, object]\n"
        "def load(path: str) -> 'Docs': ...\n"
        "def loads(data: Fine) -> Fine: ...\n"
        "def _private(x: Any) -> Any: ...\n"
        "class Entry:\n"
        "    fields: Mapping[str, Any]\n"
        "    _cache: Any\n"
        "    def get(self, *keys: Any) -> object: ...\n"
        "    def _set(self, value: Any) -> None: ...\n"
    )
    hiding = _names_hiding_any({"m.py": tree})
    assert hiding == {"Any", "Doc", "Docs"}
    flagged = [
        place for place, annotation in _public_annotations(tree) if hiding & _names_in(annotation)
    ]
    assert flagged == ["load ->", "Entry.fields", "Entry.get(keys)"]


def test_no_public_signature_takes_or_gives_any() -> None:
    # A YAML or JSON value is modelreg.docread.JSONValue (a Document is a mapping of them),
    # a value anything may be is `object`, and readers narrow with docread.DocReader.
    assert any_in_public_signatures() == []


def test_the_cache_s_typed_dicts_name_every_field_of_their_entities() -> None:
    from modelreg.entities import ModelVersion, RegisteredModel
    from modelreg.index import ModelFields, VersionFields, VersionRecord
    from modelreg.structs import fields

    version = set(fields(ModelVersion))
    model = set(fields(RegisteredModel))
    assert set(VersionFields.__annotations__) == version - {"aliases"}
    assert set(VersionRecord.__annotations__) == version
    assert set(ModelFields.__annotations__) == model - {"latest_versions"}
