"""Output for people and for pipes: tables that fit the terminal (60, 80, 120 columns),
no escape codes where colour is off, no trailing whitespace, and writes that say in one
line what they did (the record only when a --format asks for it)."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import modelreg_executable
from modelreg import Registry
from modelreg.cli import app
from modelreg.render import shorten, text_width

NAME = "churn-predictor"
RUN_IDS = [f"{n}f9a1c0d2b9e8f7a6b5c4d3e2f1a0b9c" for n in (1, 2, 3)]
SOURCES = [f"s3://ml-artifacts/churn-predictor/2026-1{n}/model.pkl" for n in (1, 2, 3)]
WIDTHS = (60, 80, 120)
READS = [
    ("list",),
    ("list", NAME),
    ("search", f"name = '{NAME}'"),
    ("search", "--models"),
    ("describe", NAME),
    ("describe", NAME, "2"),
    ("history", NAME),
]
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def build(registry: Registry) -> None:
    registry.create_registered_model(
        NAME,
        tags={"team": "growth", "owner": "data-science"},
        description="Predicts which customers leave next month, trained on the usage tables",
    )
    for run_id, source in zip(RUN_IDS, SOURCES, strict=True):
        registry.create_model_version(NAME, source, run_id=run_id)
    registry.transition_model_version_stage(NAME, 1, "Production")
    registry.transition_model_version_stage(
        NAME, 2, "Staging", comment="shadow traffic for two weeks before the switch"
    )
    registry.set_registered_model_alias(NAME, "champion", 1)
    registry.create_registered_model("fraud")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One registry for the read-only tests."""
    base = tmp_path_factory.mktemp("terminal")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)
        patch.setenv("MODELREG_USER", "maintainers@users.noreply.example.com")
        build(Registry.init(base / "registry"))
    return base / "registry"


def invoke(root: Path, *args: str, columns: int = 200) -> Result:
    result = CliRunner().invoke(
        app, ["--registry", str(root), *args], env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def assert_fits(text: str, width: int) -> None:
    for line in text.splitlines():
        assert text_width(line) <= width, f"{len(line)} > {width}: {line!r}"
        assert line == line.rstrip(), f"trailing whitespace: {line!r}"


# -- tables fit the terminal -------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_every_read_fits_the_width_without_trailing_spaces(
    shared: Path, args: tuple[str, ...], width: int
) -> None:
    out = invoke(shared, *args, columns=width).stdout
    assert_fits(out, width)
    assert "\x1b" not in out


def table(lines: list[str]) -> list[dict[str, str]]:
    """The rows of a drawn table, cut at the columns of its header."""
    header, *rows = lines
    starts = [match.start() for match in re.finditer(r"\S+", header)]
    ends = [*starts[1:], None]
    spans = list(zip(header.split(), starts, ends, strict=True))
    return [{name: row[start:end].strip() for name, start, end in spans} for row in rows]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_version_list_is_one_readable_line_per_version(shared: Path, width: int) -> None:
    rows = table(invoke(shared, "list", NAME, columns=width).stdout.splitlines())
    assert len(rows) == 3  # no row folded over several lines
    assert [(row["name"], row["version"], row["stage"]) for row in rows] == [
        (NAME, "1", "Production"),
        (NAME, "2", "Staging"),
        (NAME, "3", "None"),
    ]
    assert [row["aliases"] for row in rows] == ["champion", "", ""]
    # A path is shortened before its file name.
    assert all(
        row["source"].startswith("s") and row["source"].endswith("/model.pkl") for row in rows
    )
    if width >= 80:  # the run id is shortened in the middle: both ends recognisable
        assert [row["run_id"][:4] for row in rows] == ["1f9a", "2f9a", "3f9a"]
        assert all(row["run_id"].endswith("0b9c") and "…" in row["run_id"] for row in rows)
        # ... and the folders that tell the sources apart stay visible
        assert [row["source"][-12:] for row in rows] == [s[-12:] for s in SOURCES]
    if width >= 120:
        assert all(row["created"].startswith("20") for row in rows)


def test_a_wide_terminal_shows_whole_values(shared: Path) -> None:
    rows = invoke(shared, "list", NAME, columns=200).stdout.splitlines()[1:]
    assert RUN_IDS[0] in rows[0] and SOURCES[0] in rows[0]
    assert "…" not in "".join(rows)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_model_list_and_history_stay_tables(shared: Path, width: int) -> None:
    models = invoke(shared, "list", columns=width).stdout.splitlines()
    assert [line.split()[0] for line in models] == ["name", NAME, "fraud"]
    assert models[1].split()[1:3] == ["3", "champion=1"]
    history = invoke(shared, "history", NAME, columns=width).stdout.splitlines()
    if width >= 80:
        assert len(history) == 1 + 7  # the header and one line per event
        assert "version_registered" in history[2] and "None -> Production" in history[5]
    else:  # too narrow for five columns: one block of field lines per event
        assert history.count("") == 6
        assert "action   version_registered" in history
        assert "details  None -> Production" in history


@pytest.mark.parametrize("width", WIDTHS)
def test_describe_folds_long_values_under_their_field(shared: Path, width: int) -> None:
    lines = invoke(shared, "describe", NAME, "1", columns=width).stdout.splitlines()
    fields = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert fields[:3] == ["name", "version", "creation_timestamp"]
    assert "artifact_sha256" in fields and "lineage" in fields  # every field, in order
    text = "".join(line.strip() for line in lines)  # folded values are whole
    assert SOURCES[0] in text and RUN_IDS[0] in text


def test_control_characters_are_never_sent_to_the_terminal(tmp_path: Path) -> None:
    registry = Registry.init(tmp_path / "registry")
    registry.create_registered_model("m", description="evil\x1b[2J\x07 text\nsecond line")
    out = invoke(registry.root, "list", columns=80).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "evil\\x1b[2J\\x07 text second line" in out
    card = invoke(registry.root, "describe", "m", columns=80).stdout
    assert "\x1b" not in card and "second line" in card.splitlines()[-1] + card


def test_shorten() -> None:
    assert shorten(RUN_IDS[0], 9, "middle") == "1f9a…0b9c"
    assert shorten("short", 9, "middle") == "short"
    assert shorten("a long description", 10) == "a long de…"
    path = shorten(SOURCES[0], 24, "path")
    assert path.startswith("s3:") and path.endswith("/2026-11/model.pkl") and len(path) == 24
    wide = shorten("模型注册表模型注册表", 7)
    assert text_width(wide) <= 7 and wide.endswith("…")


# -- a real terminal, and pipes -------------------------------------------------------------


def run_in_terminal(args: list[str], width: int, env: dict[str, str]) -> str:
    """Run the installed modelreg with its output on a pseudo-terminal ``width`` wide."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
    process = subprocess.Popen(
        [modelreg_executable(), *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        assert ready, "modelreg did not finish"
        try:
            chunk = os.read(controller, 65536)
        except OSError as exc:  # Linux: EIO once the child has closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=30) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def terminal_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env.pop("NO_COLOR", None)
    env.update(TERM="xterm-256color", **extra)
    return env


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [("list", NAME), ("list",), ("describe", NAME, "2")], ids=" ".join)
def test_in_a_real_terminal_tables_fit_and_headers_are_bold(
    shared: Path, args: tuple[str, ...], width: int
) -> None:
    screen = run_in_terminal(["--registry", str(shared), *args], width, terminal_env())
    assert "\x1b[1m" in screen  # colour is on: bold headers (and the test can see them)
    plain = ESCAPE.sub("", screen)
    assert_fits(plain, width)
    assert NAME in plain


@pytest.mark.parametrize("args", [("list", NAME), ("describe", NAME, "2"), ("history", NAME)])
def test_no_color_means_no_escape_codes_in_a_terminal(shared: Path, args: tuple[str, ...]) -> None:
    env = terminal_env(NO_COLOR="1")
    screen = run_in_terminal(["--registry", str(shared), *args], 80, env)
    assert "\x1b" not in screen
    assert_fits(screen, 80)
    # An empty NO_COLOR does not count (https://no-color.org).
    assert "\x1b[1m" in run_in_terminal(
        ["--registry", str(shared), *args], 80, terminal_env(NO_COLOR="")
    )


@pytest.mark.parametrize("fmt", ["table", "json", "yaml", "plain"])
@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_in_a_pipe_no_escape_codes_and_no_trailing_spaces(
    shared: Path, args: tuple[str, ...], fmt: str
) -> None:
    env = terminal_env(FORCE_COLOR="1", TTY_COMPATIBLE="1")  # not a terminal all the same
    done = subprocess.run(
        [modelreg_executable(), "--registry", str(shared), *args, "--format", fmt],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "\x1b" not in done.stdout + done.stderr
    for line in done.stdout.splitlines():
        assert not line.endswith(" "), line
        if fmt == "table":
            assert line == line.rstrip()
    if fmt == "plain":  # a field per column, so an empty last field keeps its tab
        assert len({line.count("\t") for line in done.stdout.splitlines()}) == 1
    if fmt == "table" and args[0] in ("list", "search"):
        # Into a pipe nothing is shortened: whole values, one line per record.
        assert "…" not in done.stdout


# -- writes say what they did ------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    registry = Registry.init(tmp_path / "registry")
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, "s3://bucket/churn/1", run_id="run1")
    registry.create_model_version(NAME, "s3://bucket/churn/2", run_id="run2")
    registry.transition_model_version_stage(NAME, 1, "Production")
    return registry.root


WRITES = [
    (["create", "fraud"], "Created model fraud"),
    (["register", NAME, "s3://bucket/churn/3"], f"Registered {NAME} version 3"),
    (["tag", NAME, "2", "k=v"], f"Updated the tags of {NAME} version 2"),
    (["tag", NAME, "k=v"], f"Updated the tags of model {NAME}"),
    (["update", NAME, "2", "-d", "new"], f"Updated the description of {NAME} version 2"),
    (["transition", NAME, "2", "Staging"], f"{NAME} version 2: None -> Staging"),
    (
        ["transition", NAME, "2", "Production", "--archive-existing"],
        f"{NAME} version 2: None -> Production (archived 1)",
    ),
    (["archive", NAME, "2"], f"{NAME} version 2: None -> Archived"),
    (["alias", NAME, "champion", "1"], f"{NAME}@champion -> version 1"),
    (["request", NAME, "2", "Staging"], f"Requested: {NAME} version 2 -> Staging"),
    (["comment", NAME, "2", "looks good"], f"Commented on {NAME} version 2"),
    (["delete", NAME, "2", "--yes"], f"Deleted {NAME} version 2"),
]


@pytest.mark.parametrize(("args", "said"), WRITES, ids=[" ".join(a[:2]) for a, _ in WRITES])
def test_a_write_says_in_one_line_what_it_did_and_prints_nothing(
    root: Path, args: list[str], said: str
) -> None:
    result = invoke(root, *args)
    assert result.stdout == ""
    assert result.stderr == said + "\n"


@pytest.mark.parametrize(("args", "said"), WRITES, ids=[" ".join(a[:2]) for a, _ in WRITES])
def test_a_write_prints_its_record_when_a_format_is_given(
    root: Path, args: list[str], said: str
) -> None:
    result = invoke(root, *args, "--format", "json")
    assert result.stderr == said + "\n"
    record = json.loads(result.stdout)
    assert record["name"] == args[1]


def test_alias_delete_and_init_follow_the_same_rule(root: Path, tmp_path: Path) -> None:
    invoke(root, "alias", NAME, "champion", "1")
    deleted = invoke(root, "alias", NAME, "champion", "--delete")
    assert deleted.stdout == "" and deleted.stderr.count("\n") == 1
    created = CliRunner().invoke(app, ["init", str(tmp_path / "another")])
    assert created.exit_code == 0 and created.stdout == ""
    plain = CliRunner().invoke(app, ["init", str(tmp_path / "third"), "--format", "plain"])
    assert plain.stdout == f"{(tmp_path / 'third').resolve()}\n"


def test_the_readme_capture_of_a_new_version_number_still_works(root: Path) -> None:
    sh = shutil.which("sh")
    assert sh
    script = (
        f'VERSION=$("$MODELREG" --registry "$ROOT" register {NAME} s3://bucket/churn/9 '
        '--format plain | cut -f2); echo "got $VERSION"'
    )
    env = {**os.environ, "MODELREG": modelreg_executable(), "ROOT": str(root)}
    done = subprocess.run([sh, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert done.stdout == "got 3\n"
    assert done.stderr == f"Registered {NAME} version 3\n"
    quiet = subprocess.run(
        [modelreg_executable(), "--registry", str(root), "tag", NAME, "3", "k=v"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert quiet.stdout == "" and quiet.stderr == f"Updated the tags of {NAME} version 3\n"
