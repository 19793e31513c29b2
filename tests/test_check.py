"""`modelreg check [--repair]`: every problem in the folder is one finding (file, what is
wrong, how to fix it); `--repair` fixes what it can without losing data, never deletes a
version record, and says what it did. Exit 0 when clean, 7 otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from modelreg import Registry
from modelreg.check import Finding, check_registry
from modelreg.errors import BusyError, CorruptFileError
from modelreg.pointintime import lifetime

EXAMPLE = Path(__file__).resolve().parents[1] / "registry_example"


@pytest.fixture
def reg(registry: Registry) -> Registry:
    """Model m with versions 1..3 (2 in Production, alias champion -> 2) and model n."""
    return populate(registry)


@pytest.fixture
def old_reg(tmp_path: Path) -> Registry:
    """``reg`` in format 1 (model.yaml holds the aliases and last_version)."""
    return populate(Registry.init(tmp_path / "old", file_format=1))


def populate(registry: Registry) -> Registry:
    for number in (1, 2, 3):
        registry.register("m", f"s3://m/{number}", create_model=True)
    registry.transition_model_version_stage("m", 2, "Production")
    registry.set_registered_model_alias("m", "champion", 2)
    registry.register("n", "s3://n/1", create_model=True)
    return registry


def rel(root: Path, finding: Finding) -> str:
    return finding.path.relative_to(root).as_posix()


def problems(root: Path) -> dict[str, str]:
    """Relative path -> problem, for every finding of a plain check."""
    report = check_registry(root)
    found = {rel(root, finding): finding.problem for finding in report.problems}
    assert len(found) == len(report.problems), "one finding per file here"
    return found


def only(root: Path) -> Finding:
    (finding,) = check_registry(root).problems
    return finding


def version_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted((root / "models").glob("*/versions/*.yaml"))
    }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_fresh_and_a_busy_registry_are_clean(reg: Registry) -> None:
    report = check_registry(reg.root)
    assert report.findings == ()
    assert report.clean
    # ... and so is the example the README uses (checked on a copy: check takes the lock).
    if EXAMPLE.exists():
        copy = reg.root.parent / "example"
        shutil.copytree(EXAMPLE, copy)
        assert check_registry(copy).findings == ()


# -- what repair fixes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "where", [".registry.yaml.0123456789ab.tmp", "models/m/.model.yaml.0123456789ab.tmp"]
)
def test_leftover_temporary_files(reg: Registry, where: str) -> None:
    (reg.root / where).write_text("half a fi")
    finding = only(reg.root)
    assert (rel(reg.root, finding), finding.repairable) == (where, True)
    assert "temporary file left by an interrupted write" in finding.problem
    repaired = check_registry(reg.root, repair=True)
    assert [(rel(reg.root, f), f.repaired, f.fix) for f in repaired.findings] == [
        (where, True, "deleted it")
    ]
    assert not (reg.root / where).exists()
    assert check_registry(reg.root).findings == ()


def test_the_lock_file_is_never_reported_or_removed(reg: Registry) -> None:
    assert reg.lock_path.exists()
    assert check_registry(reg.root, repair=True).findings == ()
    assert reg.lock_path.exists()


def test_interrupted_delete_of_a_model(reg: Registry) -> None:
    leftover = reg.root / ".trash" / "old.1a2b3c4d"
    (leftover / "versions").mkdir(parents=True)
    (leftover / "model.yaml").write_text("name: old\n")
    finding = only(reg.root)
    assert finding.path == leftover
    assert finding.problem == "interrupted delete of model 'old' (left in .trash)"
    assert check_registry(reg.root, repair=True).clean
    assert not leftover.exists()


def test_interrupted_delete_of_a_version(reg: Registry) -> None:
    # As a crash leaves it: 2.yaml moved to .trash, model.yaml not yet updated.
    trash = reg.root / ".trash"
    trash.mkdir()
    trashed = trash / "m~2.0badc0de.yaml"
    (reg.root / "models" / "m" / "versions" / "2.yaml").rename(trashed)
    found = problems(reg.root)
    assert found == {
        ".trash/m~2.0badc0de.yaml": "interrupted delete of version 2 of model 'm'",
        "models/m/aliases/champion.yaml": (
            "alias 'champion' points at version 2, which does not exist"
        ),
    }
    assert all(finding.repairable for finding in check_registry(reg.root).problems)
    before = version_files(reg.root)
    repaired = check_registry(reg.root, repair=True)
    assert repaired.clean
    assert [f.fix for f in repaired.repairs] == [
        f"finished the delete in {reg.root / 'models' / 'm'} (dropped alias "
        "champion), then deleted the trashed version file"
    ]
    model = Registry(reg.root).get_registered_model("m")
    assert model.aliases == {}
    assert [entry["action"] for entry in model.history[-2:]] == [
        "alias_deleted",
        "version_deleted",
    ]
    assert version_files(reg.root) == before
    assert Registry(reg.root).create_model_version("m", "s3://m/4").version == 4


def test_a_finished_delete_records_what_delete_model_version_records(
    reg: Registry, tmp_path: Path
) -> None:
    # The same registry twice: version 2 (alias champion) deleted for real in one,
    # interrupted after its file went to .trash and finished by --repair in the other.
    reg.transition_model_version_stage("m", 2, "Archived")
    uid = reg.get_model_version("m", 2).uid
    life = lifetime(reg.get_model_version("m", 2))  # created_at, stages: for `--at`
    twin = tmp_path / "twin"
    shutil.copytree(reg.root, twin)
    reg.delete_model_version("m", 2)
    (twin / ".trash").mkdir()
    (twin / "models" / "m" / "versions" / "2.yaml").rename(twin / ".trash" / "m~2.0badc0de.yaml")
    assert check_registry(twin, repair=True).clean

    def recorded(root: Path) -> dict[str, Any]:
        model = Registry(root).get_registered_model("m")
        return {
            "aliases": model.aliases,
            "last_version": model.last_version,
            "history": [
                {key: value for key, value in entry.items() if key not in ("timestamp", "comment")}
                for entry in model.history
            ],
        }

    assert recorded(twin) == recorded(reg.root)
    assert recorded(twin)["history"][-2:] == [
        {"user_id": reg.user, "action": "alias_deleted", "alias": "champion", "version": 2},
        {"user_id": reg.user, "action": "version_deleted", "version": 2, **life, "uid": uid},
    ]


def test_interrupted_create_leaves_an_empty_folder(reg: Registry) -> None:
    (reg.root / "models" / "half" / "versions").mkdir(parents=True)
    # Readers and writers already look past it ...
    assert "half" not in [model.name for model in Registry(reg.root).list_registered_models()]
    finding = only(reg.root)
    assert finding.problem == "model folder without model.yaml or versions: an interrupted create"
    assert finding.repairable
    # ... and repair removes it.
    assert check_registry(reg.root, repair=True).clean
    assert not (reg.root / "models" / "half").exists()


def test_a_create_over_an_interrupted_create_succeeds(reg: Registry) -> None:
    (reg.root / "models" / "half" / "versions").mkdir(parents=True)
    Registry(reg.root).create_registered_model("half")
    assert check_registry(reg.root).findings == ()


# last_version is stored in format 1 only (format 2 derives it from the files).
def test_last_version_behind(old_reg: Registry) -> None:
    reg = old_reg
    edit(reg.root / "models" / "m" / "model.yaml", "last_version: 3", "last_version: 1")
    finding = only(reg.root)
    assert rel(reg.root, finding) == "models/m/model.yaml"
    assert finding.problem.startswith("last_version is 1 but version 3 exists or existed")
    repaired = check_registry(reg.root, repair=True)
    assert repaired.clean
    assert repaired.repairs[0].fix == "set last_version to 3"
    # Then upgraded to format 2 (the registry was clean), where the number stays taken.
    assert Registry(reg.root).create_model_version("m", "s3://m/4").version == 4


def test_last_version_below_a_deleted_version(old_reg: Registry) -> None:
    reg = old_reg
    reg.delete_model_version("m", 3)
    edit(reg.root / "models" / "m" / "model.yaml", "last_version: 3", "last_version: 2")
    assert only(reg.root).problem.startswith("last_version is 2 but version 3 exists or existed")
    check_registry(reg.root, repair=True)
    assert Registry(reg.root).create_model_version("m", "s3://m/4").version == 4


def test_interrupted_rename(reg: Registry) -> None:
    # The folder was renamed; the files still say the old name.
    (reg.root / "models" / "m").rename(reg.root / "models" / "renamed")
    found = problems(reg.root)
    assert set(found) == {
        "models/renamed/model.yaml",
        "models/renamed/versions/1.yaml",
        "models/renamed/versions/2.yaml",
        "models/renamed/versions/3.yaml",
    }
    assert all("says name 'm' but is in the folder of model 'renamed'" in p for p in found.values())
    # Readers already go by the folder.
    assert Registry(reg.root).get_model_version("renamed", 2).name == "renamed"
    assert check_registry(reg.root, repair=True).clean
    model = Registry(reg.root).get_registered_model("renamed")
    assert model.history[-1]["action"] == "model_renamed"
    assert (model.history[-1]["from"], model.history[-1]["to"]) == ("m", "renamed")
    assert "name: renamed\n" in (reg.root / "models/renamed/versions/1.yaml").read_text()


# -- what is left for a person ------------------------------------------------------------


def test_a_version_file_under_another_number(reg: Registry) -> None:
    versions = reg.root / "models" / "m" / "versions"
    (versions / "3.yaml").rename(versions / "7.yaml")
    report = check_registry(reg.root)
    findings = {rel(reg.root, finding): finding for finding in report.problems}
    # (The number 7 is taken all the same: format 2 derives last_version from the files;
    # format 1's stored counter must cover it, see the next test.)
    assert set(findings) == {"models/m/versions/7.yaml"}
    wrong = findings["models/m/versions/7.yaml"]
    assert wrong.problem == "says version 3 but is named 7.yaml"
    assert "rename the file to 3.yaml" in wrong.fix
    assert not wrong.repairable
    assert (versions / "7.yaml").exists()


def test_a_version_file_under_another_number_in_format_1(old_reg: Registry) -> None:
    reg = old_reg
    versions = reg.root / "models" / "m" / "versions"
    (versions / "3.yaml").rename(versions / "7.yaml")
    report = check_registry(reg.root)
    findings = {rel(reg.root, finding): finding for finding in report.problems}
    assert set(findings) == {"models/m/versions/7.yaml", "models/m/model.yaml"}
    # The number 7 is taken all the same: last_version must cover it.
    assert findings["models/m/model.yaml"].repairable


def test_two_files_claiming_one_number(reg: Registry) -> None:
    versions = reg.root / "models" / "m" / "versions"
    shutil.copy(versions / "2.yaml", versions / "3.yaml")
    assert problems(reg.root) == {
        "models/m/versions/3.yaml": "says version 2 but is named 3.yaml",
        "models/m/versions": "2 files claim version 2: 2.yaml, 3.yaml",
    }
    with pytest.raises(CorruptFileError, match=r"says version 2 but is named 3\.yaml"):
        Registry(reg.root).get_model_version("m", 3)


def test_repair_never_deletes_a_version_record(old_reg: Registry) -> None:
    reg = old_reg  # format 1: last_version is repaired, and nothing is upgraded
    versions = reg.root / "models" / "m" / "versions"
    shutil.copy(versions / "2.yaml", versions / "5.yaml")  # a duplicate claim
    (versions / "6.yaml").write_text("<<<<<<< HEAD\n")  # a conflicted version
    (versions / "2.yaml.orig").write_text("x")  # merge leftovers
    edit(reg.root / "models" / "m" / "model.yaml", "champion: 2", "champion: 8")
    before = version_files(reg.root)
    report = check_registry(reg.root, repair=True)
    assert version_files(reg.root) == before
    assert (versions / "2.yaml.orig").exists()
    assert not report.clean
    assert {rel(reg.root, f) for f in report.problems} == {
        "models/m/versions",
        "models/m/versions/5.yaml",
        "models/m/versions/6.yaml",
        "models/m/versions/2.yaml.orig",
        "models/m/model.yaml",
    }
    # Only last_version was repaired: it now covers 5.yaml and 6.yaml.
    assert [f.fix for f in report.repairs] == ["set last_version to 6"]


def dangle(reg: Registry, number: int) -> Path:
    """Point alias champion at version ``number``, file and history agreeing (a hand edit,
    or a merge with a delete); the alias file's path."""
    path = reg.root / "models" / "m" / "aliases" / "champion.yaml"
    text = path.read_text().replace("version: 2\n", f"version: {number}\n")
    path.write_text(text)
    return path


def test_dangling_alias(reg: Registry) -> None:
    path = dangle(reg, 8)
    finding = only(reg.root)
    assert finding.path == path
    assert finding.problem == "alias 'champion' points at version 8, which does not exist"
    assert finding.fix.startswith("point it at an existing version (modelreg alias m champion")
    assert not finding.repairable


def test_dangling_alias_in_format_1(old_reg: Registry) -> None:
    edit(old_reg.root / "models" / "m" / "model.yaml", "champion: 2", "champion: 8")
    finding = only(old_reg.root)
    assert finding.problem == "alias 'champion' points at version 8, which does not exist"
    assert not finding.repairable


def test_unknown_stage(reg: Registry) -> None:
    edit(reg.root / "models/m/versions/1.yaml", "current_stage: None", "current_stage: Live")
    edit(reg.root / "models/m/versions/3.yaml", "current_stage: None", "current_stage: production")
    found = problems(reg.root)
    assert found["models/m/versions/1.yaml"].startswith("unknown stage 'Live'")
    fixes = {rel(reg.root, f): f.fix for f in check_registry(reg.root).problems}
    assert fixes["models/m/versions/3.yaml"].endswith("spell it 'Production'")


def test_exclusive_stage_with_two_versions(reg: Registry) -> None:
    # New registries have exclusive_stages: [Production].
    config = reg.root / "registry.yaml"
    exclusive = config.read_text()
    plain = exclusive.replace("exclusive_stages:\n- Production\n", "")
    assert plain != exclusive
    assert check_registry(reg.root).findings == ()
    # A move into an exclusive stage archives the version there, so the state comes from
    # a change of the config after the fact (or a hand edit, or a merge).
    config.write_text(plain)
    Registry(reg.root).transition_model_version_stage("m", 3, "Production")
    config.write_text(exclusive)
    finding = only(reg.root)
    assert rel(reg.root, finding) == "models/m"
    assert finding.problem == (
        "2 versions of 'm' are in Production, which this registry allows only one: versions 2, 3"
    )
    Registry(reg.root).transition_model_version_stage("m", 1, "Production", True)
    assert check_registry(reg.root).findings == ()


def test_a_reused_number(reg: Registry) -> None:
    versions = reg.root / "models" / "m" / "versions"
    kept = (versions / "3.yaml").read_bytes()
    reg.delete_model_version("m", 3)
    (versions / "3.yaml").write_bytes(kept)  # e.g. brought back by a merge
    finding = only(reg.root)
    assert rel(reg.root, finding) == "models/m/versions/3.yaml"
    assert finding.problem.startswith(
        "version 3 of 'm' was deleted (models/m/deleted/3.yaml: deleted by tester@example.com "
    )


def test_a_reused_number_in_format_1(old_reg: Registry) -> None:
    versions = old_reg.root / "models" / "m" / "versions"
    kept = (versions / "3.yaml").read_bytes()
    old_reg.delete_model_version("m", 3)
    (versions / "3.yaml").write_bytes(kept)
    finding = only(old_reg.root)
    assert finding.problem.startswith("version 3 of 'm' was deleted (model.yaml, ")


def test_schema_problems_and_unknown_or_missing_keys(reg: Registry) -> None:
    edit(reg.root / "models/m/versions/1.yaml", "status: READY", "status: READY\nstatsu: x")
    edit(reg.root / "models/m/versions/2.yaml", "version: 2", "version: two")
    text = (reg.root / "models/m/versions/3.yaml").read_text()
    (reg.root / "models/m/versions/3.yaml").write_text(text.split("tags:")[0])  # cut short
    found = problems(reg.root)
    assert found == {
        "models/m/versions/1.yaml": "unknown key 'statsu' (modelreg ignores it, and drops it "
        "on the next write)",
        "models/m/versions/2.yaml": "'version' must be an integer, not 'two'",
        "models/m/versions/3.yaml": "missing keys tags, metrics, params, artifact, lineage, "
        "history: the file is incomplete (cut short, or written by hand)",
    }


def test_folder_names(reg: Registry) -> None:
    (reg.root / "models" / "my model").mkdir()
    (reg.root / "models" / "M").mkdir()
    shutil.copy(reg.root / "models/n/model.yaml", reg.root / "models/M/model.yaml")
    edit(reg.root / "models/M/model.yaml", "name: n", "name: M")
    (reg.root / "models" / "notes.txt").write_text("hello")
    (reg.root / "models" / ".DS_Store").write_text("")  # hidden files are not registry data
    found = problems(reg.root)
    assert found["models/my model"].startswith("the folder name is not a model name")
    assert found["models/m"].startswith("differs from model folder 'M' only in case")
    assert found["models/notes.txt"] == "unexpected file: models/ holds only model folders"
    assert len(found) == 3


def test_every_problem_is_reported_at_once(reg: Registry) -> None:
    # check does not stop at the first problem: one finding per problem, in every model.
    (reg.root / "models/m/versions/1.yaml").write_text("")
    (reg.root / "models/n/model.yaml").write_text("<<<<<<< HEAD\n")
    (reg.root / "registry.yaml").write_text("stages: 7\n")
    assert set(problems(reg.root)) == {
        "registry.yaml",
        "models/m/versions/1.yaml",
        "models/n/model.yaml",
    }


def test_check_waits_for_the_lock_then_reports_busy(reg: Registry) -> None:
    with FileLock(str(reg.lock_path)), pytest.raises(BusyError):
        check_registry(reg.root, lock_timeout=0.05)


# -- the command ------------------------------------------------------------------------


def test_cli_clean(reg: Registry, run_cli: Any) -> None:
    result = run_cli("--registry", str(reg.root), "check", "--format", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])
    assert result.stderr == f"No problems found in {reg.root}\n"
    plain = run_cli("--registry", str(reg.root), "check", "--format", "plain")
    assert (plain.returncode, plain.stdout) == (0, "")


def test_cli_problems_then_repair(reg: Registry, run_cli: Any) -> None:
    temp = reg.root / "models/m/versions/.1.yaml.0123456789ab.tmp"
    temp.write_text("x")
    alias = dangle(reg, 8)
    result = run_cli("--registry", str(reg.root), "check", "--format", "json")
    assert result.returncode == 7
    findings = json.loads(result.stdout)
    assert [sorted(finding) for finding in findings] == [["fix", "path", "problem", "repaired"]] * 2
    assert {(f["path"], f["repaired"]) for f in findings} == {
        (str(temp), False),
        (str(alias), False),
    }
    assert result.stderr == (
        f"error: 2 problem(s) found in {reg.root}; 1 can be repaired with "
        "`modelreg check --repair`\n"
    )
    repaired = run_cli("--registry", str(reg.root), "check", "--repair", "--format", "plain")
    assert repaired.returncode == 7
    lines = [line.split("\t") for line in repaired.stdout.splitlines()]
    assert [(line[0], line[1]) for line in lines] == [
        (str(temp), "repaired"),
        (str(alias), "problem"),
    ]
    assert lines[0][3] == "deleted it"
    assert repaired.stderr.startswith(f"Repaired 1 problem(s) in {reg.root}\n")
    assert repaired.stderr.endswith(f"error: 1 problem(s) found in {reg.root}\n")
    assert not temp.exists()


def test_cli_repair_to_clean_exits_0(reg: Registry, run_cli: Any) -> None:
    (reg.root / ".registry.yaml.0123456789ab.tmp").write_text("x")
    result = run_cli("--registry", str(reg.root), "check", "--repair")
    assert result.returncode == 0
    assert "Repaired 1 problem(s)" in result.stderr
    assert run_cli("--registry", str(reg.root), "check").returncode == 0
