"""A model's version numbers are listed once and remembered (``Store.version_numbers``):
listing 10,000 version files was most of a registration at the end of such a model.
Whatever changes the folder is seen: this Registry's writes, another's, and files that
git (or anyone) adds or removes, even within one tick of the folder's timestamps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.store import stat_identity
from modelreg.structs import replace


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The versions folders listed by this process (by model), in order."""
    seen: list[str] = []
    real = os.listdir

    def counting(path: object = ".") -> list[str]:
        folder = Path(os.fsdecode(path))  # type: ignore[arg-type]
        if folder.name == "versions":
            seen.append(folder.parent.name)
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "listdir", counting)
    return seen


def add_version_file(registry: Registry, name: str, copy_of: int, number: int) -> None:
    """versions/NUMBER.yaml as git would bring it: a copy of another version's file."""
    folder = registry.root / "models" / name / "versions"
    text = (folder / f"{copy_of}.yaml").read_text()
    (folder / f"{number}.yaml").write_text(
        text.replace(f"version: {copy_of}\n", f"version: {number}\n")
    )


def numbers(registry: Registry, name: str) -> list[int]:
    return sorted(mv.version for mv in registry.search_model_versions(f"name = '{name}'"))


def test_registering_at_the_end_of_a_model_lists_its_versions_once(
    tmp_path: Path, listed: list[str]
) -> None:
    registry = Registry.init(tmp_path / "registry")
    registry.register("m", "s3://b/1", create_model=True)
    registry.create_model_version("m", "s3://b/2")
    listed.clear()
    made = [registry.create_model_version("m", f"s3://b/{n}").version for n in range(3, 9)]
    assert made == [3, 4, 5, 6, 7, 8]
    assert listed == []
    assert numbers(Registry(registry.root), "m") == list(range(1, 9))


def test_another_registry_registering_is_seen(tmp_path: Path) -> None:
    # Two writers (another process, or another Registry here): each one's next number
    # follows the other's last, however close together they write.
    first = Registry.init(tmp_path / "registry")
    second = Registry(first.root)
    first.register("m", "s3://b/1", create_model=True)
    made = []
    for n in range(2, 12):
        writer = first if n % 2 else second
        made.append(writer.create_model_version("m", f"s3://b/{n}").version)
    assert made == list(range(2, 12))


def test_version_files_git_adds_or_removes_are_seen(tmp_path: Path) -> None:
    registry = Registry.init(tmp_path / "registry")
    for n in (1, 2, 3):
        registry.register("m", f"s3://b/{n}", create_model=True)
    add_version_file(registry, "m", 3, 4)  # a pull brought version 4
    assert registry.create_model_version("m", "s3://b/5").version == 5
    folder = registry.root / "models" / "m" / "versions"
    (folder / "5.yaml").unlink()  # a checkout took 4 and 5 away
    (folder / "4.yaml").unlink()
    assert numbers(registry, "m") == [1, 2, 3]
    assert registry.create_model_version("m", "s3://b/4").version == 4


def test_what_the_folders_timestamps_hide_is_seen(tmp_path: Path) -> None:
    # A folder's timestamps are coarse (a clock tick, a second on some filesystems): git
    # may add or remove a file without changing them. The listing as remembered is then
    # made to carry the folder's identity after the change, as such a tick would.
    registry = Registry.init(tmp_path / "registry")
    for n in (1, 2, 3):
        registry.register("m", f"s3://b/{n}", create_model=True)
    store = registry._catalog.store
    folder = store.versions_dir("m")
    assert store.version_numbers("m") == [1, 2, 3]

    def same_tick() -> None:
        now = stat_identity(os.lstat(folder))
        store._listings["m"] = replace(store._listings["m"], identity=now)

    add_version_file(registry, "m", 3, 4)
    same_tick()
    assert store.version_numbers("m") == [1, 2, 3, 4]
    (folder / "4.yaml").unlink()
    same_tick()
    assert store.version_numbers("m") == [1, 2, 3]
    assert registry.create_model_version("m", "s3://b/4").version == 4


def test_deleting_and_renaming_keep_the_numbers_right(tmp_path: Path) -> None:
    registry = Registry.init(tmp_path / "registry")
    for n in (1, 2, 3):
        registry.register("m", f"s3://b/{n}", create_model=True)
    registry.delete_model_version("m", 3)  # never handed out again
    assert registry.create_model_version("m", "s3://b/4").version == 4
    registry.rename_registered_model("m", "renamed")
    registry.register("m", "s3://b/new", create_model=True)  # a new model of the old name
    assert registry.create_model_version("renamed", "s3://b/5").version == 5
    assert registry.create_model_version("m", "s3://b/new2").version == 2
    assert numbers(registry, "renamed") == [1, 2, 4, 5]
    assert numbers(registry, "m") == [1, 2]
