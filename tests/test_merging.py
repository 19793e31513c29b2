"""The three-way merge of registry documents by meaning (merging.py), through its functions:
an example for each rule, and properties of random changes on two sides."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg import merging, yamlio
from modelreg.entities import ms_to_iso
from modelreg.merging import document_kind, merge_documents, merge_histories, merge_texts

T0 = 1_800_000_000_000  # epoch ms of the base documents' times


def at(seconds: float) -> str:
    """A timestamp ``seconds`` after the base documents were written."""
    return ms_to_iso(T0 + round(seconds * 1000))


def entry(seconds: float, action: str, user: str = "alice", **fields: Any) -> dict[str, Any]:
    return {"timestamp": at(seconds), "user_id": user, "action": action, **fields}


def version_doc() -> dict[str, Any]:
    return {
        "name": "churn",
        "version": 4,
        "source": "s3://models/churn/4",
        "run_id": "run-4",
        "run_link": None,
        "description": "first",
        "current_stage": "Staging",
        "status": "READY",
        "user_id": "alice",
        "created_at": at(0),
        "updated_at": at(1),
        "tags": {"data": "2026-10", "owner": "alice"},
        "metrics": {"accuracy": 0.9},
        "params": {"epochs": 10},
        "artifact": {"sha256": None, "size": None},
        "lineage": {"user": "alice"},
        "history": [
            entry(0, "version_registered", version=4),
            entry(1, "stage_changed", from_stage="None", to_stage="Staging"),
        ],
    }


def model_doc() -> dict[str, Any]:
    return {
        "name": "churn",
        "description": "predicts churn",
        "user_id": "alice",
        "created_at": at(-10),
        "updated_at": at(1),
        "last_version": 4,
        "tags": {"team": "growth"},
        "aliases": {"champion": 3, "challenger": 4},
        "history": [
            entry(-10, "model_created"),
            entry(1, "alias_set", alias="challenger", version=4),
        ],
    }


def changed(doc: dict[str, Any], *entries: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A copy of ``doc`` with ``values`` set and ``entries`` appended to its history, its
    ``updated_at`` the last entry's time (as a write does)."""
    new = copy.deepcopy(doc)
    new.update(copy.deepcopy(values))
    new["history"].extend(entries)
    if entries:
        new["updated_at"] = entries[-1]["timestamp"]
    return new


def merged(kind: merging.Kind, base: Any, ours: Any, theirs: Any) -> dict[str, Any]:
    """The merge, which must succeed, and must not depend on which side is "ours"."""
    result = merge_documents(kind, base, ours, theirs)
    assert result.ok, result.conflicts
    swapped = merge_documents(kind, base, theirs, ours)
    assert swapped.document == result.document
    assert swapped.document is not None and result.document is not None
    assert swapped.document["history"] == result.document["history"]
    return result.document


# -- model.yaml ---------------------------------------------------------------------------


def test_moves_of_different_aliases_both_land() -> None:
    base = model_doc()
    move_champion = entry(5, "alias_set", alias="champion", version=4, previous_version=3)
    move_challenger = entry(6, "alias_set", "bob", alias="challenger", version=2)
    ours = changed(base, move_champion, aliases={"champion": 4, "challenger": 4})
    theirs = changed(base, move_challenger, aliases={"champion": 3, "challenger": 2})
    doc = merged("model", base, ours, theirs)
    assert doc["aliases"] == {"champion": 4, "challenger": 2}
    assert doc["history"] == [*base["history"], move_champion, move_challenger]
    assert doc["updated_at"] == at(6)


def test_one_alias_moved_on_both_sides_the_later_move_wins_and_both_stay_in_history() -> None:
    base = model_doc()
    earlier = entry(5, "alias_set", "bob", alias="champion", version=1, previous_version=3)
    later = entry(7, "alias_set", alias="champion", version=4, previous_version=3)
    ours = changed(base, later, aliases={"champion": 4, "challenger": 4})
    theirs = changed(base, earlier, aliases={"champion": 1, "challenger": 4})
    doc = merged("model", base, ours, theirs)
    assert doc["aliases"]["champion"] == 4
    assert doc["history"][-2:] == [earlier, later]


def test_an_alias_deleted_on_one_side_and_moved_later_on_the_other_is_moved() -> None:
    base = model_doc()
    deleted = entry(5, "alias_deleted", alias="champion", version=3)
    moved = entry(6, "alias_set", "bob", alias="champion", version=1, previous_version=3)
    ours = changed(base, deleted, aliases={"challenger": 4})
    theirs = changed(base, moved, aliases={"champion": 1, "challenger": 4})
    assert merged("model", base, ours, theirs)["aliases"] == {"champion": 1, "challenger": 4}
    # ... and deleted when the delete came later.
    deleted_later = entry(8, "alias_deleted", alias="champion", version=3)
    ours = changed(base, deleted_later, aliases={"challenger": 4})
    assert merged("model", base, ours, theirs)["aliases"] == {"challenger": 4}


def test_one_alias_moved_at_the_same_instant_on_both_sides_is_a_conflict() -> None:
    base = model_doc()
    ours = changed(
        base, entry(5, "alias_set", alias="champion", version=4), aliases={"champion": 4}
    )
    theirs = changed(
        base, entry(5, "alias_set", "bob", alias="champion", version=1), aliases={"champion": 1}
    )
    result = merge_documents("model", base, ours, theirs)
    assert not result.ok and not result.collision
    assert result.conflicts == (
        "'aliases.champion' changed on both sides: ours 4, theirs 1, and the history does "
        "not say which change came later",
    )


def test_last_version_is_the_higher_and_updated_at_the_later() -> None:
    base = model_doc()
    ours = changed(base, entry(9, "version_deleted", version=4), last_version=5)
    theirs = changed(base, entry(3, "description_changed", "bob"), description="new")
    doc = merged("model", base, ours, theirs)
    assert doc["last_version"] == 5
    assert doc["updated_at"] == at(9)
    assert doc["description"] == "new"


def test_the_later_description_wins_and_both_changes_stay_in_history() -> None:
    base = model_doc()
    ours = changed(base, entry(4, "description_changed"), description="alice's")
    theirs = changed(base, entry(6, "description_changed", "bob"), description="bob's")
    doc = merged("model", base, ours, theirs)
    assert doc["description"] == "bob's"
    assert [e["user_id"] for e in doc["history"][-2:]] == ["alice", "bob"]


def test_two_models_created_apart_under_one_name_are_a_collision() -> None:
    ours = model_doc()
    theirs = changed(model_doc(), created_at=at(-5), user_id="bob")
    result = merge_documents("model", None, ours, theirs)
    assert result.collision
    assert result.conflicts[0].startswith("ours and theirs are two different models named 'churn'")


# -- version files ------------------------------------------------------------------------


def test_tags_with_different_keys_on_one_version_both_land() -> None:
    base = version_doc()
    ours = changed(base, entry(5, "tag_set", key="a", value="1"), tags={**base["tags"], "a": "1"})
    theirs = changed(base, entry(6, "tag_deleted", "bob", key="owner"), tags={"data": "2026-10"})
    doc = merged("version", base, ours, theirs)
    assert doc["tags"] == {"a": "1", "data": "2026-10"}
    assert len(doc["history"]) == 4


def test_one_tag_set_on_both_sides_the_later_value_wins() -> None:
    base = version_doc()
    ours = changed(
        base, entry(8, "tag_set", key="data", value="A"), tags={**base["tags"], "data": "A"}
    )
    theirs = changed(
        base,
        entry(7, "tag_set", "bob", key="data", value="B"),
        tags={**base["tags"], "data": "B"},
    )
    assert merged("version", base, ours, theirs)["tags"]["data"] == "A"


def test_comments_and_approvals_on_one_version_are_all_kept_in_time_order() -> None:
    base = version_doc()
    ours = changed(
        base,
        entry(3, "commented", comment="looks good"),
        entry(6, "approved", stage="Production"),
    )
    theirs = changed(
        base,
        entry(4, "commented", "bob", comment="the f1 dropped"),
        entry(5, "rejected", "bob", stage="Production"),
    )
    doc = merged("version", base, ours, theirs)
    assert [e["action"] for e in doc["history"][2:]] == [
        "commented",
        "commented",
        "rejected",
        "approved",
    ]


def test_the_latest_stage_change_wins() -> None:
    base = version_doc()
    promoted = entry(5, "stage_changed", from_stage="Staging", to_stage="Production")
    archived = entry(6, "stage_changed", "bob", from_stage="Staging", to_stage="Archived")
    ours = changed(base, promoted, current_stage="Production")
    theirs = changed(base, archived, current_stage="Archived")
    doc = merged("version", base, ours, theirs)
    assert doc["current_stage"] == "Archived"
    assert doc["history"][-2:] == [promoted, archived]


def test_metrics_changed_on_one_side_are_taken_and_on_both_a_conflict() -> None:
    base = version_doc()
    ours = changed(base, metrics={"accuracy": 0.95})
    assert merged("version", base, ours, base)["metrics"] == {"accuracy": 0.95}
    theirs = changed(base, metrics={"accuracy": 0.5})
    result = merge_documents("version", base, ours, theirs)
    assert result.conflicts == (
        "'metrics.accuracy' changed on both sides: ours 0.95, theirs 0.5, and the history "
        "does not say which change came later",
    )


def test_an_unknown_key_changed_on_one_side_is_taken_on_both_a_conflict() -> None:
    base = changed(version_doc(), note="x")
    ours = changed(base, note="ours")
    assert merged("version", base, ours, base)["note"] == "ours"
    result = merge_documents("version", base, ours, changed(base, note="theirs"))
    assert result.conflicts == ("'note' changed on both sides: ours 'ours', theirs 'theirs'",)


def test_lineage_is_merged_key_by_key() -> None:
    base = version_doc()
    ours = changed(base, lineage={"user": "alice", "a": 1})
    theirs = changed(base, lineage={"user": "alice", "b": 2})
    assert merged("version", base, ours, theirs)["lineage"] == {"user": "alice", "a": 1, "b": 2}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("created_at", at(0.5)),
        ("user_id", "bob"),
        ("source", "s3://models/churn/other"),
        ("run_id", "run-bob"),
        ("artifact", {"sha256": "ab" * 32, "size": 10}),
    ],
)
def test_two_versions_added_under_one_number_are_a_collision(key: str, value: Any) -> None:
    ours = version_doc()
    theirs = changed(version_doc(), **{key: value})
    result = merge_documents("version", None, ours, theirs)
    assert result.collision and result.document is None
    (reason,) = result.conflicts
    assert reason.startswith("ours and theirs are two different versions under number 4 of 'churn'")
    assert reason.endswith(f"(they differ in {key if key != 'artifact' else 'artifact.sha256'})")


def test_a_rebase_replaying_a_change_of_another_version_4_is_a_collision() -> None:
    """Bob's commit changed his version 4 (base -> theirs); the upstream has alice's."""
    bobs = changed(version_doc(), user_id="bob", source="s3://bob/4", run_id="run-bob")
    promoted = changed(
        bobs,
        entry(9, "stage_changed", "bob", from_stage="Staging", to_stage="Production"),
        current_stage="Production",
    )
    alices = version_doc()
    result = merge_documents("version", bobs, alices, promoted)
    assert result.collision
    assert result.conflicts[0].startswith("base and ours are two different versions")
    assert "base registered" in result.conflicts[0] and "from s3://bob/4" in result.conflicts[0]


def test_the_same_version_added_on_both_sides_merges() -> None:
    ours = changed(version_doc(), entry(5, "commented", comment="a"))
    theirs = changed(version_doc(), entry(6, "commented", "bob", comment="b"))
    doc = merged("version", None, ours, theirs)
    assert [e.get("comment") for e in doc["history"][2:]] == ["a", "b"]


# -- texts, paths, histories --------------------------------------------------------------


def _text(doc: dict[str, Any]) -> bytes:
    return yamlio.dumps(doc).encode()


def test_merge_texts_merges_the_files_git_hands_over() -> None:
    base = version_doc()
    ours = changed(base, entry(5, "commented", comment="a"))
    theirs = changed(base, entry(6, "commented", "bob", comment="b"))
    result = merge_texts(
        _text(base), _text(ours), _text(theirs), "reg/models/churn/versions/4.yaml"
    )
    assert result.ok and result.document is not None
    assert len(result.document["history"]) == 4


def test_merge_texts_refuses_conflict_markers_and_names_the_side() -> None:
    base = _text(version_doc())
    marked = b"<<<<<<< HEAD\n" + base + b"=======\n" + base + b">>>>>>> other\n"
    result = merge_texts(base, marked, base, "models/churn/versions/4.yaml")
    assert result.conflicts == (
        "ours: git conflict marker on line 1: resolve the merge conflict first",
    )


def test_merge_texts_refuses_a_file_that_breaks_the_schema() -> None:
    base = _text(version_doc())
    result = merge_texts(base, base, b"name: churn\n", "models/churn/versions/4.yaml")
    assert result.conflicts == ("theirs: missing required key 'version'",)


def test_merge_texts_of_another_file_is_a_conflict() -> None:
    result = merge_texts(b"", b"a: 1\n", b"a: 2\n", "registry.yaml")
    assert not result.ok
    assert "registry.yaml is not a registry document" in result.conflicts[0]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("registry/models/churn/model.yaml", "model"),
        ("models/churn/model.yaml", "model"),
        ("a/b/models/churn/versions/12.yaml", "version"),
        ("models/churn/versions/012.yaml", None),
        ("models/churn/versions/x.yaml", None),
        ("registry/registry.yaml", None),
        ("models/model.yaml", None),
        ("registry/models/churn/aliases/champion.yaml", "alias"),
        ("models/churn/deleted/4.yaml", "deleted"),
        ("models/churn/deleted/x.yaml", None),
        ("models/churn/other/4.yaml", None),
    ],
)
def test_document_kind(path: str, kind: str | None) -> None:
    assert document_kind(path) == kind


def test_histories_keep_each_sides_own_order_even_out_of_time_order() -> None:
    """A clock that was behind wrote a later entry with an earlier time: kept where it is."""
    shared = [entry(1, "a")]
    ours = [*shared, entry(9, "b"), entry(2, "late clock")]
    assert merge_histories(shared, ours, shared) == ours
    assert merge_histories(shared, shared, ours) == ours


# -- properties ---------------------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "data"])
_VALUES = st.sampled_from(["1", "2", "3"])
_OPERATION = st.one_of(
    st.tuples(st.just("tag"), _KEYS, st.one_of(st.none(), _VALUES)),
    st.tuples(st.just("comment"), _VALUES),
    st.tuples(st.just("stage"), st.sampled_from(["None", "Staging", "Production", "Archived"])),
    st.tuples(st.just("describe"), _VALUES),
)


def apply_operations(
    doc: dict[str, Any], operations: list[tuple[Any, ...]], user: str, offset: int
) -> dict[str, Any]:
    """What modelreg writes for each operation, at times that never coincide with the other
    side's (``offset`` 0 or 1 picks odd or even milliseconds)."""
    new = copy.deepcopy(doc)
    for number, (kind, *args) in enumerate(operations):
        stamp = ms_to_iso(T0 + 10_000 + number * 20 + offset * 7)
        recorded: dict[str, Any] | None = None
        if kind == "tag":
            key, value = args
            if value is None and key in new["tags"]:
                del new["tags"][key]
                recorded = {"action": "tag_deleted", "key": key}
            elif value is not None and new["tags"].get(key) != value:
                new["tags"][key] = value
                recorded = {"action": "tag_set", "key": key, "value": value}
        elif kind == "comment":
            recorded = {"action": "commented", "comment": args[0]}
        elif kind == "stage" and new["current_stage"] != args[0]:
            recorded = {
                "action": "stage_changed",
                "from_stage": new["current_stage"],
                "to_stage": args[0],
            }
            new["current_stage"] = args[0]
        elif kind == "describe" and new["description"] != args[0]:
            new["description"] = args[0]
            recorded = {"action": "description_changed"}
        if recorded is not None:
            new["history"].append({"timestamp": stamp, "user_id": user, **recorded})
            new["updated_at"] = stamp
    return new


_SIDES = st.lists(_OPERATION, max_size=6)


@settings(max_examples=100, deadline=None)
@given(before=_SIDES, mine=_SIDES, other=_SIDES)
def test_merging_random_changes_keeps_everything(
    before: list[tuple[Any, ...]], mine: list[tuple[Any, ...]], other: list[tuple[Any, ...]]
) -> None:
    base = apply_operations(version_doc(), before, "carol", 0)
    base["updated_at"] = at(5)  # the sides' changes all come after the base's
    ours = apply_operations(base, mine, "alice", 0)
    theirs = apply_operations(base, other, "bob", 1)

    # A side merged with itself, or with an unchanged base, is that side.
    assert merge_documents("version", base, ours, ours).document == ours
    assert merge_documents("version", base, base, theirs).document == theirs
    assert merge_documents("version", base, ours, base).document == ours

    doc = merged("version", base, ours, theirs)  # also: the same with the sides swapped
    history = Counter(json.dumps(e, sort_keys=True) for e in doc["history"])
    for side in (ours, theirs):
        assert not Counter(json.dumps(e, sort_keys=True) for e in side["history"]) - history
    assert sum(history.values()) == len(base["history"]) + (
        len(ours["history"]) - len(base["history"])
    ) + (len(theirs["history"]) - len(base["history"]))
    for tag in {*ours["tags"], *theirs["tags"], *base["tags"]}:
        assert doc["tags"].get(tag) in (ours["tags"].get(tag), theirs["tags"].get(tag))
    assert doc["description"] in (ours["description"], theirs["description"])
    stages = (base["current_stage"], ours["current_stage"], theirs["current_stage"])
    if len(set(stages)) == 3:  # both sides moved it, each elsewhere: the latest move wins
        moves = [e for e in doc["history"] if e["action"] == "stage_changed"]
        assert doc["current_stage"] == moves[-1]["to_stage"]
    else:
        assert doc["current_stage"] in stages[1:]
    assert doc["updated_at"] == max(ours["updated_at"], theirs["updated_at"])
    # The merged document is a valid version file.
    assert merge_texts(b"", _text(doc), _text(doc), "models/churn/versions/4.yaml").ok


def test_an_entry_on_both_sides_at_different_places_appears_once() -> None:
    shared, early, late = entry(1, "a"), entry(3, "early"), entry(5, "late")
    ours = [shared, late, early]  # a clock that was behind wrote `early` last
    theirs = [shared, early]
    assert merge_histories([shared], ours, theirs) == [shared, early, late]
    assert merge_histories([shared], theirs, ours) == [shared, early, late]


def test_an_alias_moved_onto_a_version_the_other_side_deleted_is_dropped() -> None:
    base = model_doc()
    deleted = entry(5, "version_deleted", version=3)
    dropped = entry(5, "alias_deleted", alias="champion", version=3)
    moved = entry(6, "alias_set", "bob", alias="challenger", version=3, previous_version=4)
    ours = changed(base, dropped, deleted, aliases={"challenger": 4})
    theirs = changed(base, moved, aliases={"champion": 3, "challenger": 3})
    doc = merged("model", base, ours, theirs)
    assert doc["aliases"] == {}
    assert doc["history"][-1] == {
        "timestamp": at(6),
        "user_id": "alice",
        "action": "alias_deleted",
        "alias": "challenger",
        "version": 3,
        "comment": "merge: version 3 was deleted on the other branch",
    }
    assert doc["history"][:-1] == [*base["history"], dropped, deleted, moved]


def test_an_alias_on_a_deleted_version_in_one_side_alone_is_left_for_check() -> None:
    base = model_doc()
    edited = changed(base, entry(5, "version_deleted", version=4))  # challenger still on 4
    assert merged("model", base, edited, base) == edited
    assert merged("model", base, edited, edited) == edited


_MODEL_OPERATION = st.one_of(
    st.tuples(
        st.just("alias"),
        st.sampled_from(["champion", "challenger", "shadow"]),
        st.one_of(st.none(), st.integers(1, 4)),
    ),
    st.tuples(st.just("tag"), _KEYS, st.one_of(st.none(), _VALUES)),
    st.tuples(st.just("describe"), _VALUES),
)


def apply_model_operations(
    doc: dict[str, Any], operations: list[tuple[Any, ...]], user: str, offset: int
) -> dict[str, Any]:
    new = copy.deepcopy(doc)
    for number, (kind, *args) in enumerate(operations):
        stamp = ms_to_iso(T0 + 10_000 + number * 20 + offset * 7)
        recorded: dict[str, Any] | None = None
        if kind == "alias":
            alias, version = args
            if version is None and alias in new["aliases"]:
                recorded = {
                    "action": "alias_deleted",
                    "alias": alias,
                    "version": new["aliases"].pop(alias),
                }
            elif version is not None and new["aliases"].get(alias) != version:
                new["aliases"][alias] = version
                recorded = {"action": "alias_set", "alias": alias, "version": version}
        elif kind == "tag":
            key, value = args
            if value is None and key in new["tags"]:
                del new["tags"][key]
                recorded = {"action": "tag_deleted", "key": key}
            elif value is not None and new["tags"].get(key) != value:
                new["tags"][key] = value
                recorded = {"action": "tag_set", "key": key, "value": value}
        elif new["description"] != args[0]:
            new["description"] = args[0]
            recorded = {"action": "description_changed"}
        if recorded is not None:
            new["history"].append({"timestamp": stamp, "user_id": user, **recorded})
            new["updated_at"] = stamp
    return new


def _latest_change(doc: dict[str, Any], action_key: str, key: str) -> dict[str, Any] | None:
    changes = [
        e
        for e in doc["history"]
        if e["action"].startswith(("alias_", "tag_")) and e.get(action_key) == key
    ]
    return changes[-1] if changes else None


@settings(max_examples=100, deadline=None)
@given(mine=st.lists(_MODEL_OPERATION, max_size=6), other=st.lists(_MODEL_OPERATION, max_size=6))
def test_merging_random_model_changes_replays_them_in_time_order(
    mine: list[tuple[Any, ...]], other: list[tuple[Any, ...]]
) -> None:
    """Aliases and tags merged are what the latest change of each key (on either side)
    made them, as if both sides' changes had been made one after another in time order."""
    base = model_doc()
    ours = apply_model_operations(base, mine, "alice", 0)
    theirs = apply_model_operations(base, other, "bob", 1)
    assert merge_documents("model", base, ours, ours).document == ours
    assert merge_documents("model", base, base, theirs).document == theirs
    doc = merged("model", base, ours, theirs)
    for field, action_key, shown in (("aliases", "alias", "version"), ("tags", "key", "value")):
        for key in {*base[field], *ours[field], *theirs[field]}:
            mine_changed = ours[field].get(key) != base[field].get(key)
            theirs_changed = theirs[field].get(key) != base[field].get(key)
            if mine_changed and theirs_changed:
                latest = _latest_change(doc, action_key, key)
                assert latest is not None
                expected = None if latest["action"].endswith("_deleted") else latest[shown]
                assert doc[field].get(key) == expected
            else:
                side = ours if mine_changed else theirs
                assert doc[field].get(key) == side[field].get(key)


def test_a_number_deleted_on_one_side_and_registered_on_the_other_is_a_collision() -> None:
    """Alice registered and deleted version 5; bob registered his own version 5."""
    base = model_doc()
    alices = changed(base, entry(6, "version_deleted", version=5), last_version=5)
    bobs = changed(base, last_version=5, updated_at=at(7))
    for ours, theirs, side in ((alices, bobs, "ours"), (bobs, alices, "theirs")):
        result = merge_documents("model", base, ours, theirs)
        assert result.collision and result.reused == (5,)
        other = "theirs" if side == "ours" else "ours"
        assert result.conflicts == (
            f"version 5 of 'churn' was registered and deleted on {side}'s side ({at(6)} by "
            f"alice), and {other} registered another version 5: merged, a deleted number "
            "would be used again",
        )
    # Deleting a number both sides already had (from the base) is an ordinary merge.
    old_delete = changed(base, entry(6, "version_deleted", version=4))
    assert merged("model", base, old_delete, bobs)["last_version"] == 5


# -- format 2: alias files, tombstones, uids ----------------------------------------------


def alias_doc(*moves: tuple[float, str, int | None]) -> dict[str, Any]:
    history = [
        entry(
            when,
            "alias_set" if number is not None else "alias_deleted",
            user,
            alias="champion",
            version=number,
        )
        for when, user, number in moves
    ]
    return {"alias": "champion", "version": moves[-1][2] if moves else None, "history": history}


def test_an_alias_file_moved_on_both_sides_points_where_the_later_move_put_it() -> None:
    base = alias_doc((1, "carol", 1))
    ours = alias_doc((1, "carol", 1), (20, "bob", 3))
    theirs = alias_doc((1, "carol", 1), (10, "alice", 2))
    merged = merge_texts(*(yamlio.dumps(d).encode() for d in (base, ours, theirs)), A_PATH)
    assert merged.ok, merged.conflicts
    assert merged.document == alias_doc((1, "carol", 1), (10, "alice", 2), (20, "bob", 3))
    swapped = merge_documents("alias", base, theirs, ours)
    assert swapped.document == merged.document


def test_an_alias_deleted_later_on_one_side_stays_deleted() -> None:
    base = alias_doc((1, "carol", 1))
    ours = alias_doc((1, "carol", 1), (20, "bob", None))
    theirs = alias_doc((1, "carol", 1), (10, "alice", 2))
    merged = merge_documents("alias", base, ours, theirs)
    assert merged.document is not None and merged.document["version"] is None
    assert len(merged.document["history"]) == 3


def tombstone(uid: str, user: str = "alice") -> dict[str, Any]:
    return {
        "name": "churn",
        "version": 4,
        "uid": uid,
        "history": [entry(5, "version_deleted", user, version=4)],
    }


def test_tombstones_of_one_version_merge_and_of_two_versions_collide() -> None:
    same = merge_documents("deleted", None, tombstone("a" * 32), tombstone("a" * 32))
    assert same.ok and same.document == tombstone("a" * 32)
    other = merge_documents("deleted", None, tombstone("a" * 32), tombstone("b" * 32, "bob"))
    assert other.collision
    assert "two different deleted versions under number 4" in other.conflicts[0]


def test_the_uid_is_a_versions_identity_when_both_sides_have_one() -> None:
    ours, theirs = version_doc(), version_doc()
    ours["uid"], theirs["uid"] = "a" * 32, "b" * 32
    collided = merge_documents("version", None, ours, theirs)
    assert collided.collision and "they differ in uid" in collided.conflicts[0]
    theirs["uid"] = "a" * 32
    theirs["tags"] = {"x": "1"}
    merged = merge_documents("version", None, ours, theirs)
    assert merged.ok
    assert merged.document is not None and list(merged.document)[:3] == ["name", "version", "uid"]


def test_a_format_2_model_file_without_updated_at_merges() -> None:
    doc = model_doc()
    for key in ("updated_at", "last_version", "aliases"):
        doc.pop(key, None)
    ours, theirs = copy.deepcopy(doc), copy.deepcopy(doc)
    ours["tags"] = {"team": "a"}
    ours["history"].append(entry(10, "tag_set", key="team", value="a"))
    theirs["description"] = "new"
    theirs["history"].append(entry(11, "description_changed"))
    merged = merge_texts(
        *(yamlio.dumps(d).encode() for d in (doc, ours, theirs)), "models/churn/model.yaml"
    )
    assert merged.ok, merged.conflicts
    assert merged.document is not None
    assert "updated_at" not in merged.document and "aliases" not in merged.document
    assert (merged.document["tags"], merged.document["description"]) == ({"team": "a"}, "new")


A_PATH = "registry/models/churn/aliases/champion.yaml"
