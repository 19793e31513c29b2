"""Artifacts that travel: what ``register`` records for a local path, the artifact store
(a local folder here; S3 in test_artifacts_s3.py), ``pull``, verification and ``gc``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _safety import git
from conftest import modelreg_executable
from modelreg import Registry
from modelreg.errors import NotFoundError

NAME = "churn"


def cli(root: Path, *args: str) -> Any:
    from modelreg.cli import app

    return CliRunner().invoke(app, ["--registry", str(root), *args])


@pytest.fixture
def project(repo: Path) -> Path:
    """A git repository whose registry is two folders down (ml/registry) and whose
    build output out/ is git-ignored, as it should be."""
    Registry.init(repo / "ml" / "registry")
    (repo / ".gitignore").write_text("out/\n")
    (repo / "out").mkdir()
    (repo / "out" / "model.pkl").write_bytes(b"weights v1")
    (repo / "data.csv").write_text("a,b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "registry")
    return repo


# -- (a) what register records -------------------------------------------------------------


def test_register_refuses_a_local_path_that_does_not_exist(project: Path) -> None:
    root = project / "ml" / "registry"
    result = cli(root, "register", "nofile", "./does-not-exist.pkl")
    assert result.exit_code == 3, result.output
    assert "no artifact at './does-not-exist.pkl'" in result.stderr
    assert not (root / "models" / "nofile").exists()  # nothing registered, not even the model
    with pytest.raises(NotFoundError):
        Registry(root).register(NAME, "missing/model.pkl", create_model=True)


def test_mlflow_create_model_version_accepts_any_source(project: Path) -> None:
    registry = Registry(project / "ml" / "registry")
    registry.create_registered_model(NAME)
    mv = registry.create_model_version(NAME, "/elsewhere/model.pkl")
    assert (mv.source, mv.artifact_sha256) == ("/elsewhere/model.pkl", None)
    assert registry.register_model("relative/nowhere", "other").source == "relative/nowhere"


def test_a_local_path_resolves_the_same_from_any_folder_and_any_clone(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry sits two levels down in its repository: an artifact elsewhere in the
    repository is recorded relative to the registry folder, so a copy of the repository
    resolves it inside the copy (before, it was recorded absolute)."""
    root = project / "ml" / "registry"
    monkeypatch.chdir(project / "out")
    result = cli(root, "register", NAME, "model.pkl")
    assert result.exit_code == 0, result.output
    mv = Registry(root).get_model_version(NAME, 1)
    assert mv.source == "../../out/model.pkl"
    monkeypatch.chdir(project / "ml")
    assert cli(root, "resolve", NAME).stdout == f"{project / 'out' / 'model.pkl'}\n"
    copy = tmp_path / "clone"
    shutil.copytree(project, copy)
    resolved = cli(copy / "ml" / "registry", "resolve", NAME).stdout
    assert resolved == f"{copy / 'out' / 'model.pkl'}\n"


def test_register_warns_when_the_artifact_will_not_travel(project: Path, tmp_path: Path) -> None:
    root = project / "ml" / "registry"
    ignored = cli(root, "register", NAME, str(project / "out" / "model.pkl"))
    assert ignored.exit_code == 0, ignored.output
    assert f"warning: git ignores {project / 'out' / 'model.pkl'}" in ignored.stderr
    assert "this artifact will not travel with a clone" in ignored.stderr
    outside = tmp_path / "elsewhere.pkl"
    outside.write_bytes(b"x")
    far = cli(root, "register", "far", str(outside))
    assert f"{outside} is outside the git repository {project}" in far.stderr
    tracked = cli(root, "register", "tracked", str(project / "data.csv"))
    assert tracked.exit_code == 0, tracked.output
    assert "warning" not in tracked.stderr
    api = Registry(root).register("api", str(outside), create_model=True)
    assert len(api.warnings) == 1
    assert "will not travel" in api.warnings[0]


# -- (b)-(d) a local folder store ----------------------------------------------------------


def with_store(root: Path, store: str, extra: str = "") -> None:
    config = root / "registry.yaml"
    config.write_text(config.read_text() + f"artifact_store: {store}\n{extra}")


@pytest.fixture
def stored(tmp_path: Path) -> Registry:
    """A registry whose artifacts go to the folder store/ beside it."""
    root = tmp_path / "registry"
    Registry.init(root)
    (tmp_path / "store").mkdir()
    with_store(root, "../store")
    return Registry(root)


def artifact(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "out" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def store_files(tmp_path: Path) -> list[str]:
    return sorted(
        p.relative_to(tmp_path / "store").as_posix()
        for p in (tmp_path / "store").rglob("*")
        if p.is_file()
    )


def test_register_uploads_content_addressed_and_pull_verifies(
    stored: Registry, tmp_path: Path
) -> None:
    import hashlib

    data = b"weights" * 1000
    sha = hashlib.sha256(data).hexdigest()
    first = stored.register(NAME, str(artifact(tmp_path, "model.pkl", data)), create_model=True)
    assert first.version.artifact_uri == f"../store/blobs/{sha[:2]}/{sha}"
    assert first.warnings == ()
    # The same bytes under another name and model: stored once.
    stored.register("other", str(artifact(tmp_path, "copy.bin", data)), create_model=True)
    assert store_files(tmp_path) == [f"blobs/{sha[:2]}/{sha}"]
    # Another clone: the out/ folder is not there; pull gets the verified bytes.
    (tmp_path / "out" / "model.pkl").unlink()
    pulled = stored.pull_artifact(f"models:/{NAME}/1")
    assert pulled.downloaded
    assert pulled.path.name == "model.pkl"
    assert pulled.path.read_bytes() == data
    # The second pull is a cache hit: no download (the store could even be gone).
    (tmp_path / "store" / "blobs" / sha[:2] / sha).unlink()
    again = stored.pull_artifact(f"models:/{NAME}/1")
    assert (again.path, again.downloaded) == (pulled.path, False)
    assert stored.download_artifacts(f"models:/{NAME}/1") == str(pulled.path)


def test_a_folder_is_stored_as_blobs_and_a_manifest(stored: Registry, tmp_path: Path) -> None:
    import json

    folder = tmp_path / "out" / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    mv = stored.register(NAME, str(folder), create_model=True).version
    assert mv.artifact_uri == f"../store/trees/{mv.artifact_sha256}.json"
    manifest = json.loads((tmp_path / "store" / "trees" / f"{mv.artifact_sha256}.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["a.txt", "sub/b.txt"]
    assert len(store_files(tmp_path)) == 3
    target = tmp_path / "elsewhere"
    got = Path(stored.download_artifacts(f"models:/{NAME}/1", target))
    assert got == target / "model"
    assert (got / "sub" / "b.txt").read_text() == "b"
    assert sorted(p.name for p in target.iterdir()) == ["model"]  # no temporary left


def test_a_tampered_blob_is_exit_7_and_leaves_nothing_in_the_cache(
    stored: Registry, tmp_path: Path, run_cli: Any
) -> None:
    path = artifact(tmp_path, "model.pkl", b"good bytes")
    mv = stored.register(NAME, str(path), create_model=True).version
    assert mv.artifact_uri is not None
    blob = tmp_path / "store" / mv.artifact_uri.removeprefix("../store/")
    blob.write_bytes(b"evil bytes")
    result = run_cli("--registry", str(stored.root), "pull", NAME, "1")
    assert result.returncode == 7
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {NAME} version 1: the artifact at {mv.artifact_uri}")
    assert f"recorded sha256 {mv.artifact_sha256} (10 bytes)" in result.stderr
    assert result.stderr.count("\n") == 1
    cache = Path(os.environ["MODELREG_CACHE"])
    assert list(cache.rglob("*")) == []


def test_resolve_verify_catches_a_changed_local_artifact(
    registry: Registry, tmp_path: Path, run_cli: Any
) -> None:
    path = artifact(tmp_path, "model.pkl", b"v1")
    registry.register(NAME, str(path), create_model=True)
    ok = run_cli("--registry", str(registry.root), "resolve", "--verify", NAME)
    assert (ok.returncode, ok.stdout) == (0, f"{path}\n")
    path.write_bytes(b"v2")
    changed = run_cli("--registry", str(registry.root), "resolve", "--verify", NAME)
    assert changed.returncode == 7
    assert changed.stdout == ""
    assert "found sha256" in changed.stderr
    plain = cli(registry.root, "resolve", NAME)
    assert plain.exit_code == 0  # without --verify: where it is, as before
    path.unlink()
    assert cli(registry.root, "resolve", "--verify", NAME).exit_code == 3


def test_pull_without_a_store_verifies_the_local_artifact(
    registry: Registry, tmp_path: Path
) -> None:
    path = artifact(tmp_path, "model.pkl", b"v1")
    registry.register(NAME, str(path), create_model=True)
    result = cli(registry.root, "pull", NAME)
    assert (result.exit_code, result.stdout) == (0, f"{path}\n")
    copied = cli(registry.root, "pull", NAME, "-o", str(tmp_path / "dst"))
    assert copied.stdout == f"{tmp_path / 'dst' / 'model.pkl'}\n"
    path.write_bytes(b"v2")
    assert cli(registry.root, "pull", NAME).exit_code == 7
    path.unlink()
    gone = cli(registry.root, "pull", NAME)
    assert gone.exit_code == 3
    assert "never uploaded to an artifact store" in gone.stderr


def test_check_artifacts_reports_missing_and_changed(registry: Registry, tmp_path: Path) -> None:
    kept = artifact(tmp_path, "kept.pkl", b"k")
    changed = artifact(tmp_path, "changed.pkl", b"c")
    missing = artifact(tmp_path, "missing.pkl", b"m")
    for name, path in (("a", kept), ("b", changed), ("c", missing)):
        registry.register(name, str(path), create_model=True)
    registry.create_model_version("a", "s3://bucket/remote.pkl")  # not ours to check
    assert cli(registry.root, "check", "--artifacts").exit_code == 0
    changed.write_bytes(b"C")
    missing.unlink()
    result = cli(registry.root, "check", "--artifacts", "-f", "json")
    assert result.exit_code == 7
    import json

    found = {Path(f["path"]).name: f["problem"] for f in json.loads(result.stdout)}
    assert sorted(found) == ["changed.pkl", "missing.pkl"]
    assert "b version 1: changed since it was registered" in found["changed.pkl"]
    assert "c version 1: its artifact is missing" in found["missing.pkl"]
    assert cli(registry.root, "check").exit_code == 0  # only with --artifacts


def test_an_upload_killed_leaves_nothing_complete_and_the_registry_unchanged(
    stored: Registry, tmp_path: Path, run_cli: Any
) -> None:
    path = artifact(tmp_path, "model.pkl", b"x" * 100_000)
    before = sorted(p.relative_to(stored.root) for p in stored.root.rglob("*"))
    result = run_cli(
        "--registry",
        str(stored.root),
        "register",
        NAME,
        str(path),
        env={"MODELREG_TEST_CRASH_AT": "artifact:uploaded"},
    )
    assert result.returncode == -9
    assert sorted(p.relative_to(stored.root) for p in stored.root.rglob("*")) == before
    leftovers = store_files(tmp_path)
    assert len(leftovers) == 1
    assert leftovers[0].startswith("tmp/")  # never under blobs/ or trees/
    # A re-run uploads again and registers; gc removes the leftover.
    assert cli(stored.root, "register", NAME, str(path)).exit_code == 0
    assert cli(stored.root, "gc", "--grace", "0").exit_code == 0
    assert [f.split("/")[0] for f in store_files(tmp_path)] == ["blobs"]


def test_concurrent_uploads_of_the_same_content(stored: Registry, tmp_path: Path) -> None:
    data = os.urandom(3_000_000)
    paths = [artifact(tmp_path, f"m{i}.bin", data) for i in range(3)]
    procs = [
        subprocess.Popen(
            [modelreg_executable(), "--registry", str(stored.root), "register", f"m{i}", str(p)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i, p in enumerate(paths)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert [f.split("/")[0] for f in store_files(tmp_path)] == ["blobs"]
    for i in range(3):
        assert Path(stored.download_artifacts(f"m{i}")).read_bytes() == data


def test_a_missing_store_is_one_line_and_registers_nothing(
    stored: Registry, tmp_path: Path
) -> None:
    (tmp_path / "store").rmdir()
    result = cli(stored.root, "register", NAME, str(artifact(tmp_path, "m.pkl", b"m")))
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: the artifact store ../store does not exist ({tmp_path / 'store'}); create the "
        "folder or fix artifact_store in registry.yaml\n"
    )
    assert not (stored.root / "models" / NAME).exists()


def test_gc_keeps_what_the_retention_policy_keeps(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    Registry.init(root)
    (tmp_path / "store").mkdir()
    with_store(root, "../store", "retention:\n  keep_last: 1\n  keep_aliased: true\n")
    registry = Registry(root)
    shared = b"shared by versions 1 and 4"
    for number, data in enumerate([shared, b"two", b"three", shared, b"five"], start=1):
        path = artifact(tmp_path, f"v{number}.bin", data)
        registry.register(NAME, str(path), create_model=True)
    for number in (1, 2, 3):
        registry.transition_model_version_stage(NAME, number, "Archived")
    registry.set_registered_model_alias(NAME, "old", 3)
    registry.transition_model_version_stage(NAME, 4, "Production")
    dry = cli(root, "gc", "--dry-run", "--grace", "0")
    assert dry.exit_code == 0, dry.output
    import hashlib

    two = hashlib.sha256(b"two").hexdigest()
    # Version 2 is archived, not aliased, not the newest: released. Version 1 is too, but
    # its bytes are version 4's (in Production): they stay.
    assert dry.stdout == f"blobs/{two[:2]}/{two}\t3\n"
    assert "released by retention: churn version 1" in dry.stderr
    assert "released by retention: churn version 2" in dry.stderr
    assert "Would remove 1 object(s), 3 bytes" in dry.stderr
    assert len(store_files(tmp_path)) == 4  # nothing removed by a dry run
    assert cli(root, "gc", "--grace", "0").exit_code == 0
    assert len(store_files(tmp_path)) == 3
    assert Path(registry.download_artifacts(f"models:/{NAME}/3")).read_bytes() == b"three"
    assert cli(root, "gc", "--grace", "0", "-n").stdout == ""
    # The young objects are kept by the grace period.
    assert "Would remove 0 object(s)" in cli(root, "gc", "-n").stderr


@pytest.mark.slow
def test_a_1_gb_artifact_is_registered_and_pulled_in_bounded_memory(
    stored: Registry, tmp_path: Path
) -> None:
    """Streamed: the child processes' peak resident memory stays far below the file."""
    path = tmp_path / "out" / "big.bin"
    path.parent.mkdir()
    marks = {}
    with path.open("wb") as handle:  # sparse but for a few marked blocks: fast to make
        for offset in range(0, 1 << 30, 128 << 20):
            handle.seek(offset)
            marks[offset] = os.urandom(4096)
            handle.write(marks[offset])
        handle.truncate(1 << 30)
    peaks = {}
    outputs = {}
    for command in (["register", NAME, str(path)], ["pull", NAME]):
        proc = subprocess.Popen(
            [modelreg_executable(), "--registry", str(stored.root), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        assert proc.stdout is not None
        assert proc.stderr is not None
        outputs[command[0]] = proc.stdout.read().decode()
        assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read()
        peaks[command[0]] = usage.ru_maxrss * 1024  # kilobytes on Linux
    pulled = Path(outputs["pull"].strip())
    assert pulled != path
    assert pulled.stat().st_size == 1 << 30
    with pulled.open("rb") as handle:  # pull verified every byte; the marks show it is ours
        for offset, mark in marks.items():
            handle.seek(offset)
            assert handle.read(4096) == mark
    assert max(peaks.values()) < 150 * 1024 * 1024, peaks


def test_the_read_path_does_not_import_fsspec(stored: Registry, tmp_path: Path) -> None:
    import sys

    stored.register(NAME, str(artifact(tmp_path, "m.pkl", b"m")), create_model=True)
    code = (
        "import sys\n"
        "from modelreg import quick\n"
        f"for args in (['resolve', '--verify', '{NAME}'], ['list'], ['search'], "
        f"['describe', '{NAME}']):\n"
        f"    assert quick.try_run(['--registry', {str(stored.root)!r}, *args]) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 'typer')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "[]"


def test_pull_and_gc_print_json_and_yaml_that_mean_the_same(
    stored: Registry, tmp_path: Path
) -> None:
    import json

    import yaml

    mv = stored.register(NAME, str(artifact(tmp_path, "m.pkl", b"m")), create_model=True).version
    (tmp_path / "store" / "tmp").mkdir(exist_ok=True)
    (tmp_path / "store" / "tmp" / "left.over").write_bytes(b"xy")
    assert cli(stored.root, "pull", NAME).exit_code == 0  # in the cache from now on
    for command in (["pull", NAME], ["gc", "--dry-run", "--grace", "0"]):
        as_json = cli(stored.root, *command, "-f", "json")
        as_yaml = cli(stored.root, *command, "-f", "yaml")
        assert as_json.exit_code == as_yaml.exit_code == 0, as_json.output
        assert json.loads(as_json.stdout) == yaml.safe_load(as_yaml.stdout)
    pulled = json.loads(cli(stored.root, "pull", NAME, "-f", "json").stdout)
    assert pulled["sha256"] == mv.artifact_sha256
    assert (pulled["downloaded"], pulled["verified"]) == (False, True)  # the cache had it
    assert Path(pulled["path"]).read_bytes() == b"m"
    gone = json.loads(cli(stored.root, "gc", "--dry-run", "--grace", "0", "-f", "json").stdout)
    assert gone == [{"key": "tmp/left.over", "size": 2}]


def test_a_copy_is_pulled_and_verified_as_the_artifact_it_names(
    stored: Registry, tmp_path: Path
) -> None:
    # A copy's source is MLflow's models:/SRC/N: pull and --verify follow it (they failed
    # with "no stored artifact" / "records no sha256" before).
    data = b"weights" * 100
    stored.register(NAME, str(artifact(tmp_path, "model.pkl", data)), create_model=True)
    stored.copy_model_version(f"models:/{NAME}/1", "churn-eu")
    (tmp_path / "out" / "model.pkl").unlink()  # another clone: only the store has it
    pulled = cli(stored.root, "pull", "churn-eu", "1")
    assert pulled.exit_code == 0, pulled.stderr
    assert Path(pulled.stdout.strip()).read_bytes() == data
    # Without a store: the copy verifies the original's local file.
    registry = Registry.init(tmp_path / "plain")
    local = artifact(tmp_path, "local.pkl", b"local weights")
    registry.register("local", str(local), create_model=True)
    registry.copy_model_version("models:/local/1", "local-copy")
    verified = cli(registry.root, "resolve", "--verify", "local-copy")
    assert (verified.exit_code, verified.stdout) == (0, f"{local}\n")
    local.write_bytes(b"changed")
    assert cli(registry.root, "resolve", "--verify", "local-copy").exit_code == 7
    assert cli(registry.root, "pull", "local-copy").exit_code == 7


def test_resolve_of_an_artifact_not_on_this_machine_says_how_to_get_it(
    stored: Registry, tmp_path: Path, run_cli: Any
) -> None:
    # A fresh clone, or a CI runner: the recorded local path is not there. resolve still
    # prints it (exit 0, stdout only the path, as MLflow's download URI would be);
    # stderr says `pull` fetches it when the store has a copy, and that none exists if not.
    kept = artifact(tmp_path, "model.pkl", b"stored bytes")
    stored.register(NAME, str(kept), create_model=True)
    loose = artifact(tmp_path, "loose.pkl", b"loose bytes")
    registry = Registry.init(tmp_path / "without-store")
    registry.register(NAME, str(loose), create_model=True)
    for reg, path, remedy in [
        (stored, kept, f"`modelreg pull {NAME}/1` fetches it from the artifact store"),
        (
            registry,
            loose,
            "no copy of it is in an artifact store (`artifact_store:` in registry.yaml)",
        ),
    ]:
        here = run_cli("--registry", str(reg.root), "resolve", NAME)
        assert (here.returncode, here.stdout, here.stderr) == (0, f"{path}\n", "")
        path.unlink()
        gone = run_cli("--registry", str(reg.root), "resolve", NAME)
        assert (gone.returncode, gone.stdout) == (0, f"{path}\n")
        assert gone.stderr == f"note: {path} is not on this machine; {remedy}\n"
