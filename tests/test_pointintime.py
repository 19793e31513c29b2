"""``resolve/describe/list --at WHEN``: answers checked against a history built at known
times (a date), and against the registry's files at a git revision."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from _safety import git, tree
from modelreg import Registry, quick, yamlio
from modelreg.cli import app
from modelreg.errors import InvalidInputError, NotFoundError
from modelreg.pointintime import aliases_at, keyed_at, parse_date
from modelreg.refs import Ref

Invoke = Callable[..., Result]


def at(second: int, half: bool = False) -> str:
    """The known history's second ``second`` (``half``: half a second after it)."""
    return f"2026-01-01T00:00:{second:02d}{'.500' if half else '.000'}Z"


def build(registry: Registry, clock: dict[str, str]) -> None:
    """churn: v1 Production (t3, champion t4); v2 Staging t6, Production t7 (v1 archived),
    champion t8; v3 Production t10 (v2 archived), challenger t11, deleted t12; the model's
    tag and description changed t13; v2's tag k (registered a) set to b t14, c t15."""

    def step(second: int, write: Callable[[], object]) -> None:
        clock["now"] = at(second)
        write()

    step(1, lambda: registry.create_registered_model("churn", {"team": "growth"}, "first"))
    step(2, lambda: registry.create_model_version("churn", "s3://m/1"))
    step(3, lambda: registry.transition_model_version_stage("churn", 1, "Production"))
    step(4, lambda: registry.set_registered_model_alias("churn", "champion", 1))
    step(5, lambda: registry.create_model_version("churn", "s3://m/2", tags={"k": "a"}))
    step(6, lambda: registry.transition_model_version_stage("churn", 2, "Staging"))
    step(7, lambda: registry.transition_model_version_stage("churn", 2, "Production"))
    step(8, lambda: registry.set_registered_model_alias("churn", "champion", 2))
    step(9, lambda: registry.create_model_version("churn", "s3://m/3"))
    step(10, lambda: registry.transition_model_version_stage("churn", 3, "Production"))
    step(11, lambda: registry.set_registered_model_alias("churn", "challenger", 3))
    step(12, lambda: registry.delete_model_version("churn", 3))
    step(13, lambda: registry.set_registered_model_tag("churn", "team", "risk"))
    step(13, lambda: registry.update_registered_model("churn", "second"))
    step(14, lambda: registry.set_model_version_tag("churn", 2, "k", "b"))
    step(15, lambda: registry.set_model_version_tag("churn", 2, "k", "c"))


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The known history in a format-2 and a format-1 registry, built once."""
    base = tmp_path_factory.mktemp("known-at")
    built = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)  # no git repository
        patch.setenv("MODELREG_USER", "tester@example.com")
        for file_format in (2, 1):
            root = Registry.init(base / f"format{file_format}", file_format=file_format).root
            if file_format == 1:  # format 1 registries have no exclusive stage by default
                config = root / "registry.yaml"
                config.write_text(config.read_text() + "exclusive_stages: [Production]\n")
            clock = {"now": at(0)}
            build(Registry(root, clock=functools.partial(clock.__getitem__, "now")), clock)
            built[file_format] = root
    return built


@pytest.fixture
def known(templates: dict[int, Path], tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(templates[2], root)
    return root


@pytest.fixture
def cli(known: Path) -> Invoke:
    return invoker(known)


@pytest.fixture(params=[2, 1], ids=["format2", "format1"])
def both_formats(request: pytest.FixtureRequest, templates: dict[int, Path]) -> Invoke:
    """The known history in either format (read only: the template itself)."""
    return invoker(templates[request.param])


def invoker(root: Path) -> Invoke:
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["--registry", str(root), *args])


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def not_found(result: Result, message: str) -> None:
    assert (result.exit_code, result.stdout, result.stderr) == (3, "", f"error: {message}\n")


# -- a date ------------------------------------------------------------------------------


def test_the_production_holder_at_instants_across_the_transitions(cli: Invoke) -> None:
    when = at(2, half=True)
    not_found(
        cli("resolve", "--at", when, "churn", "Production"),
        f"churn Production did not exist at {when}: no version of 'churn' was in Production then",
    )
    for when, holder in [
        (at(3), "s3://m/1"),  # the change at that very instant has happened
        (at(6, half=True), "s3://m/1"),  # v2 is in Staging
        (at(7), "s3://m/2"),  # v2 entered Production, v1 was archived
        (at(9, half=True), "s3://m/2"),
    ]:
        assert ok(cli("resolve", "--at", when, "churn", "Production")).stdout == f"{holder}\n"


def test_the_stages_and_aliases_of_every_version_then(both_formats: Invoke) -> None:
    cli = both_formats

    def versions(when: str) -> dict[int, str]:
        listed = json.loads(ok(cli("list", "--at", when, "churn", "-f", "json")).stdout)
        return {mv["version"]: " ".join([mv["current_stage"], *mv["aliases"]]) for mv in listed}

    assert versions(at(2)) == {1: "None"}
    assert versions(at(6)) == {1: "Production champion", 2: "Staging"}
    assert versions(at(7)) == {1: "Archived champion", 2: "Production"}
    # Version 3 existed from t9 until its delete at t12 (as its delete recorded).
    assert versions(at(9)) == {1: "Archived", 2: "Production champion", 3: "None"}
    assert versions(at(11)) == {1: "Archived", 2: "Archived champion", 3: "Production challenger"}
    assert versions(at(12)) == {1: "Archived", 2: "Archived champion"}


def test_alias_moves(cli: Invoke) -> None:
    not_found(
        cli("resolve", "--at", at(3, half=True), "churn@champion"),
        f"churn@champion did not exist at {at(3, half=True)}: model 'churn' had no alias "
        "'champion' then",
    )
    assert ok(cli("resolve", "--at", at(4), "churn@champion")).stdout == "s3://m/1\n"
    assert ok(cli("resolve", "--at", at(7, half=True), "churn@champion")).stdout == "s3://m/1\n"
    # Nothing resolve prints can be shown as of now: no notes (describe has one, tags.k).
    assert ok(cli("resolve", "--at", at(8), "churn@champion")).stdout == "s3://m/2\n"
    assert ok(cli("resolve", "--at", at(8), "churn@champion")).stderr == ""
    model = json.loads(ok(cli("describe", "--at", at(11), "churn", "-f", "json")).stdout)
    assert model["aliases"] == {"champion": 2, "challenger": 3}
    model = json.loads(ok(cli("describe", "--at", at(12), "churn", "-f", "json")).stdout)
    assert model["aliases"] == {"champion": 2}  # the delete dropped challenger


def test_a_deleted_version_before_and_after_its_delete(cli: Invoke) -> None:
    when = at(11, half=True)
    shown = json.loads(ok(cli("describe", "--at", when, "churn@challenger", "-f", "json")).stdout)
    assert (shown["version"], shown["current_stage"], shown["aliases"]) == (
        3,
        "Production",
        ["challenger"],
    )
    assert shown["creation_timestamp"] == 1767225609000  # t9, as its delete recorded
    result = ok(cli("describe", "--at", when, "churn", "3", "-f", "json"))
    assert result.stderr == (
        f"note: churn version 3 was deleted at {at(12)}: only its creation, stages and "
        "deletion are recorded (not its source or details)\n"
    )
    # Where its artifact was is not recorded: resolve says so rather than guess.
    not_found(
        cli("resolve", "--at", when, "churn", "Production"),
        f"churn version 3 existed at {when} but was deleted since, and a deleted "
        "version's artifact location is not recorded",
    )
    not_found(
        cli("describe", "--at", at(12), "churn", "3"),
        f"churn 3 did not exist at {at(12)}: model 'churn' had no version 3 then",
    )
    not_found(
        cli("describe", "--at", at(8), "churn", "3"),  # not yet registered
        f"churn 3 did not exist at {at(8)}: model 'churn' had no version 3 then",
    )


def test_before_the_model_existed_is_not_found(cli: Invoke) -> None:
    for args in (["resolve", "churn@champion"], ["describe", "churn"], ["list", "churn"]):
        result = cli(args[0], "--at", "2026-01-01", *args[1:])
        assert result.exit_code == 3, result.stderr
        assert result.stderr == (
            f"error: {args[-1]} did not exist at 2026-01-01: model 'churn' was created at {at(1)}\n"
        )
    listed = ok(cli("list", "--at", "2025-12-31T23:59:59Z", "-f", "json"))
    assert json.loads(listed.stdout) == []


def test_what_the_history_does_not_record_is_shown_as_now_and_said_so(cli: Invoke) -> None:
    result = ok(cli("describe", "--at", at(12), "churn", "-f", "json"))
    model = json.loads(result.stdout)
    # The tag and description it was created with are not in the history: shown as now.
    assert (model["tags"], model["description"]) == ({"team": "risk"}, "second")
    # ... and of the versions in its latest_versions (v2 was registered with k=a).
    assert result.stderr == (
        "note: model churn: description, tags.team shown as now (the history does not "
        f"record the value at {at(12)})\n"
        "note: churn version 2: tags.k shown as now (the history does not record the value "
        f"at {at(12)})\n"
    )
    # A tag's value set on record by then is known, though it changed since.
    result = ok(cli("describe", "--at", at(14), "churn", "2", "-f", "json"))
    assert (json.loads(result.stdout)["tags"], result.stderr) == ({"k": "b"}, "")
    result = ok(cli("describe", "--at", at(13), "churn", "2", "-f", "json"))
    assert json.loads(result.stdout)["tags"] == {"k": "c"}
    assert result.stderr == (
        "note: churn version 2: tags.k shown as now (the history does not record the value "
        f"at {at(13)})\n"
    )
    result = ok(cli("describe", "--at", at(13), "churn", "-f", "json"))
    assert json.loads(result.stdout)["tags"] == {"team": "risk"}  # set at t13, on record


def test_describe_and_list_at_a_date_in_every_format(cli: Invoke) -> None:
    when = at(8)
    plain = ok(cli("describe", "--at", when, "churn@champion", "-f", "plain")).stdout
    assert plain == f"churn\t2\tProduction\tchampion\t\ts3://m/2\t{at(5)}\n"
    listed = ok(cli("list", "--at", when, "churn", "-f", "plain")).stdout
    assert listed == (
        f"churn\t1\tArchived\t\t\ts3://m/1\t{at(2)}\n"
        f"churn\t2\tProduction\tchampion\t\ts3://m/2\t{at(5)}\n"
    )
    as_yaml: Any = yamlio.loads(
        ok(cli("list", "--at", when, "-f", "yaml")).stdout.encode(), Path("<stdout>")
    )
    assert [(m["name"], m["aliases"]) for m in as_yaml] == [("churn", {"champion": 2})]
    assert [mv["version"] for mv in as_yaml[0]["latest_versions"]] == [2, 1]
    described: Any = yamlio.loads(
        ok(cli("describe", "--at", when, "churn", "1", "-f", "yaml")).stdout.encode(),
        Path("<stdout>"),
    )
    assert (described["current_stage"], described["last_updated_timestamp"]) == (
        "Archived",
        1767225607000,  # t7, when v2's move archived it
    )
    table = ok(cli("list", "--at", when, "churn")).stdout.splitlines()
    assert table[0].split() == [
        "name",
        "version",
        "stage",
        "aliases",
        "run_id",
        "source",
        "created",
    ]
    assert table[2].split()[:4] == ["churn", "2", "Production", "champion"]
    card = ok(cli("describe", "--at", when, "churn")).stdout
    assert "latest_versions         2 (Production), 1 (Archived)" in card
    models = ok(cli("list", "--at", when, "-f", "plain")).stdout
    assert models == "churn\t2\tchampion=2\tteam=risk\tsecond\n"


def test_the_fast_path_and_typer_answer_alike(
    known: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--registry", str(known), "list", "--at", at(8), "churn", "-f", "json"]
    assert quick._parse(argv) is not None
    assert quick.try_run(argv) == 0
    fast = capsys.readouterr()
    typer_result = CliRunner().invoke(app, ["--traceback", *argv])
    assert (fast.out, fast.err) == (typer_result.stdout, typer_result.stderr)


def test_an_invalid_when_is_exit_2(cli: Invoke) -> None:
    for when, message in [
        ("2026-13-01", "invalid date '2026-13-01': give an ISO 8601 date or time"),
        ("2026-01-01T25:00Z", "invalid date '2026-01-01T25:00Z'"),
        ("HEAD~1", "--at 'HEAD~1' is not a date, and the registry at"),
    ]:
        result = cli("describe", "--at", when, "churn")
        assert (result.exit_code, result.stdout) == (2, ""), when
        assert result.stderr.startswith(f"error: {message}"), result.stderr


def _ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)


def test_a_time_ago_is_a_date(cli: Invoke) -> None:
    # Every recorded event is older than a day, so a day ago is the registry as it is now;
    # a date long before the events is not.
    for argv in (["resolve", "churn@champion"], ["list", "churn"]):
        now = cli(*argv)
        assert now.exit_code == 0
        assert cli(argv[0], "--at", "1d", *argv[1:]).stdout == now.stdout
    assert cli("resolve", "--at", "2000-01-01", "churn@champion").exit_code == 3


def test_dates_and_the_api(known: Path) -> None:
    assert parse_date("2026-11-01") == parse_date("2026-11-01T00:00:00Z") == 1793491200000
    assert parse_date("2026-11-01T12:00Z") == parse_date("2026-11-01T14:00+02:00")
    assert parse_date("2026-11-01T12:00") == parse_date("2026-11-01T12:00:00.000Z")
    assert parse_date("HEAD~1") is None
    # A time ago, read as `history --since` reads it: a week before the moment of the call.
    before = datetime.now(timezone.utc)
    week_ago = parse_date("7d")
    after = datetime.now(timezone.utc)
    assert week_ago is not None
    assert _ms(before - timedelta(days=7)) <= week_ago <= _ms(after - timedelta(days=7))
    with pytest.raises(InvalidInputError):
        parse_date("2026-11-01Tnoon")
    registry = Registry(known)
    with registry.as_of(at(7)) as past:
        assert past.resolve_version("churn").version == 2
        assert past.resolve("churn@champion").version == 1  # type: ignore[union-attr]
        with pytest.raises(NotFoundError):
            past.resolve(Ref("churn", 3))


def test_the_pure_rebuilders() -> None:
    changes: list[tuple[int, str, str | None]] = [(5, "a", "2"), (7, "a", None), (9, "b", "1")]
    assert keyed_at({"b": "1"}, changes, 6) == ({"a": "2", "b": "1"}, ["b"])
    assert keyed_at({"b": "1"}, changes, 4) == ({"b": "1"}, ["a", "b"])
    assert keyed_at({"b": "1"}, changes, 9) == ({"b": "1"}, [])
    history: list[dict[str, Any]] = [
        {"timestamp": at(2), "action": "alias_set", "alias": "x", "version": 2},
        {"timestamp": at(1), "action": "alias_set", "alias": "y", "version": 1},
        {
            "timestamp": at(3),
            "action": "alias_set",
            "alias": "y",
            "version": 3,
            "previous_version": 1,
        },
        {"timestamp": at(4), "action": "alias_deleted", "alias": "z", "version": 4},
    ]
    # z was set without an entry (an import): it pointed at 4 until its delete.
    assert aliases_at(history, {"x": 2, "y": 3, "w": 5}, 1767225601000) == {
        "w": 5,
        "y": 1,
        "z": 4,
    }
    assert aliases_at(history, {"x": 2, "y": 3}, 1767225604000) == {"x": 2, "y": 3}


# -- a git revision ----------------------------------------------------------------------


def snapshot(project: Path) -> tuple[object, ...]:
    """The work tree's files, the index's entries, the refs and the stash."""
    files = {path: data for path, data in tree(project).items() if not path.startswith(".git")}
    return (
        files,
        git(project, "ls-files", "--stage"),
        git(project, "for-each-ref"),
        git(project, "stash", "list"),
    )


def test_at_a_git_revision_reads_the_committed_files(repo: Path, run_cli: Any) -> None:
    project = repo  # a git repository on main with one commit before the registry
    root = Registry.init(project / "registry").root
    registry = Registry(root)
    (root / "model.pkl").write_bytes(b"weights")
    registry.register("churn", str(root / "model.pkl"), create_model=True)  # kept relative
    registry.set_registered_model_alias("churn", "champion", 1)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "churn 1")
    registry.register("churn", "s3://m/2")
    registry.set_registered_model_alias("churn", "champion", 2)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "churn 2")
    registry.transition_model_version_stage("churn", 2, "Staging")  # not committed
    before = snapshot(project)

    done = run_cli("--registry", str(root), "resolve", "--at", "HEAD~1", "churn@champion")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{root / 'model.pkl'}\n", "")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--registry", str(root), *args])

    assert ok(invoke("resolve", "--at", "HEAD", "churn@champion")).stdout == "s3://m/2\n"
    listed = json.loads(ok(invoke("list", "--at", "main~1", "churn", "-f", "json")).stdout)
    assert [(mv["version"], mv["aliases"]) for mv in listed] == [(1, ["champion"])]
    shown = json.loads(ok(invoke("describe", "--at", "HEAD", "churn", "2", "-f", "json")).stdout)
    assert shown["current_stage"] == "None"  # the Staging move is not committed
    plain = ok(invoke("describe", "--at", "HEAD~1", "churn", "-f", "plain")).stdout
    assert plain.startswith("churn\t1\tchampion=1\t")
    head = git(project, "rev-parse", "HEAD")
    not_found(
        invoke("describe", "--at", "HEAD~1", "churn", "2"),
        f"churn 2 did not exist at HEAD~1 (commit {git(project, 'rev-parse', 'HEAD~1')[:12]}): "
        "version 2 of model 'churn' not found",
    )
    first = git(project, "rev-parse", "HEAD~2")[:12]
    not_found(
        invoke("list", "--at", "HEAD~2"),
        f"the registry did not exist at HEAD~2 (commit {first}): that commit has no "
        "registry/registry.yaml",
    )
    result = invoke("list", "--at", "no-such-branch")
    assert result.exit_code == 2
    assert "neither a date" in result.stderr
    # Nothing of the work tree, the index or the refs changed.
    assert snapshot(project) == before
    assert git(project, "rev-parse", "HEAD") == head
