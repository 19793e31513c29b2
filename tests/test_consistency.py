"""Readers never see a write half-applied: a promotion with --archive-existing changes two
version files and model.yaml, and a reader at any instant finds the old or the new
Production version, never none (issue 12, item 2). The same holds for every write that
changes several files, through the write counter in ``.modelreg.seq``.

Writers and readers are real processes (the ``modelreg`` executable, or Python code using
:class:`Registry`); a writer killed half-way never makes readers hang.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from _safety import git
from conftest import modelreg_executable
from modelreg import Registry
from modelreg.errors import NotFoundError
from modelreg.refs import parse_uri
from modelreg.store import SEQ_FILE

# Promotes versions 1 and 2 to Production in turn, archiving the other, until told to stop.
API_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from modelreg import Registry

    root, stop, count = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    registry = Registry(root)
    done = 0
    while not stop.exists():
        registry.transition_model_version_stage("m", 2 - done % 2, "Production", True)
        done += 1
        count.write_text(str(done))
    """
)
CLI_WRITER = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path

    exe, root, stop, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    done = 0
    while not stop.exists():
        subprocess.run(
            [exe, "--registry", root, "transition", "m", str(2 - done % 2), "Production",
             "--archive-existing"],
            check=True, capture_output=True,
        )
        done += 1
        count.write_text(str(done))
    """
)


def promoted_registry(tmp_path: Path) -> Registry:
    registry = Registry.init(tmp_path / "registry")
    registry.register("m", "s3://bucket/one", create_model=True)
    registry.register("m", "s3://bucket/two")
    registry.transition_model_version_stage("m", 1, "Production")
    return registry


class Writer:
    """A writer process promoting in a loop while the test reads."""

    def __init__(self, tmp_path: Path, root: Path, *, cli: bool) -> None:
        self.stop = tmp_path / "stop"
        self.count = tmp_path / "count"
        if cli:
            argv = ["-c", CLI_WRITER, modelreg_executable(), str(root)]
        else:
            argv = ["-c", API_WRITER, str(root)]
        self.proc = subprocess.Popen(
            [sys.executable, *argv, str(self.stop), str(self.count)],
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while self.promotions() < 2:  # running, past its start-up
            assert self.proc.poll() is None, self.proc.communicate()[1]
            assert time.monotonic() < deadline, "the writer made no promotion"
            time.sleep(0.01)

    def promotions(self) -> int:
        try:
            return int(self.count.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def finish(self) -> int:
        self.stop.touch()
        _, stderr = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, stderr
        return self.promotions()


def api_reads(root: Path, reads: int) -> Counter[str]:
    """Resolve Production ``reads`` times in this process; what each read found."""
    seen: Counter[str] = Counter()
    registry = Registry(root, hooks=False)
    ref = parse_uri("models:/m/Production")
    for _ in range(reads):
        try:
            seen[registry.resolve_version(ref).source] += 1
        except Exception as exc:
            seen[f"miss: {exc}"] += 1
    return seen


def cli_reads(root: Path, reads: int) -> Counter[str]:
    """Resolve Production ``reads`` times with the executable (its fast read path)."""
    seen: Counter[str] = Counter()
    for _ in range(reads):
        proc = subprocess.run(
            [modelreg_executable(), "--registry", str(root), "resolve", "models:/m/Production"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode == 0 and proc.stdout in ("s3://bucket/one\n", "s3://bucket/two\n"):
            seen[proc.stdout.strip()] += 1
        else:
            seen[f"miss: exit {proc.returncode}: {proc.stdout!r} {proc.stderr.strip()}"] += 1
    return seen


def race(tmp_path: Path, *, cli_writer: bool, api: int, cli: int, promotions: int = 10) -> None:
    """Read in rounds of ``api`` reads through Registry and ``cli`` through the
    executable, until there were at least 1,000 reads (or one round, when fewer are
    asked for) and ``promotions`` promotions happened while reading."""
    registry = promoted_registry(tmp_path)
    writer = Writer(tmp_path, registry.root, cli=cli_writer)
    seen: Counter[str] = Counter()
    deadline = time.monotonic() + 1800  # only against a writer that stopped promoting
    try:
        start = writer.promotions()
        while True:
            seen += api_reads(registry.root, api) + cli_reads(registry.root, cli)
            during = writer.promotions() - start
            if during >= promotions and sum(seen.values()) >= min(api + cli, 1000):
                break
            assert time.monotonic() < deadline, (seen, during)
    finally:
        writer.finish()
    reads = sum(seen.values())
    misses = {found: count for found, count in seen.items() if found.startswith("miss")}
    assert misses == {}, f"{sum(misses.values())} of {reads} reads missed: {misses}"
    assert len(seen) == 2, seen  # both versions were seen in Production
    assert registry.get_latest_versions("m", ["Production"])  # and one is there now


def test_reads_never_miss_production_during_promotions(tmp_path: Path) -> None:
    race(tmp_path, cli_writer=False, api=100, cli=2)


def test_reads_never_miss_production_during_cli_promotions(tmp_path: Path) -> None:
    race(tmp_path, cli_writer=True, api=100, cli=2, promotions=5)


@pytest.mark.slow
def test_thousands_of_reads_race_promotions(tmp_path: Path) -> None:
    race(tmp_path, cli_writer=False, api=1500, cli=0, promotions=50)


@pytest.mark.slow
def test_a_thousand_cli_reads_race_cli_promotions(tmp_path: Path) -> None:
    race(tmp_path, cli_writer=True, api=0, cli=1000, promotions=50)


def test_the_counter_is_even_after_every_write(registry: Registry) -> None:
    seq = registry.root / SEQ_FILE
    registry.register("m", "s3://a", create_model=True)
    first = int(seq.read_text())
    registry.register("m", "s3://b")
    registry.set_registered_model_alias("m", "champion", 2)
    assert first % 2 == 0
    assert int(seq.read_text()) == first + 4  # two writes, odd then even each
    registry.update_model_version("m", 1, description=None)  # changes nothing
    with pytest.raises(NotFoundError):
        registry.update_model_version("m", 9, "x")
    assert int(seq.read_text()) == first + 4  # writes that changed no file leave it


def test_a_registry_without_counter_is_read(registry: Registry) -> None:
    registry.register("m", "s3://a", create_model=True)
    (registry.root / SEQ_FILE).unlink()  # as in a registry made before it
    assert Registry(registry.root).resolve_version(parse_uri("models:/m/1")).source == "s3://a"


@pytest.mark.parametrize(
    ("point", "cli"),
    [("seq:odd", False), ("transition:archived_one", False), ("transition:archived_one", True)],
)
def test_a_writer_killed_mid_write_does_not_stop_readers(
    registry: Registry, point: str, cli: bool
) -> None:
    """Killed after making the counter odd (just after, or after archiving the old
    Production version): readers see the lock free and read what is there; the next
    write makes the counter even again."""
    registry.register("m", "s3://bucket/one", create_model=True)
    registry.register("m", "s3://bucket/two")
    registry.transition_model_version_stage("m", 1, "Production")
    env = {**os.environ, "MODELREG_TEST_CRASH_AT": point}
    args = ["--registry", str(registry.root), "transition", "m", "2", "Production"]
    proc = subprocess.run(
        [modelreg_executable(), *args, "--archive-existing"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL
    seq = registry.root / SEQ_FILE
    assert int(seq.read_text()) % 2 == 1  # killed between the two counter writes
    if cli:
        read = subprocess.run(
            [modelreg_executable(), "--registry", str(registry.root), "list", "m"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert read.returncode == 0, read.stderr
        assert "Archived" in read.stdout
    else:
        stages = {mv.version: mv.current_stage for mv in Registry(registry.root).list_versions("m")}
        # What the killed write left: nothing yet, or the old version archived.
        archived = "Archived" if point == "transition:archived_one" else "Production"
        assert stages == {1: archived, 2: "None"}
    Registry(registry.root).set_registered_model_tag("m", "after", "crash")
    assert int(seq.read_text()) % 2 == 0


def test_the_counter_is_git_ignored(registry: Registry) -> None:
    registry.register("m", "s3://a", create_model=True)
    assert (registry.root / SEQ_FILE).exists()
    assert SEQ_FILE in (registry.root / ".gitignore").read_text().splitlines()


OLD_GITIGNORE = """\
# modelreg: lock file, temporary files of interrupted writes, caches, deleted models
.modelreg.lock
*.tmp
.cache/
.trash/
"""


def test_a_registry_made_before_the_counter_keeps_it_out_of_git(repo: Path) -> None:
    """An existing registry's .gitignore lacks the counter: the first write adds it, so
    `git status` never lists the counter as an untracked file."""
    root = repo / "registry"
    Registry.init(root)
    (root / ".gitignore").write_text(OLD_GITIGNORE)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a registry from before the counter")
    Registry(root).register("m", "s3://a", create_model=True)
    assert (root / SEQ_FILE).exists()
    lines = (root / ".gitignore").read_text().splitlines()
    assert lines[lines.index(".modelreg.lock") + 1] == SEQ_FILE
    assert git(repo, "check-ignore", f"registry/{SEQ_FILE}") == f"registry/{SEQ_FILE}"
    untracked = git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert [line for line in untracked if line.startswith("??")] == [
        "?? registry/models/m/model.yaml",
        "?? registry/models/m/versions/1.yaml",
    ]


def test_a_gitignore_modelreg_did_not_write_is_left_alone(registry: Registry) -> None:
    own = "# the team's own rules\n*.pkl\n"
    (registry.root / ".gitignore").write_text(own)
    registry.register("m", "s3://a", create_model=True)
    assert (registry.root / ".gitignore").read_text() == own
