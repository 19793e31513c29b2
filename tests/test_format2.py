"""Registry format 2: a model in several files (layout.py), so that plain git merges of
changes that do not conflict in meaning never conflict; the upgrade from format 1; and the
findings of `check` for what git can do to such files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _safety import git, tree
from modelreg import Registry, actions, layout, yamlio
from modelreg.check import check_registry
from modelreg.cli import app
from modelreg.entities import now_iso
from modelreg.errors import NotFoundError
from modelreg.store import read_mapping

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def populate(registry: Registry) -> Registry:
    """Model m with versions 1..4 (4 deleted; 2 in Production; champion -> 1,
    candidate -> 2, retired deleted) and model n with one version."""
    for number in (1, 2, 3, 4):
        registry.register("m", f"s3://m/{number}", create_model=True)
    registry.transition_model_version_stage("m", 2, "Production")
    registry.set_registered_model_alias("m", "champion", 1)
    registry.set_registered_model_alias("m", "candidate", 2)
    registry.set_registered_model_alias("m", "retired", 4)
    registry.set_model_version_tag("m", 1, "team", "risk")
    registry.set_registered_model_tag("m", "owner", "ana")
    registry.delete_model_version("m", 4)
    registry.register("n", "s3://n/1", create_model=True)
    return registry


@pytest.fixture
def reg(registry: Registry) -> Registry:
    return populate(registry)


def files_changed(root: Path, action: Callable[[], object]) -> dict[str, str]:
    """Run ``action``; every file it added, removed or changed under ``root``."""
    before = {k: v for k, v in tree(root).items() if v is not None}
    action()
    after = {k: v for k, v in tree(root).items() if v is not None}
    changed = {}
    for path in sorted(before.keys() | after.keys()):
        if path.startswith(".modelreg"):
            continue  # the lock and the write counter, git-ignored
        if path not in before:
            changed[path] = "added"
        elif path not in after:
            changed[path] = "removed"
        elif before[path] != after[path]:
            changed[path] = "changed"
    return changed


def doc(path: Path) -> dict[str, Any]:
    return read_mapping(path)


# -- the files ---------------------------------------------------------------------------


def test_new_registries_are_format_2_with_an_exclusive_production(registry: Registry) -> None:
    config = doc(registry.root / "registry.yaml")
    assert config["modelreg"] == 2
    assert config["exclusive_stages"] == ["Production"]


def test_the_files_of_a_model(reg: Registry) -> None:
    folder = reg.root / "models" / "m"
    model = doc(folder / "model.yaml")
    assert list(model) == list(layout.MODEL_KEYS)
    assert [e["action"] for e in model["history"]] == [actions.MODEL_CREATED, actions.TAG_SET]
    champion = doc(folder / "aliases" / "champion.yaml")
    assert champion["alias"] == "champion"
    assert champion["version"] == 1
    assert [e["action"] for e in champion["history"]] == [actions.ALIAS_SET]
    retired = doc(folder / "aliases" / "retired.yaml")
    assert retired["version"] is None  # deleted with version 4; its history stays
    assert [e["action"] for e in retired["history"]] == [actions.ALIAS_SET, actions.ALIAS_DELETED]
    stone = doc(folder / "deleted" / "4.yaml")
    assert list(stone) == list(layout.TOMBSTONE_KEYS)
    assert (stone["name"], stone["version"]) == ("m", 4)
    assert len(stone["uid"]) == 32
    assert [e["action"] for e in stone["history"]] == [actions.VERSION_DELETED]
    assert not (folder / "versions" / "4.yaml").exists()
    first = doc(folder / "versions" / "1.yaml")
    assert list(first)[:3] == ["name", "version", "uid"]
    uids = {doc(path)["uid"] for path in (folder / "versions").iterdir()} | {stone["uid"]}
    assert len(uids) == 4  # every version its own identity, the deleted one too


def test_the_model_in_memory_is_composed_from_its_files(reg: Registry) -> None:
    model = reg.get_registered_model("m")
    assert model.aliases == {"candidate": 2, "champion": 1}
    assert model.tags == {"owner": "ana"}
    loaded = Registry(reg.root)._catalog.load_model("m")
    assert loaded.last_version == 4  # the tombstone keeps the number handed out
    actions_in_order = [entry["action"] for entry in loaded.history]
    assert actions_in_order[0] == actions.MODEL_CREATED
    assert actions_in_order.count(actions.ALIAS_SET) == 3
    # The delete's entries, in the order it recorded them (one stamp: a stable sort).
    assert [(e["action"], e.get("alias")) for e in loaded.history[-2:]] == [
        (actions.ALIAS_DELETED, "retired"),
        (actions.VERSION_DELETED, None),
    ]
    stamps = [entry["timestamp"] for entry in loaded.history]
    assert stamps == sorted(stamps)
    # Derived: the newest stamp of anything of the model, versions included.
    newest = max(mv.last_updated_timestamp for mv in reg.list_versions("m"))
    assert model.last_updated_timestamp >= newest
    # The next number is above the deleted one.
    assert reg.register("m", "s3://m/5").version.version == 5


def test_saving_a_loaded_model_rewrites_nothing(reg: Registry) -> None:
    catalog = Registry(reg.root)._catalog
    model = catalog.load_model("m")
    assert files_changed(reg.root, lambda: layout.save(catalog.store, model)) == {}
    split_doc, aliases, tombstones = layout.split(model)
    assert split_doc == doc(reg.root / "models/m/model.yaml")
    for alias, each in aliases.items():
        assert each.to_doc() == doc(reg.root / f"models/m/aliases/{alias}.yaml")
    assert {n: t.to_doc() for n, t in tombstones.items()} == {
        4: doc(reg.root / "models/m/deleted/4.yaml")
    }


# -- each operation touches only its own file --------------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (
            lambda r: r.transition_model_version_stage("m", 3, "Staging"),
            {"models/m/versions/3.yaml": "changed"},
        ),
        (
            # Into the exclusive Production: the version there is archived (its own file).
            lambda r: r.transition_model_version_stage("m", 3, "Production"),
            {"models/m/versions/2.yaml": "changed", "models/m/versions/3.yaml": "changed"},
        ),
        (
            lambda r: r.set_model_version_tag("m", 3, "k", "v"),
            {"models/m/versions/3.yaml": "changed"},
        ),
        (
            lambda r: r.comment_model_version("m", 3, "looks good"),
            {"models/m/versions/3.yaml": "changed"},
        ),
        (
            lambda r: r.approve_transition("m", 3, "Staging"),
            {"models/m/versions/3.yaml": "changed"},
        ),
        (
            lambda r: r.update_model_version("m", 3, "new text"),
            {"models/m/versions/3.yaml": "changed"},
        ),
        (
            lambda r: r.set_registered_model_alias("m", "champion", 3),
            {"models/m/aliases/champion.yaml": "changed"},
        ),
        (
            lambda r: r.set_registered_model_alias("m", "fresh", 3),
            {"models/m/aliases/fresh.yaml": "added"},
        ),
        (
            lambda r: r.delete_registered_model_alias("m", "champion"),
            {"models/m/aliases/champion.yaml": "changed"},
        ),
        (lambda r: r.set_registered_model_tag("m", "k", "v"), {"models/m/model.yaml": "changed"}),
        (
            lambda r: r.delete_model_version("m", 1),
            {
                "models/m/versions/1.yaml": "removed",
                "models/m/deleted/1.yaml": "added",
                "models/m/aliases/champion.yaml": "changed",
            },
        ),
        (lambda r: r.register("m", "s3://m/new"), {"models/m/versions/5.yaml": "added"}),
    ],
)
def test_an_operation_touches_only_its_files(
    reg: Registry, operation: Callable[[Registry], object], expected: dict[str, str]
) -> None:
    assert files_changed(reg.root, lambda: operation(reg)) == expected
    assert check_registry(reg.root).findings == ()


def test_register_with_an_alias_writes_the_version_and_the_alias_file(reg: Registry) -> None:
    args = ["--registry", str(reg.root), "register", "m", "s3://m/5", "--alias", "next"]
    result: list[Any] = []
    changed = files_changed(reg.root, lambda: result.append(CliRunner().invoke(app, args)))
    assert result[0].exit_code == 0, result[0].output
    assert changed == {"models/m/versions/5.yaml": "added", "models/m/aliases/next.yaml": "added"}


def test_a_deleted_version_s_tombstone_keeps_its_uid(reg: Registry) -> None:
    uid = reg.get_model_version("m", 3).uid
    assert uid is not None
    reg.delete_model_version("m", 3)
    assert doc(reg.root / "models/m/deleted/3.yaml")["uid"] == uid


def test_copy_gives_the_copy_a_new_uid(reg: Registry) -> None:
    original = reg.get_model_version("m", 1)
    copy = reg.copy_model_version("models:/m/1", "m-copy")
    assert copy.uid is not None
    assert copy.uid != original.uid
    assert doc(reg.root / "models/m-copy/versions/1.yaml")["uid"] == copy.uid


def test_rename_keeps_the_files_apart(reg: Registry) -> None:
    reg.rename_registered_model("m", "m2")
    model = reg.get_registered_model("m2")
    assert model.aliases == {"candidate": 2, "champion": 1}
    assert doc(reg.root / "models/m2/deleted/4.yaml")["name"] == "m2"
    assert check_registry(reg.root).findings == ()


# -- format 1 stays format 1 ------------------------------------------------------------


def test_format_1_registries_are_written_in_format_1(tmp_path: Path) -> None:
    old = populate(Registry.init(tmp_path / "old", file_format=1))
    config = (old.root / "registry.yaml").read_bytes()
    assert config.startswith(b"modelreg: 1\n")
    assert b"exclusive_stages" not in config
    old.transition_model_version_stage("m", 3, "Staging")
    old.set_registered_model_alias("m", "champion", 3)
    old.copy_model_version("models:/m/1", "m")
    files = tree(old.root)
    assert (old.root / "registry.yaml").read_bytes() == config
    assert not any("/aliases" in path or "/deleted" in path for path in files)
    assert not any(b"\nuid:" in (data or b"") for data in files.values())
    model = doc(old.root / "models/m/model.yaml")
    assert model["aliases"] == {"candidate": 2, "champion": 3}
    assert model["last_version"] == 5
    assert "updated_at" in model
    assert check_registry(old.root).findings == ()


def test_the_bundled_example_is_format_2(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "registry_example"
    assert doc(example / "registry.yaml")["modelreg"] == 2
    copy = tmp_path / "example"
    shutil.copytree(example, copy)  # check takes the lock: never in the repository
    assert check_registry(copy).findings == ()
    registry = Registry(copy)
    assert registry.get_registered_model("churn-predictor").aliases == {
        "challenger": 1,
        "champion": 2,
    }


# -- upgrading --------------------------------------------------------------------------


def answers(registry: Registry) -> dict[str, Any]:
    """What the reads say (the models' last-updated times aside: format 2 derives them)."""
    found: dict[str, Any] = {}
    for model in registry.list_registered_models():
        shown = model.to_dict()
        del shown["last_updated_timestamp"]
        for version in shown["latest_versions"]:
            del version["last_updated_timestamp"]
        found[model.name] = shown
        found[model.name + " versions"] = [
            {k: v for k, v in mv.to_dict().items() if k != "last_updated_timestamp"}
            for mv in registry.list_versions(model.name)
        ]
        found[model.name + " history"] = [
            {k: v for k, v in entry.items() if k != "uid"} for entry in registry.history(model.name)
        ]
        for alias in model.aliases:
            found[f"{model.name}@{alias}"] = registry.artifact_location(f"{model.name}@{alias}")
    return found


def test_check_on_format_1_notes_the_upgrade_on_stderr(tmp_path: Path, run_cli: Any) -> None:
    old = populate(Registry.init(tmp_path / "old", file_format=1))
    result = run_cli("--registry", str(old.root), "check")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "note: this registry is in format 1; `modelreg check --repair` upgrades" in result.stderr
    report = check_registry(old.root)
    assert report.findings == ()
    assert report.notes


def test_check_repair_upgrades_format_1_and_every_read_answers_the_same(
    tmp_path: Path, run_cli: Any
) -> None:
    old = populate(Registry.init(tmp_path / "old", file_format=1))
    before = answers(Registry(old.root))
    result = run_cli("--registry", str(old.root), "check", "--repair")
    assert result.returncode == 0, result.stderr
    assert "upgraded to format 2" in result.stdout
    assert doc(old.root / "registry.yaml")["modelreg"] == 2
    folder = old.root / "models" / "m"
    assert doc(folder / "aliases" / "champion.yaml")["version"] == 1
    stone = doc(folder / "deleted" / "4.yaml")
    assert stone["uid"] is None  # the deleted version's uid was never recorded
    assert all(len(doc(path)["uid"]) == 32 for path in (folder / "versions").iterdir())
    assert list(doc(folder / "model.yaml")) == list(layout.MODEL_KEYS)
    after = answers(Registry(old.root))
    assert after == before
    assert check_registry(old.root).findings == ()
    # Idempotent: a second upgrade finds nothing to do and changes nothing.
    again = files_changed(old.root, lambda: check_registry(old.root, repair=True))
    assert again == {}
    assert check_registry(old.root, repair=True).findings == ()
    # And the registry goes on: the next number is above the deleted one.
    assert Registry(old.root).register("m", "s3://m/5").version.version == 5


def test_an_interrupted_upgrade_reads_and_is_finished_by_check_repair(tmp_path: Path) -> None:
    old = populate(Registry.init(tmp_path / "old", file_format=1))
    before = answers(Registry(old.root))
    # As a crash after registry.yaml said 2 but before model.yaml was split leaves it.
    config = old.root / "registry.yaml"
    config.write_text(config.read_text().replace("modelreg: 1", "modelreg: 2"))
    assert answers(Registry(old.root))["m@champion"] == before["m@champion"]
    found = check_registry(old.root)
    assert any("still in format 1" in f.problem for f in found.problems)
    check_registry(old.root, repair=True)
    assert check_registry(old.root).findings == ()
    assert answers(Registry(old.root)) == before


def test_upgrade_turns_a_format_1_reused_number_into_a_finding(tmp_path: Path) -> None:
    old = populate(Registry.init(tmp_path / "old", file_format=1))
    kept = (old.root / "models/m/versions/3.yaml").read_bytes()
    old.delete_model_version("m", 3)
    (old.root / "models/m/versions/3.yaml").write_bytes(kept)
    report = check_registry(old.root, repair=True)
    assert report.problems  # the format 1 check says so, and nothing is upgraded
    assert doc(old.root / "registry.yaml")["modelreg"] == 1
    assert any("not upgraded" in note for note in report.notes)


# -- check findings ---------------------------------------------------------------------


def only_problem(root: Path) -> Any:
    problems = check_registry(root).problems
    assert len(problems) == 1, problems
    return problems[0]


def test_a_number_reused_after_a_delete_is_found_and_renumbered(reg: Registry) -> None:
    versions = reg.root / "models" / "m" / "versions"
    text = (versions / "3.yaml").read_text()
    reg.delete_model_version("m", 3)
    # Another clone, not knowing of the delete, registered its own version 3 and pointed
    # an alias at it.
    other = text.replace(doc(reg.root / "models/m/deleted/3.yaml")["uid"], "f" * 32)
    other = other.replace("s3://m/3", "s3://other/3")
    (versions / "3.yaml").write_text(other)
    alias = reg.root / "models/m/aliases/champion.yaml"
    data = doc(alias)
    data["version"] = 3
    data["history"].append(
        {
            "timestamp": now_iso(),
            "user_id": "bob",
            "action": actions.ALIAS_SET,
            "alias": "champion",
            "version": 3,
            "previous_version": 1,
        }
    )
    alias.write_text(yamlio.dumps(data))
    finding = only_problem(reg.root)
    assert finding.path == versions / "3.yaml"
    assert "models/m/deleted/3.yaml: deleted by tester@example.com at " in finding.problem
    assert "another version under the same number" in finding.problem
    report = check_registry(reg.root, repair=True)
    assert [f.fix for f in report.repairs] == [
        "renumbered it to version 5 (versions/5.yaml) and moved alias champion with it"
    ]
    assert report.problems == []
    moved = reg.get_model_version("m", 5)
    assert moved.source == "s3://other/3"
    assert moved.uid == "f" * 32
    assert moved.aliases == ["champion"]
    last = moved.history[-1]
    assert (last["action"], last["from_version"], last["to_version"]) == (
        actions.RENUMBERED,
        3,
        5,
    )
    assert not (versions / "3.yaml").exists()
    assert check_registry(reg.root).findings == ()


def test_a_deleted_version_brought_back_is_found(reg: Registry) -> None:
    versions = reg.root / "models" / "m" / "versions"
    kept = (versions / "3.yaml").read_bytes()
    reg.delete_model_version("m", 3)
    (versions / "3.yaml").write_bytes(kept)  # e.g. a merge of the delete with an edit
    finding = only_problem(reg.root)
    assert "was deleted" in finding.problem
    assert "its file is back" in finding.problem
    assert "modelreg delete m 3" in finding.fix


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_version_file_with_two_registrations_is_found(reg: Registry) -> None:
    path = reg.root / "models/m/versions/3.yaml"
    data = doc(path)
    data["history"] = [
        *data["history"],
        {**data["history"][0], "timestamp": "2030-01-01T00:00:00.000Z"},
    ]
    path.write_text(yamlio.dumps(data))
    finding = only_problem(reg.root)
    assert finding.path == path
    assert finding.problem.startswith("records 2 registrations")


def test_one_uid_in_two_files_is_found(reg: Registry) -> None:
    one = reg.root / "models/m/versions/1.yaml"
    three = reg.root / "models/m/versions/3.yaml"
    edit(three, doc(three)["uid"], doc(one)["uid"])
    finding = only_problem(reg.root)
    assert "is held by 2 files: models/m/versions/1.yaml, models/m/versions/3.yaml" in (
        finding.problem
    )


def test_a_uid_of_a_live_version_and_of_another_number_s_tombstone_is_found(
    reg: Registry,
) -> None:
    three = reg.root / "models/m/versions/3.yaml"
    edit(three, doc(three)["uid"], doc(reg.root / "models/m/deleted/4.yaml")["uid"])
    finding = only_problem(reg.root)
    assert "models/m/versions/3.yaml, models/m/deleted/4.yaml" in finding.problem


def test_a_stage_that_disagrees_with_the_history_is_found(reg: Registry) -> None:
    path = reg.root / "models/m/versions/2.yaml"
    edit(path, "current_stage: Production", "current_stage: Staging")
    finding = only_problem(reg.root)
    assert (
        finding.problem.startswith("current_stage is Staging but its last stage change")
        and "moved it to Production" in finding.problem
    )
    assert "modelreg transition m 2 STAGE" in finding.fix


def test_an_alias_file_that_disagrees_with_its_history_is_found_and_repaired(
    reg: Registry,
) -> None:
    path = reg.root / "models/m/aliases/champion.yaml"
    edit(path, "version: 1\nhistory", "version: 2\nhistory")
    finding = only_problem(reg.root)
    assert finding.path == path
    assert "its latest history entry" in finding.problem and "points it at 1" in finding.problem
    check_registry(reg.root, repair=True)
    assert check_registry(reg.root).findings == ()
    assert reg.get_model_version_by_alias("m", "champion").version == 1


def test_an_alias_onto_a_deleted_version_is_found_and_repaired(reg: Registry) -> None:
    reg.delete_model_version("m", 3)
    path = reg.root / "models/m/aliases/champion.yaml"
    edit(path, "version: 1\nhistory", "version: 3\nhistory")
    data = doc(path)
    data["history"][-1]["version"] = 3  # as a merge of a move onto 3 with its delete leaves it
    path.write_text(yamlio.dumps(data))
    finding = only_problem(reg.root)
    assert finding.problem == "alias 'champion' points at version 3, which was deleted"
    check_registry(reg.root, repair=True)
    assert check_registry(reg.root).findings == ()
    assert "champion" not in reg.get_registered_model("m").aliases


def test_two_versions_in_an_exclusive_stage_are_found_by_a_plain_check(reg: Registry) -> None:
    reg.transition_model_version_stage("m", 3, "Production")  # archives 2
    assert reg.get_model_version("m", 2).current_stage == "Archived"
    # As a merge of two moves into Production leaves it: 2 moved back on the other side.
    path = reg.root / "models/m/versions/2.yaml"
    data = doc(path)
    data["current_stage"] = "Production"
    data["history"].append(
        {
            "timestamp": "2099-01-01T00:00:00.000Z",
            "user_id": "bob",
            "action": actions.STAGE_CHANGED,
            "from_stage": "Archived",
            "to_stage": "Production",
        }
    )
    path.write_text(yamlio.dumps(data))
    finding = only_problem(reg.root)
    assert finding.problem == (
        "2 versions of 'm' are in Production, which this registry allows only one: versions 2, 3"
    )


def test_a_move_into_an_exclusive_stage_archives_the_version_there(reg: Registry) -> None:
    moved = reg.transition_model_version_stage("m", 1, "Production")
    assert moved.current_stage == "Production"
    archived = reg.get_model_version("m", 2)
    assert archived.current_stage == "Archived"
    assert archived.history[-1]["archived_by"] == 1


# -- reads see files changed behind the registry's back ---------------------------------


@pytest.mark.usefixtures("settle_now")
def test_an_alias_file_rewritten_behind_the_registry_is_seen(reg: Registry, run_cli: Any) -> None:
    reader = Registry(reg.root)
    assert reader.get_model_version_by_alias("m", "champion").version == 1
    assert reader.get_registered_model("m").aliases["champion"] == 1
    assert {mv.version: mv.aliases for mv in reader.list_versions("m")}[1] == ["champion"]
    path = reg.root / "models/m/aliases/champion.yaml"
    data = doc(path)
    data["version"] = 3
    data["history"][-1] = {**data["history"][-1], "version": 3}
    path.write_text(yamlio.dumps(data))
    assert reader.get_model_version_by_alias("m", "champion").version == 3
    assert reader.get_registered_model("m").aliases["champion"] == 3
    assert {mv.version: mv.aliases for mv in reader.list_versions("m")}[3] == ["champion"]
    page = reader.search_model_versions("name = 'm'")
    assert {mv.version: mv.aliases for mv in page}[3] == ["champion"]
    result = run_cli("--registry", str(reg.root), "resolve", "m@champion")
    assert (result.returncode, result.stdout) == (0, "s3://m/3\n")


@needs_git
@pytest.mark.usefixtures("settle_now")
def test_an_alias_changed_by_git_checkout_is_seen(tmp_path: Path, run_cli: Any) -> None:
    project = tmp_path / "project"
    git(tmp_path, "init", "-q", "-b", "main", str(project))
    registry = populate(Registry.init(project / "registry"))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "champion is 1")
    registry.set_registered_model_alias("m", "champion", 3)
    git(project, "commit", "-q", "-am", "champion is 3")
    reader = Registry(project / "registry")
    assert reader.resolve_version("m@champion").version == 3
    assert reader.get_registered_model("m").aliases["champion"] == 3
    assert {mv.version: mv.aliases for mv in reader.search_model_versions()}[3] == ["champion"]
    git(project, "checkout", "-q", "HEAD~1", "--", "registry")
    assert reader.resolve_version("m@champion").version == 1
    assert reader.get_registered_model("m").aliases["champion"] == 1
    # Search reads the models' fields through the cache: never keyed by model.yaml alone.
    assert {mv.version: mv.aliases for mv in reader.search_model_versions()}[1] == ["champion"]
    result = run_cli("--registry", str(project / "registry"), "resolve", "m@champion")
    assert (result.returncode, result.stdout) == (0, "s3://m/1\n")


def test_resolving_an_alias_stays_light(reg: Registry) -> None:
    # The fast path: no Typer, no PyYAML, and the model's other files are not needed.
    (reg.root / "models/m/deleted/4.yaml").write_text("not: [valid\n")
    code = (
        "import sys; from modelreg import quick; "
        f"code = quick.try_run(['--registry', {str(reg.root)!r}, 'resolve', 'm@champion']); "
        "print(code, 'typer' in sys.modules, 'yaml' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["s3://m/1", "0 False False"]


def test_a_dangling_alias_file_names_the_alias(reg: Registry) -> None:
    (reg.root / "models/m/versions/1.yaml").unlink()
    with pytest.raises(NotFoundError, match="alias 'champion' of model 'm' points to version 1"):
        reg.get_model_version_by_alias("m", "champion")


# -- real git: two clones, plain git, no merge driver -----------------------------------


def two_clones(tmp_path: Path) -> tuple[Path, Path]:
    """A bare origin holding a populated registry, and the clones of alice and bob."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    alice = tmp_path / "alice"
    git(tmp_path, "init", "-q", "-b", "main", str(alice))
    populate(Registry.init(alice / "registry"))
    git(alice, "add", "-A")
    git(alice, "commit", "-q", "-m", "base")
    git(alice, "remote", "add", "origin", str(origin))
    git(alice, "push", "-q", "-u", "origin", "main")
    bob = tmp_path / "bob"
    git(tmp_path, "clone", "-q", str(origin), str(bob))
    return alice, bob


Side = Callable[[Registry], object]
SCENARIOS: dict[str, tuple[Side, Side, Callable[[Registry], bool]]] = {
    "register different models": (
        lambda r: r.register("a-model", "s3://a/1", create_model=True),
        lambda r: r.register("b-model", "s3://b/1", create_model=True),
        lambda r: {m.name for m in r.list_registered_models()} >= {"a-model", "b-model"},
    ),
    "transition different versions": (
        lambda r: r.transition_model_version_stage("m", 1, "Staging"),
        lambda r: r.transition_model_version_stage("m", 3, "Staging"),
        lambda r: (
            [mv.current_stage for mv in r.list_versions("m")]
            == ["Staging", "Production", "Staging"]
        ),
    ),
    "tag different versions": (
        lambda r: r.set_model_version_tag("m", 1, "by", "alice"),
        lambda r: r.set_model_version_tag("m", 3, "by", "bob"),
        lambda r: (
            r.get_model_version("m", 1).tags["by"] == "alice"
            and r.get_model_version("m", 3).tags["by"] == "bob"
        ),
    ),
    "comment on different versions": (
        lambda r: r.comment_model_version("m", 1, "from alice"),
        lambda r: r.comment_model_version("m", 3, "from bob"),
        lambda r: (
            r.get_model_version("m", 1).history[-1]["comment"] == "from alice"
            and r.get_model_version("m", 3).history[-1]["comment"] == "from bob"
        ),
    ),
    "approve different versions": (
        lambda r: r.approve_transition("m", 1, "Staging"),
        lambda r: r.approve_transition("m", 3, "Staging"),
        lambda r: (
            r.get_model_version("m", 1).history[-1]["action"] == actions.APPROVED
            and r.get_model_version("m", 3).history[-1]["action"] == actions.APPROVED
        ),
    ),
    "move different aliases": (
        lambda r: r.set_registered_model_alias("m", "champion", 3),
        lambda r: r.set_registered_model_alias("m", "candidate", 3),
        lambda r: r.get_registered_model("m").aliases == {"candidate": 3, "champion": 3},
    ),
}


@needs_git
@pytest.mark.parametrize("pull", ["--no-rebase", "--rebase"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_plain_git_merges_unrelated_changes_without_conflict(
    tmp_path: Path, scenario: str, pull: str
) -> None:
    alice, bob = two_clones(tmp_path)
    on_alice, on_bob, both_present = SCENARIOS[scenario]
    on_alice(Registry(alice / "registry"))
    git(alice, "add", "-A")
    git(alice, "commit", "-q", "-m", "alice")
    git(alice, "push", "-q", "origin", "main")
    on_bob(Registry(bob / "registry"))
    git(bob, "add", "-A")
    git(bob, "commit", "-q", "-m", "bob")
    # No merge driver, no attributes: plain git (it fails the test on a conflict).
    git(bob, "pull", "-q", "--no-edit", pull, "origin", "main")
    assert git(bob, "status", "--porcelain") == ""
    registry = Registry(bob / "registry")
    assert both_present(registry)
    assert check_registry(bob / "registry").findings == ()
    git(bob, "push", "-q", "origin", "main")


def test_a_dangling_alias_in_format_1_names_the_alias(tmp_path: Path, run_cli: Any) -> None:
    old = populate(Registry.init(tmp_path / "old", file_format=1))
    path = old.root / "models/m/model.yaml"
    path.write_text(path.read_text().replace("champion: 1", "champion: 7"))
    message = "alias 'champion' of model 'm' points to version 7, which does not exist"
    with pytest.raises(NotFoundError, match=message):
        Registry(old.root).resolve_version("m@champion")
    result = run_cli("--registry", str(old.root), "resolve", "m@champion")
    assert (result.returncode, result.stderr) == (3, f"error: {message}\n")


def test_aliases_differing_only_in_case_are_a_finding(reg: Registry) -> None:
    # Case-sensitive as in MLflow; the files would clash on macOS and Windows.
    reg.set_registered_model_alias("m", "Champion", 3)
    assert reg.get_registered_model("m").aliases == {"Champion": 3, "candidate": 2, "champion": 1}
    finding = only_problem(reg.root)
    assert finding.path == reg.root / "models/m/aliases/champion.yaml"
    assert finding.problem.startswith("alias 'champion' differs from alias 'Champion' only in")


def test_a_version_file_without_uid_is_one_finding_and_repaired(reg: Registry) -> None:
    path = reg.root / "models/m/versions/3.yaml"
    data = doc(path)
    del data["uid"]
    path.write_text(yamlio.dumps(data))
    finding = only_problem(reg.root)
    assert finding.problem.startswith("has no uid")
    check_registry(reg.root, repair=True)
    assert check_registry(reg.root).findings == ()
    assert len(doc(path)["uid"]) == 32
    assert list(doc(path))[:3] == ["name", "version", "uid"]
