"""Format-2 registry trees built by hand (path -> bytes), for the merge-by-meaning tests of
modelreg.gitsync: one small builder, so every test states only what its scenario changes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelreg import yamlio

Tree = dict[str, bytes]


def dump(doc: Any) -> bytes:
    return yamlio.dumps(doc).encode()


def load(tree: Mapping[str, bytes], path: str) -> Any:
    return yamlio.loads(tree[path], Path(path))


def stamp(minute: int) -> str:
    return f"2026-12-01T10:{minute:02d}:00.000Z"


def entry(minute: int, user: str, action: str, **fields: Any) -> dict[str, Any]:
    return {"timestamp": stamp(minute), "user_id": user, "action": action, **fields}


def registry_tree(fmt: int = 2, exclusive: tuple[str, ...] = ("Production",)) -> Tree:
    config: dict[str, Any] = {
        "modelreg": fmt,
        "stages": ["None", "Staging", "Production", "Archived"],
    }
    if exclusive:
        config["exclusive_stages"] = list(exclusive)
    config["lock_timeout"] = 10.0
    return {"registry.yaml": dump(config), ".gitignore": b".modelreg.lock\n"}


def add_model(tree: Tree, name: str, minute: int = 0, user: str = "carol") -> None:
    tree[f"models/{name}/model.yaml"] = dump(
        {
            "name": name,
            "description": None,
            "user_id": user,
            "created_at": stamp(minute),
            "tags": {},
            "history": [entry(minute, user, "model_created")],
        }
    )


def version_doc(
    name: str, number: int, minute: int, user: str, source: str | None = None, **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": name,
        "version": number,
        "uid": uuid.uuid4().hex,
        "source": source or f"s3://{user}/{name}/{minute}",
        "run_id": None,
        "run_link": None,
        "description": None,
        "current_stage": "None",
        "status": "READY",
        "user_id": user,
        "created_at": stamp(minute),
        "updated_at": stamp(minute),
        "tags": {},
        "metrics": {},
        "params": {},
        "artifact": {"sha256": None, "size": None},
        "lineage": {},
        "history": [entry(minute, user, "version_registered", version=number)],
    }
    doc.update(extra)
    return doc


def register(
    tree: Tree, name: str, number: int, minute: int, user: str, **extra: Any
) -> dict[str, Any]:
    doc = version_doc(name, number, minute, user, **extra)
    tree[f"models/{name}/versions/{number}.yaml"] = dump(doc)
    return doc


def change_version(tree: Tree, name: str, number: int, **changes: Any) -> dict[str, Any]:
    """Apply ``changes`` to a version file; ``add_history`` entries are appended."""
    path = f"models/{name}/versions/{number}.yaml"
    doc = load(tree, path)
    for entry_ in changes.pop("add_history", []):
        doc["history"].append(entry_)
        doc["updated_at"] = entry_["timestamp"]
    doc.update(changes)
    tree[path] = dump(doc)
    return dict(doc)


def transition(tree: Tree, name: str, number: int, stage: str, minute: int, user: str) -> None:
    doc = load(tree, f"models/{name}/versions/{number}.yaml")
    change_version(
        tree,
        name,
        number,
        current_stage=stage,
        add_history=[
            entry(minute, user, "stage_changed", from_stage=doc["current_stage"], to_stage=stage)
        ],
    )


def set_alias(tree: Tree, name: str, alias: str, number: int, minute: int, user: str) -> None:
    path = f"models/{name}/aliases/{alias}.yaml"
    doc = load(tree, path) if path in tree else {"alias": alias, "version": None, "history": []}
    move = entry(minute, user, "alias_set", alias=alias, version=number)
    if doc["version"] is not None:
        move["previous_version"] = doc["version"]
    doc["version"] = number
    doc["history"].append(move)
    tree[path] = dump(doc)


def delete(tree: Tree, name: str, number: int, minute: int, user: str) -> None:
    """Delete a version as format 2 does: a tombstone, the file gone, its aliases nulled."""
    path = f"models/{name}/versions/{number}.yaml"
    doc = load(tree, path)
    del tree[path]
    tree[f"models/{name}/deleted/{number}.yaml"] = dump(
        {
            "name": name,
            "version": number,
            "uid": doc["uid"],
            "history": [entry(minute, user, "version_deleted", version=number)],
        }
    )
    for alias_path in [p for p in tree if p.startswith(f"models/{name}/aliases/")]:
        alias = load(tree, alias_path)
        if alias["version"] == number:
            alias["version"] = None
            alias["history"].append(
                entry(minute, user, "alias_deleted", alias=alias["alias"], version=number)
            )
            tree[alias_path] = dump(alias)


def base_tree(versions: int = 3) -> Tree:
    """Model churn with versions 1..``versions`` registered by carol."""
    tree = registry_tree()
    add_model(tree, "churn")
    for number in range(1, versions + 1):
        register(tree, "churn", number, number, "carol")
    return tree


def read_folder(root: Path) -> Tree:
    """The registry files under ``root`` (what git tracks of it) as a tree."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def write_folder(root: Path, tree: Mapping[str, bytes]) -> None:
    """Make the folder ``root`` hold exactly ``tree``."""
    for path in read_folder(root) if root.exists() else {}:
        if path not in tree:
            (root / path).unlink()
    for path, data in tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
