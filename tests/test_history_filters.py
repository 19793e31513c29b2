"""`history --since/--until/--action/--user` and ``Registry.history``'s filters, over
entries written at known times by known users."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelreg import Registry, actions
from modelreg.cli import app
from modelreg.errors import InvalidInputError
from modelreg.history import parse_time


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """churn: registered by alice on Nov 1st, to Staging by bob on the 2nd, champion set
    by alice on the 3rd, a model tag by bob on the 4th (each at 10:00 UTC)."""
    path = Registry.init(tmp_path / "registry").root
    now = [""]

    def by(user: str, day: int) -> Registry:
        monkeypatch.setenv("MODELREG_USER", user)
        now[0] = f"2026-11-0{day}T10:00:00.000Z"
        return Registry(path, clock=lambda: now[0])

    by("alice", 1).register("churn", "s3://b/1", create_model=True)
    by("bob", 2).transition_model_version_stage("churn", 1, "Staging")
    by("alice", 3).set_registered_model_alias("churn", "champion", 1)
    by("bob", 4).set_registered_model_tag("churn", "team", "growth")
    return path


def history(root: Path, *args: str) -> tuple[int, list[list[str]], str]:
    result = CliRunner().invoke(app, ["--registry", str(root), "history", *args, "-f", "plain"])
    lines = [line.split("\t")[:4] for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stderr


def test_the_whole_history_is_unchanged_without_filters(root: Path) -> None:
    code, lines, _ = history(root, "churn")
    assert code == 0
    assert [line[3] for line in lines] == [
        "model_created",
        "version_registered",
        "stage_changed",
        "alias_set",
        "tag_set",
    ]


def test_since_and_until_are_inclusive_and_apply_to_model_and_version_entries(
    root: Path,
) -> None:
    code, lines, _ = history(root, "churn", "--since", "2026-11-02", "--until", "2026-11-03T10:00Z")
    assert code == 0
    assert lines == [
        ["2026-11-02T10:00:00.000Z", "bob", "1", "stage_changed"],
        ["2026-11-03T10:00:00.000Z", "alice", "1", "alias_set"],
    ]


def test_an_offset_is_converted_to_utc_and_a_naive_time_is_utc(root: Path) -> None:
    # 11:00 at +01:00 is 10:00 UTC: the stage change is at the bound, so it is in.
    _, lines, _ = history(root, "churn", "--since", "2026-11-02T11:00+01:00")
    assert [line[3] for line in lines] == ["stage_changed", "alias_set", "tag_set"]
    _, lines, _ = history(root, "churn", "--until", "2026-11-02T09:59:59")
    assert [line[3] for line in lines] == ["model_created", "version_registered"]


def test_actions_and_users_repeat_and_combine(root: Path) -> None:
    args = ["--action", "alias_set", "--action", "tag_set", "--action", "version_registered"]
    _, lines, _ = history(root, "churn", *args)
    assert [line[3] for line in lines] == ["version_registered", "alias_set", "tag_set"]
    _, lines, _ = history(root, "churn", *args, "--user", "alice")
    assert [line[3] for line in lines] == ["version_registered", "alias_set"]
    # A version's history: its own entries and the model's entries about it.
    _, lines, _ = history(root, "churn", "1", "--user", "bob", "--user", "carol")
    assert lines == [["2026-11-02T10:00:00.000Z", "bob", "1", "stage_changed"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "2026-13-01"],
            "error: not a time: '2026-13-01'; expected an ISO-8601 date or date-time such as "
            "2026-11-01 or 2026-11-01T12:00Z, or a time ago such as 30m, 12h, 7d or 2w\n",
        ),
        (["--until", "yesterday"], "error: not a time: 'yesterday'; "),
        (
            ["--action", "stage_changed", "--action", "promoted"],
            f"error: unknown history action 'promoted'; valid actions: {', '.join(actions.ALL)}\n",
        ),
    ],
    ids=["bad date", "a word", "unknown action"],
)
def test_a_bad_time_or_action_is_bad_usage(root: Path, args: list[str], message: str) -> None:
    code, lines, err = history(root, "churn", *args)
    assert (code, lines) == (2, [])
    assert err.startswith(message)


def test_the_api_takes_datetimes_and_sets(root: Path) -> None:
    registry = Registry(root)
    naive = datetime(2026, 11, 3, 10)  # UTC
    entries = registry.history("churn", since=naive, users={"alice", "bob"})
    assert [(entry["action"], entry["user_id"]) for entry in entries] == [
        ("alias_set", "alice"),
        ("tag_set", "bob"),
    ]
    paris = timezone(timedelta(hours=1))
    until = datetime(2026, 11, 1, 11, tzinfo=paris)  # 10:00 UTC: the registration itself
    assert [e["action"] for e in registry.history("churn@champion", until=until)] == [
        "version_registered"
    ]
    assert registry.history("churn", actions=["stage_changed"])[0]["to_stage"] == "Staging"
    with pytest.raises(InvalidInputError, match="valid actions: model_created, "):
        registry.history("churn", actions=["bogus"])


def test_a_relative_time_counts_back_from_now() -> None:
    now = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)
    assert parse_time("7d", now) == datetime(2026, 11, 3, 12, tzinfo=timezone.utc)
    assert parse_time("2w", now) == now - timedelta(weeks=2)
    assert parse_time("12h", now) == now - timedelta(hours=12)
    assert parse_time("30m", now) == now - timedelta(minutes=30)
    assert parse_time("2026-11-01") == datetime(2026, 11, 1, tzinfo=timezone.utc)
