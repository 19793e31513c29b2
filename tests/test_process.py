"""The programs modelreg runs: one runner (process group, timeout, kill) and one
vocabulary of MODELREG_* variables for validation checks and command hooks alike."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modelreg import Registry, process

DUMP = """\
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("MODELREG_")}
with open(sys.argv[1] + ".json", "w") as out:
    json.dump(env, out)
"""

VOCABULARY = (
    "MODELREG_MODEL_NAME",
    "MODELREG_MODEL_VERSION",
    "MODELREG_MODEL_URI",
    "MODELREG_CURRENT_STAGE",
    "MODELREG_FROM_STAGE",
    "MODELREG_TO_STAGE",
    "MODELREG_SOURCE",
    "MODELREG_RUN_ID",
    "MODELREG_REGISTRY",
)


def test_checks_and_hooks_get_one_vocabulary_with_one_meaning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 13 #4: checks got MODELREG_NAME and MODELREG_STAGE = the target stage, hooks
    MODELREG_MODEL_NAME and MODELREG_STAGE = the current stage; the source was absolute
    for one and relative for the other."""
    root = Registry.init(tmp_path / "registry").root
    (root / "dump.py").write_text(DUMP)
    (root / "registry.yaml").write_text(
        textwrap.dedent(f"""\
        modelreg: 1
        stages: [None, Staging, Production, Archived]
        rules:
          stages:
            Production:
              checks:
              - name: env
                run: {sys.executable} dump.py check
        hooks:
        - name: env
          kind: command
          events: [model_version.stage_changed]
          filter: "stage = 'Production'"
          command: [{sys.executable}, dump.py, hook]
        """)
    )
    monkeypatch.setenv("MODELREG_TRUST", "1")  # the hooks and the checks are the test's
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    registry = Registry(root)
    registry.register("churn", str(artifact), create_model=True, run_id="abc123")
    registry.transition_model_version_stage("churn", 1, "Staging")
    registry.promote("churn", 1, "Production")
    check = json.loads((root / "check.json").read_text())
    hook = json.loads((root / "hook.json").read_text())

    for name in VOCABULARY:
        assert name in check and name in hook, name
    same = [name for name in VOCABULARY if name != "MODELREG_CURRENT_STAGE"]
    assert {name: check[name] for name in same} == {name: hook[name] for name in same}
    assert check["MODELREG_MODEL_URI"] == "models:/churn/1"
    assert (check["MODELREG_FROM_STAGE"], check["MODELREG_TO_STAGE"]) == ("Staging", "Production")
    assert Path(check["MODELREG_SOURCE"]) == artifact.resolve()
    assert Path(check["MODELREG_REGISTRY"]) == root.resolve()
    assert check["MODELREG_RUN_ID"] == "abc123"
    # the stage the version is in now: before the move for a check, after it for a hook
    assert (check["MODELREG_CURRENT_STAGE"], hook["MODELREG_CURRENT_STAGE"]) == (
        "Staging",
        "Production",
    )
    # today's names keep working, each with its old meaning
    for env in (check, hook):
        assert env["MODELREG_NAME"] == env["MODELREG_MODEL_NAME"] == "churn"
        assert env["MODELREG_VERSION"] == env["MODELREG_MODEL_VERSION"] == "1"
    assert check["MODELREG_STAGE"] == check["MODELREG_TO_STAGE"]
    assert hook["MODELREG_STAGE"] == hook["MODELREG_CURRENT_STAGE"]


def test_the_runner_streams_lines_feeds_stdin_and_keeps_stderr_apart(tmp_path: Path) -> None:
    code = "import sys; data = sys.stdin.read(); print('got', data); print('oops', file=sys.stderr)"
    lines: list[str] = []
    finished = process.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={},
        timeout=30,
        stdin=b"hello",
        on_line=lines.append,
    )
    assert (finished.exit_code, finished.timed_out) == (0, False)
    assert lines == ["got hello"]
    assert finished.stdout.decode().splitlines() == ["got hello"]
    assert finished.stderr.decode().strip() == "oops"
    merged = process.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={}, timeout=30, merge_stderr=True
    )
    assert sorted(merged.stdout.decode().split()) == ["got", "oops"]


@pytest.mark.skipif(os.name != "posix", reason="process groups")
def test_a_timeout_stops_the_program_and_everything_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    finished = process.run(
        f"sleep 60 & echo $! > {pid_file}; wait",
        cwd=tmp_path,
        env={},
        timeout=0.5,
    )
    assert finished.exit_code is None and finished.timed_out
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10  # the kill is sent; the kernel may take a moment
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its new parent to reap it is dead too.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")", 1)[-1].split()[0] == "Z")


def test_a_program_that_cannot_start_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        process.run([str(tmp_path / "missing")], cwd=tmp_path, env={}, timeout=5)
