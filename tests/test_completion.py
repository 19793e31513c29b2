"""Shell completion: real bash sourcing the script of ``modelreg --show-completion bash``
and asking the real ``modelreg`` process, as it does at a terminal; zsh's and fish's
answers from the same process; what is read (the registry's words, from format 2's
files and format 1's model.yaml) and what is not written (nothing)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from conftest import modelreg_executable
from modelreg import Registry, completion
from modelreg.cli import app
from modelreg.cli import completion as cli_completion
from modelreg.completion_table import TABLE
from modelreg.config import DEFAULT_STAGES

BASH = shutil.which("bash")
HOOKS = """\
hooks:
- name: slack
  kind: command
  command: "true"
  events: [model_version.created]
- name: audit-log
  kind: command
  command: "true"
  events: ["*"]
"""


def _build(root: Path, *, file_format: int = 2) -> Path:
    """churn: versions 1, 2, 4 (3 deleted), aliases champion -> 2 and challenger -> 4
    (old, deleted); fraud: version 1; and two hooks in registry.yaml."""
    registry = Registry.init(
        root,
        stages=["None", "Staging", "Production", "Archived", "Canary"],
        file_format=file_format,
    )
    registry.create_registered_model("churn")
    registry.create_registered_model("fraud")
    for _ in range(4):
        registry.create_model_version("churn", "s3://bucket/churn")
    registry.create_model_version("fraud", "s3://bucket/fraud")
    registry.delete_model_version("churn", 3)
    registry.set_registered_model_alias("churn", "champion", 2)
    registry.set_registered_model_alias("churn", "challenger", 4)
    registry.set_registered_model_alias("churn", "old", 1)
    registry.delete_registered_model_alias("churn", "old")
    config = root / "registry.yaml"
    config.write_text(config.read_text() + HOOKS)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("completion") / "registry")


def _bash_words(line: str) -> tuple[list[str], int]:
    """``line`` split into COMP_WORDS as bash splits it: at blanks, and at ':', '@' and
    '=' (COMP_WORDBREAKS), which become words of their own."""
    words: list[str] = []
    for blank_separated in line.split(" "):
        if not blank_separated:
            continue
        current = ""
        for char in blank_separated:
            if (char in ":@=") != (current[-1:] in (":", "@", "=")) and current:
                words.append(current)
                current = ""
            current += char
        words.append(current)
    if line.endswith(" "):
        words.append("")
    return words, len(words) - 1


def _run_bash(cases: list[tuple[str, ...]], env: dict[str, str]) -> dict[str, list[str]]:
    """Source the script ``modelreg --show-completion bash`` prints, then for each case
    (a line, or a line and False for Typer's protocol without COMP_LINE) set COMP_WORDS,
    COMP_CWORD, COMP_LINE and COMP_POINT as bash does and call the completion function;
    COMPREPLY for each line."""
    if BASH is None:
        pytest.skip("bash is not installed")
    script = subprocess.run(
        [modelreg_executable(), "--show-completion", "bash"],
        capture_output=True, text=True, check=True, env={**os.environ, **env},
    ).stdout  # fmt: skip
    lines = [script, f'PATH={Path(modelreg_executable()).parent}:"$PATH"']
    for case in cases:
        line = case[0]
        words, cword = _bash_words(line)
        quoted = " ".join(_quote(word) for word in words)
        lines.append(f"COMP_WORDS=({quoted}); COMP_CWORD={cword}")
        if len(case) == 1:
            lines.append(f"COMP_LINE={_quote(line)}; COMP_POINT={len(line)}")
        else:
            lines.append("unset COMP_LINE COMP_POINT")
        lines.append("COMPREPLY=(); _modelreg_completion modelreg")
        label = line if len(case) == 1 else f"{line} (COMP_WORDS only)"
        lines.append(f"printf '%s\\n' {_quote('### ' + label)} \"${{COMPREPLY[@]}}\"")
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", "\n".join(lines)],
        capture_output=True, text=True, check=False, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for out in done.stdout.splitlines():
        if out.startswith("### "):
            current = found.setdefault(out[4:], [])
        elif out:
            current.append(out)
    return found


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under ``root``: its mtime and content hash."""
    found = {}
    for path in [root, *root.rglob("*")]:
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(root))] = (stat.st_mtime_ns, digest)
    return found


def test_real_bash_completes_commands_options_and_the_registrys_words(
    built: Path, tmp_path: Path
) -> None:
    other = Registry.init(tmp_path / "other")
    other.create_registered_model("elsewhere")
    other.create_model_version("elsewhere", "s3://x")
    before = _snapshot(built)
    got = _run_bash(
        [
            ("modelreg ",),
            ("modelreg desc",),
            ("modelreg hooks t",),
            ("modelreg describe ",),
            ("modelreg describe ch",),
            ("modelreg describe churn ",),
            ("modelreg describe churn @",),
            ("modelreg describe churn@",),
            ("modelreg describe churn@ch",),
            ("modelreg describe churn@", False),  # Typer's protocol: COMP_WORDS only
            ("modelreg describe churn@ch", False),
            ("modelreg describe models:/",),
            ("modelreg describe models:/ch",),
            ("modelreg describe models:/churn/",),
            ("modelreg describe models:/churn@",),
            ("modelreg resolve mo",),
            ("modelreg transition churn 2 ",),
            ("modelreg transition churn@champion P",),
            ("modelreg promote churn 2 can",),
            ("modelreg alias churn ",),
            ("modelreg alias churn champion ",),
            ("modelreg compare churn 1 ",),
            ("modelreg register fraud s3://x --stage ",),
            ("modelreg describe --f",),
            ("modelreg list --format ",),
            ("modelreg list --format=j",),
            ("modelreg hooks test ",),
            ("modelreg hooks log --hook a",),
            ("modelreg --show-completion ",),
            (f"modelreg --registry {other.root} describe ",),
            (f"modelreg -r {other.root} list ",),
        ],
        {"MODELREG_REGISTRY": str(built)},
    )
    assert {"describe", "transition", "hooks", "alias", "diff"} <= set(got["modelreg "])
    assert got["modelreg desc"] == ["describe"]
    assert got["modelreg hooks t"] == ["trust", "test"]
    assert got["modelreg describe "] == ["churn", "fraud"]
    assert got["modelreg describe ch"] == ["churn"]
    selectors = ["1", "2", "4", "latest", "None", "Staging", "Production", "Archived", "Canary"]
    # Version 3 is deleted, alias 'old' too.
    assert got["modelreg describe churn "] == [*selectors, "@challenger", "@champion"]
    assert got["modelreg describe churn @"] == ["@challenger", "@champion"]
    # bash replaces the word after the '@' it split at: '@', then 'ch'.
    assert got["modelreg describe churn@"] == ["@challenger", "@champion"]
    assert got["modelreg describe churn@ch"] == ["challenger", "champion"]
    assert got["modelreg describe churn@ (COMP_WORDS only)"] == ["@challenger", "@champion"]
    assert got["modelreg describe churn@ch (COMP_WORDS only)"] == ["challenger", "champion"]
    assert got["modelreg describe models:/"] == [
        "/churn/", "/churn@", "/fraud/", "/fraud@"
    ]  # fmt: skip
    assert got["modelreg describe models:/ch"] == ["/churn/", "/churn@"]
    assert got["modelreg describe models:/churn/"] == [f"/churn/{word}" for word in selectors]
    assert got["modelreg describe models:/churn@"] == ["@challenger", "@champion"]
    assert got["modelreg resolve mo"] == ["models:/"]
    assert got["modelreg transition churn 2 "] == selectors[4:]
    assert got["modelreg transition churn@champion P"] == ["Production"]
    assert got["modelreg promote churn 2 can"] == ["Canary"]
    assert got["modelreg alias churn "] == ["challenger", "champion"]
    assert got["modelreg alias churn champion "] == [*selectors, "@challenger", "@champion"]
    assert got["modelreg compare churn 1 "] == [*selectors, "@challenger", "@champion"]
    assert got["modelreg register fraud s3://x --stage "] == selectors[4:]
    assert got["modelreg describe --f"] == ["--format"]
    assert got["modelreg list --format "] == ["table", "json", "yaml", "plain"]
    assert got["modelreg list --format=j"] == ["json"]
    assert got["modelreg hooks test "] == ["slack", "audit-log"]
    assert got["modelreg hooks log --hook a"] == ["audit-log"]
    assert got["modelreg --show-completion "] == ["bash", "zsh", "fish"]
    assert got[f"modelreg --registry {other.root} describe "] == ["elsewhere"]
    assert got[f"modelreg -r {other.root} list "] == ["elsewhere"]
    # Completing wrote nothing: no lock file, no cache, no log, not a byte changed.
    assert _snapshot(built) == before


def _complete(
    shell: str, line: str, env: dict[str, str], action: str = "get-args"
) -> subprocess.CompletedProcess[str]:
    """The real ``modelreg`` asked as zsh and fish ask (Typer's scripts)."""
    return subprocess.run(
        [modelreg_executable()],
        capture_output=True, text=True, check=False, timeout=60,
        env={
            **os.environ, **env, "_MODELREG_COMPLETE": f"complete_{shell}",
            "_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": action,
        },
    )  # fmt: skip


def test_zsh_and_fish_get_their_scripts_and_answers(built: Path) -> None:
    env = {"MODELREG_REGISTRY": str(built)}
    for shell, expected in (
        ("zsh", "compdef _modelreg_completion modelreg"),
        ("fish", "complete --command modelreg"),
    ):
        shown = CliRunner().invoke(app, ["--show-completion", shell]).stdout
        assert expected in shown
        assert f"_MODELREG_COMPLETE=complete_{shell}" in shown
        sourced = subprocess.run(
            [modelreg_executable()], capture_output=True, text=True, check=True,
            env={**os.environ, "_MODELREG_COMPLETE": f"source_{shell}"},
        ).stdout  # fmt: skip
        assert sourced == shown
    zsh = _complete("zsh", "modelreg describe churn@", env)
    assert (
        zsh.stdout
        == '_arguments \'*: :(("churn@challenger":"alias"\n"churn@champion":"alias"))\'\n'
    )
    assert _complete("zsh", "modelreg describe nothing@", env).stdout == "_files\n"
    fish = _complete("fish", "modelreg hooks test ", env)
    assert fish.stdout == "slack\thook\naudit-log\thook\n"
    assert _complete("fish", "modelreg describe ", env, "is-args").returncode == 0
    assert _complete("fish", "modelreg init ", env, "is-args").returncode == 1  # files


def test_install_completion_writes_the_bash_script_where_typer_does(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["--install-completion", "bash"], env={"HOME": str(tmp_path)})
    assert done.exit_code == 0, done.output
    installed = tmp_path / ".bash_completions" / "modelreg.sh"
    assert installed.read_text().strip() == completion.script("bash").strip()
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text()
    assert "bash completion installed in" in done.stderr
    unknown = CliRunner().invoke(app, ["--show-completion", "tcsh"])
    assert unknown.exit_code == 2
    assert "cannot complete for shell 'tcsh'; give one of: bash, zsh, fish" in unknown.stderr


def test_a_completion_run_is_never_the_fast_read_path(built: Path) -> None:
    # quick.py would answer `describe churn`: with the completion variable set, the
    # process answers the completion (here: no COMP_LINE, the word after 'modelreg').
    done = subprocess.run(
        [modelreg_executable(), "describe", "churn"],
        capture_output=True, text=True, check=False, timeout=60,
        env={
            **os.environ, "MODELREG_REGISTRY": str(built), "_MODELREG_COMPLETE": "complete_bash",
            "COMP_WORDS": "modelreg desc", "COMP_CWORD": "1",
        },
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "describe\n", "")


def test_corrupt_files_give_fewer_candidates_never_a_traceback(tmp_path: Path) -> None:
    root = _build(tmp_path / "registry")
    (root / "registry.yaml").write_bytes(b"\x00\xff<<<<<<< ours\n: : [\n")
    (root / "models" / "churn" / "aliases" / "champion.yaml").write_bytes(b"\xff\xfe{{{")
    (root / "models" / "fraud" / "model.yaml").write_text("name: [unclosed\n")
    shutil.rmtree(root / "models" / "fraud" / "versions")
    (root / "models" / "fraud" / "versions").write_text("not a folder")
    (root / "models" / ".hidden").mkdir()
    before = _snapshot(root)
    got = _run_bash(
        [
            ("modelreg describe ",),
            ("modelreg describe fraud ",),
            ("modelreg describe churn@",),
            ("modelreg hooks test ",),
        ],
        {"MODELREG_REGISTRY": str(root)},
    )
    assert got["modelreg describe "] == ["churn", "fraud"]
    assert got["modelreg describe fraud "] == ["latest", *DEFAULT_STAGES]
    assert got["modelreg describe churn@"] == ["@challenger"]  # champion's file is unreadable
    assert got["modelreg hooks test "] == []
    direct = _complete("zsh", "modelreg describe churn ", {"MODELREG_REGISTRY": str(root)})
    assert direct.returncode == 0
    assert direct.stderr == ""
    assert _snapshot(root) == before


def test_no_registry_completes_commands_and_no_words(tmp_path: Path) -> None:
    env = {"MODELREG_REGISTRY": str(tmp_path / "missing")}
    assert _complete("fish", "modelreg describe ", env).stdout == ""
    assert _complete("fish", "modelreg his", env).stdout.startswith("history\t")


# -- in-process: what is read -----------------------------------------------------------


def test_format_1_aliases_come_from_model_yaml(tmp_path: Path) -> None:
    root = _build(tmp_path / "registry", file_format=1)
    assert not (root / "models" / "churn" / "aliases").exists()
    registry = completion.Registry(str(root))
    assert registry.aliases("churn") == ["challenger", "champion"]
    assert registry.versions("churn") == [1, 2, 4]
    assert registry.hooks() == ["slack", "audit-log"]


def test_registry_yaml_in_flow_style_and_with_comments(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    Registry.init(root)
    (root / "registry.yaml").write_text(
        "# edited by hand\nmodelreg: 2\nstages: [None, 'QA', \"Live\"]  # ours\nhooks:\n"
        '  - kind: command  # the name comes second\n    name: "pager"\n'
        "    payload:\n      name: not-a-hook\n"
    )
    registry = completion.Registry(str(root))
    assert registry.stages() == ["None", "QA", "Live"]
    assert registry.hooks() == ["pager"]


def test_bash_words_are_rejoined_where_bash_split_them() -> None:
    env = {"COMP_WORDS": "modelreg describe models : /churn @ ch", "COMP_CWORD": "6"}
    assert completion.bash_request(env) == (["describe"], "models:/churn@ch", "ch")
    line = "modelreg describe 'churn@c"
    env = {"COMP_LINE": line, "COMP_POINT": str(len(line)), "_MODELREG_COMPLETE_WORD": "c"}
    assert completion.bash_request(env) == (["describe"], "churn@c", "c")


def test_the_table_is_generated_from_the_app() -> None:
    # After a change to the commands or options: python scripts/completion_table.py
    assert cli_completion.TABLE_FILE.read_text() == cli_completion.table_source(app)


def test_the_generated_table_reads_back_as_the_app_s_table() -> None:
    # The source names each option once and a command unpacks them: what it builds is
    # the app's table, options in the app's order.
    def ordered(node: object) -> object:
        if isinstance(node, dict):
            return [(key, ordered(value)) for key, value in node.items()]
        return node

    expected = cli_completion.table(typer.main.get_command(app))
    assert ordered(TABLE) == ordered(expected)
    # The option most commands share, written once (with both spellings), not per command.
    source = cli_completion.TABLE_FILE.read_text()
    assert source.count("Also print the record on stdout") == 1
    assert source.count("**_FORMAT,") > 20


def test_every_argument_of_a_reference_completes_references() -> None:
    root = typer.main.get_command(app)
    table = cli_completion.table(root)
    for name, node in table["commands"].items():
        for param in root.commands[name].params:  # type: ignore[attr-defined]
            if (param.metavar or "").startswith("REF"):
                assert node["args"][0] == "ref", name


def test_default_stages_are_configs() -> None:
    assert completion.DEFAULT_STAGES == DEFAULT_STAGES
