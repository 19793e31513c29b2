"""A Registry kept open remembers what it parsed between reads (index.py's memory), and
still never answers from stale data: every change to a file, by any means, is seen by the
same Registry's next search, and what a search returns is the caller's to change."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from _safety import git
from modelreg import Registry, catalog, forking, index, yamlio

NAME = "churn"


@pytest.fixture(params=[2, 1], ids=["format2", "format1"])
def open_registry(request: pytest.FixtureRequest, tmp_path: Path, settle_now: None) -> Registry:
    """A registry of 4 versions (tag n = the number), champion on 2, already searched
    twice by this same Registry (a model is remembered from its second read on, so its
    memory holds every file)."""
    registry = Registry.init(tmp_path / "registry", file_format=request.param)
    for number in range(1, 5):
        registry.register(NAME, f"s3://b/{number}", tags={"n": str(number)}, create_model=True)
    registry.set_registered_model_alias(NAME, "champion", 2)
    assert len(registry.search_model_versions()) == 4
    assert len(registry.search_model_versions()) == 4
    time.sleep(0.05)  # past the file system's timestamp granularity
    return registry


def version_file(registry: Registry, number: int) -> Path:
    return registry.root / "models" / NAME / "versions" / f"{number}.yaml"


def tagged(registry: Registry, value: str) -> list[int]:
    return [mv.version for mv in registry.search_model_versions(f"tags.n = '{value}'")]


def test_the_second_search_of_an_open_registry_parses_and_loads_nothing(
    open_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("read a file the memory holds")

    monkeypatch.setattr(index.VersionIndex, "parse_version", refuse)
    monkeypatch.setattr(index._Section, "_load", refuse)
    found = open_registry.search_model_versions("tags.n = '2'")
    assert [(mv.version, mv.aliases, len(mv.history)) for mv in found] == [(2, ["champion"], 1)]


def test_an_in_place_edit_of_the_same_size_and_mtime_is_seen(open_registry: Registry) -> None:
    path = version_file(open_registry, 3)
    before = path.stat()
    text = path.read_text()
    with path.open("r+") as handle:  # same inode, same size
        handle.write(text.replace("n: '3'", "n: '9'"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert tagged(open_registry, "9") == [3]
    assert tagged(open_registry, "3") == []


def test_a_file_renamed_away_and_back_is_seen(open_registry: Registry, tmp_path: Path) -> None:
    path = version_file(open_registry, 4)
    aside = tmp_path / "aside.yaml"
    path.rename(aside)
    assert [mv.version for mv in open_registry.search_model_versions()] == [3, 2, 1]
    # Back, edited meanwhile with its mtime restored: the same inode and size again.
    stat = aside.stat()
    aside.write_text(aside.read_text().replace("n: '4'", "n: '8'"))
    os.utime(aside, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    aside.rename(path)
    assert tagged(open_registry, "8") == [4]


def test_a_file_replaced_by_a_rename_over_it_is_seen(open_registry: Registry) -> None:
    # What editors and `git checkout` do: write a new file, rename it over the old one.
    path = version_file(open_registry, 1)
    stat = path.stat()
    new = path.with_name(".1.yaml.tmp")
    new.write_text(path.read_text().replace("n: '1'", "n: '7'"))
    os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    new.replace(path)
    assert tagged(open_registry, "7") == [1]


def test_git_checkout_of_an_older_version_file_and_alias_is_seen(open_registry: Registry) -> None:
    repo = open_registry.root.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "four versions")
    other = Registry(open_registry.root)  # another writer: this Registry's memory is old
    other.set_model_version_tag(NAME, 2, "n", "tuned")
    other.set_registered_model_alias(NAME, "champion", 4)
    other.update_model_version(NAME, 2, "retuned")
    assert tagged(open_registry, "tuned") == [2]
    assert open_registry.search_model_versions("tags.n = 'tuned'")[0].description == "retuned"
    assert open_registry.search_model_versions("tags.n = '4'")[0].aliases == ["champion"]
    time.sleep(0.05)
    git(repo, "checkout", "-q", "--", ".")  # the committed files again
    assert tagged(open_registry, "tuned") == []
    back = open_registry.search_model_versions("tags.n = '2'")
    assert [(mv.description, mv.aliases) for mv in back] == [(None, ["champion"])]
    assert [len(mv.history) for mv in back] == [1]


def test_histories_are_those_of_the_files_read(open_registry: Registry) -> None:
    Registry(open_registry.root).transition_model_version_stage(NAME, 3, "Staging")
    (found,) = open_registry.search_model_versions("tags.n = '3'")
    assert found.current_stage == "Staging"
    assert [entry["action"] for entry in found.history] == ["version_registered", "stage_changed"]


def test_what_a_search_returns_is_the_callers_to_change(open_registry: Registry) -> None:
    (first,) = open_registry.search_model_versions("tags.n = '2'")
    first.tags["n"] = "changed"
    first.aliases.append("mine")
    first.history.clear()
    records = open_registry.search_version_records()
    records[0]["tags"]["n"] = "changed too"
    (again,) = open_registry.search_model_versions("tags.n = '2'")
    assert (again.tags, again.aliases, len(again.history)) == ({"n": "2"}, ["champion"], 1)
    assert tagged(open_registry, "changed too") == []
    assert [mv.tags["n"] for mv in open_registry.list_versions(NAME)] == ["1", "2", "3", "4"]


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """A search forks one child (one spare core), whose share of models is appended."""
    started: list[list[str]] = []
    real_fork = forking._fork

    def counting(work: Any, share: list[str]) -> tuple[int, int]:
        started.append(share)
        return real_fork(work, share)

    monkeypatch.setattr(forking, "_fork", counting)
    monkeypatch.setattr(forking, "spare_cores", lambda: 1)
    # Idle threads other tests left behind (servers) would make the search stay serial.
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    return started


def models_of_two_versions(root: Path) -> Registry:
    """Twice as many models as a child needs, each of two versions."""
    registry = Registry.init(root)
    for model in range(2 * catalog._MODELS_PER_CHILD):
        for number in (1, 2):
            registry.register(f"m{model:02}", f"s3://b/{model}/{number}", create_model=True)
    return registry


def test_a_first_search_reads_in_parallel_and_finds_what_a_serial_read_finds(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    forks: list[list[str]],
    parses: list[Path],
    settle_now: None,
) -> None:
    # Many models none of which this process has read: a child reads half of them (the
    # histories of what it found come from the cache it wrote).
    registry = models_of_two_versions(tmp_path / "registry")
    bad = [registry.root / "models" / name / "versions" / "2.yaml" for name in ("m03", "m04")]
    for path in bad:
        path.write_text("<<<<<<< HEAD\n")
    parses.clear()
    errors: list[yamlio.CorruptFileError] = []
    found = Registry(registry.root).search_model_versions(errors=errors)
    assert len(forks) == 1
    child_share = set(forks[0])
    assert len(child_share) == catalog._MODELS_PER_CHILD
    assert {"m03", "m04"} & child_share and {"m03", "m04"} - child_share  # one each
    # Nothing of the child's share is read here, not even its corrupt file.
    assert [path for path in parses if path.parent.parent.name in child_share] == []
    assert [error.path for error in errors] == bad  # in the order of the models
    monkeypatch.setattr(forking, "spare_cores", lambda: 0)
    serial_errors: list[yamlio.CorruptFileError] = []
    serial = Registry(registry.root).search_model_versions(errors=serial_errors)
    assert len(forks) == 1
    assert [mv.to_dict() for mv in found] == [mv.to_dict() for mv in serial]
    assert len(found) == 2 * 2 * catalog._MODELS_PER_CHILD - 2
    assert [(error.path, error.problem) for error in serial_errors] == [
        (error.path, error.problem) for error in errors
    ]


def test_a_corrupt_file_in_a_childs_share_is_raised_here(
    tmp_path: Path, forks: list[list[str]]
) -> None:
    # Without an errors list a corrupt file is raised: the child fails, and its share is
    # read here again, which raises as a serial read would.
    registry = models_of_two_versions(tmp_path / "registry")
    Registry(registry.root).search_model_versions()  # to learn the child's share
    name = forks[0][0]
    bad = registry.root / "models" / name / "versions" / "1.yaml"
    bad.write_text("<<<<<<< HEAD\n")
    with pytest.raises(yamlio.CorruptFileError) as raised:
        Registry(registry.root).search_model_versions()
    assert len(forks) == 2 and forks[1][0] == name
    assert raised.value.path == bad


def test_a_search_in_a_loop_forks_once_then_reads_here_then_from_memory(
    tmp_path: Path, forks: list[list[str]], settle_now: None, parses: list[Path]
) -> None:
    registry = models_of_two_versions(tmp_path / "registry")
    script = Registry(registry.root)
    first = script.search_model_versions()
    assert len(forks) == 1
    parses.clear()
    second = script.search_model_versions()  # here, from the cache the child wrote
    assert (len(forks), parses) == (1, [])
    assert set(script._catalog.index._memory) == {f"m{n:02}" for n in range(16)}
    third = script.search_model_versions()
    assert [mv.to_dict() for mv in first] == [mv.to_dict() for mv in second]
    assert [mv.to_dict() for mv in second] == [mv.to_dict() for mv in third]


def test_a_model_is_remembered_from_its_second_read_on(tmp_path: Path, settle_now: None) -> None:
    # A command reads each model once: it keeps nothing, and its peak memory is that of
    # one model, however large the registry.
    Registry.init(tmp_path / "registry").register(NAME, "s3://b/1", create_model=True)
    command = Registry(tmp_path / "registry")
    assert len(command.search_version_records()) == 1
    assert command._catalog.index._memory == {}
    script = Registry(tmp_path / "registry")
    memory = script._catalog.index._memory
    assert len(script.search_model_versions()) == 1
    assert memory == {}  # kept for the search's histories, then dropped
    assert len(script.search_model_versions()) == 1
    assert list(memory) == [NAME]


def test_data_sets_cross_the_parallel_first_read_the_cache_and_the_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[list[str]], settle_now: None
) -> None:
    # Data sets are structs; marshal (a child's pipe, the cache files) takes only
    # builtins. Each path must give back the same Dataset objects a parse gives.
    registry = Registry.init(tmp_path / "registry")
    digest = "sha256:" + "ab" * 32
    for model in range(2 * catalog._MODELS_PER_CHILD):
        registry.register(
            f"m{model:02}",
            f"s3://b/{model}/1",
            datasets={"train": f"s3://d/{model}.csv#{digest}"},
            create_model=True,
        )
    query = f"datasets.train.digest = '{digest}'"
    script = Registry(registry.root)
    # Parsed in parallel, then read here from the cache, then from memory.
    reads = [script.search_model_versions(query) for _ in range(3)]
    assert len(forks) == 1
    from_cache = Registry(registry.root).search_model_versions(query)  # a child, cached
    assert len(forks) == 2
    monkeypatch.setattr(forking, "spare_cores", lambda: 0)
    here = Registry(registry.root).search_model_versions(query)  # the cache files, here
    for found in [*reads, from_cache, here]:
        assert len(found) == 2 * catalog._MODELS_PER_CHILD
        for mv in found:
            train = mv.datasets["train"]
            assert (train.name, train.digest) == ("train", digest)
            assert train.source == f"s3://d/{int(mv.name[1:])}.csv"


def test_what_a_parallel_first_read_parsed_is_in_the_cache_for_the_next_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    forks: list[list[str]],
    settle_now: None,
    parses: list[Path],
) -> None:
    # The parallel read once wrote back to each cache file only what the parent itself
    # had looked at, dropping what the children had written there: the second search
    # after a clone parsed every file again, and serially.
    registry = models_of_two_versions(tmp_path / "registry")
    first = Registry(registry.root).search_model_versions()
    assert len(forks) == 1
    parses.clear()
    monkeypatch.setattr(forking, "spare_cores", lambda: 0)  # every model read here
    second = Registry(registry.root).search_model_versions()
    assert parses == []
    assert [mv.to_dict() for mv in second] == [mv.to_dict() for mv in first]


def test_a_parallel_first_read_composes_each_model_once(
    tmp_path: Path, forks: list[list[str]], composes: list[str], settle_now: None
) -> None:
    # The child reads its share whole: this process composes only the models of its own.
    registry = models_of_two_versions(tmp_path / "registry")
    names = [f"m{model:02}" for model in range(2 * catalog._MODELS_PER_CHILD)]
    for name in names:
        registry.set_registered_model_alias(name, "champion", 1)
    found = Registry(registry.root).search_model_versions()
    assert len(forks) == 1
    assert sorted(composes) == sorted(set(names) - set(forks[0]))
    assert {(mv.name, mv.version): mv.aliases for mv in found} == {
        (name, number): ["champion"] if number == 1 else [] for name in names for number in (1, 2)
    }
