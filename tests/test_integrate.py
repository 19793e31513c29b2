"""integrate(): three-way merges of whole format-2 registry trees by meaning, on trees
built by hand — renumbering in both directions, exclusive stages, aliases against
deletes, tombstones against registrations, renames against registrations, and what
must stop."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _trees import (
    Tree,
    add_model,
    base_tree,
    change_version,
    delete,
    dump,
    entry,
    load,
    register,
    registry_tree,
    set_alias,
    transition,
)
from modelreg.errors import ConflictError
from modelreg.gitsync.changes import vanished
from modelreg.gitsync.integrate import integrate

V = "models/churn/versions/{}.yaml"
A = "models/churn/aliases/{}.yaml"


def sides(base: Tree) -> tuple[Tree, Tree]:
    return copy.deepcopy(base), copy.deepcopy(base)


def version(tree: Tree, number: int) -> dict[str, Any]:
    result: dict[str, Any] = load(tree, V.format(number))
    return result


def test_both_sides_register_4_the_local_one_becomes_5_with_everything() -> None:
    base = base_tree()
    published, local = sides(base)
    theirs = register(published, "churn", 4, 10, "alice")
    mine = register(
        local,
        "churn",
        4,
        11,
        "bob",
        metrics={"f1": 0.8},
        params={"lr": 0.1},
        tags={"team": "b"},
        description="bob's",
        lineage={"git_commit": "abc"},
    )
    done = integrate(base, published, local, stamp="2026-12-01T11:00:00.000Z", user="bob")
    assert done.renumbered == [("churn", 4, 5)]
    assert done.files[V.format(4)] == published[V.format(4)]  # published never changes
    five = version(done.files, 5)
    assert five["version"] == 5 and five["uid"] == mine["uid"] != theirs["uid"]
    for key in ("metrics", "params", "tags", "description", "lineage", "source", "created_at"):
        assert five[key] == mine[key]
    assert five["history"] == [
        *mine["history"],
        {
            "timestamp": "2026-12-01T11:00:00.000Z",
            "user_id": "bob",
            "action": "renumbered",
            "from_version": 4,
            "to_version": 5,
        },
    ]
    assert done.notes == []


def test_the_published_side_registered_two_and_local_aliases_and_promotes_its_4() -> None:
    base = base_tree()
    published, local = sides(base)
    register(published, "churn", 4, 10, "alice")
    register(published, "churn", 5, 11, "alice")
    register(local, "churn", 4, 12, "bob")
    set_alias(local, "churn", "champion", 4, 13, "bob")
    transition(local, "churn", 4, "Staging", 14, "bob")
    done = integrate(base, published, local, user="bob")
    assert done.renumbered == [("churn", 4, 6)]
    assert version(done.files, 6)["current_stage"] == "Staging"
    assert version(done.files, 4)["user_id"] == "alice"
    alias = load(done.files, A.format("champion"))
    assert alias["version"] == 6
    assert [move["version"] for move in alias["history"]] == [6]


def test_a_version_archived_here_by_a_renumbered_version_names_its_new_number() -> None:
    base = base_tree()
    transition(base, "churn", 2, "Production", 5, "carol")
    published, local = sides(base)
    register(published, "churn", 4, 10, "alice")
    register(local, "churn", 4, 11, "bob")
    change_version(
        local,
        "churn",
        2,
        current_stage="Archived",
        add_history=[
            entry(12, "bob", "stage_changed", from_stage="Production", to_stage="Archived")
            | {"archived_by": 4}
        ],
    )
    transition(local, "churn", 4, "Production", 12, "bob")
    done = integrate(base, published, local)
    assert done.renumbered == [("churn", 4, 5)]
    assert version(done.files, 2)["history"][-1]["archived_by"] == 5
    assert version(done.files, 5)["current_stage"] == "Production"
    assert version(done.files, 4)["current_stage"] == "None"


def test_local_versions_after_a_collision_keep_their_order() -> None:
    base = base_tree()
    published, local = sides(base)
    register(published, "churn", 4, 10, "alice")
    first = register(local, "churn", 4, 11, "bob")
    second = register(local, "churn", 5, 12, "bob")
    set_alias(local, "churn", "a", 4, 13, "bob")
    set_alias(local, "churn", "b", 5, 13, "bob")
    done = integrate(base, published, local)
    assert done.renumbered == [("churn", 4, 5), ("churn", 5, 6)]
    assert version(done.files, 5)["uid"] == first["uid"]
    assert version(done.files, 6)["uid"] == second["uid"]
    assert load(done.files, A.format("a"))["version"] == 5
    assert load(done.files, A.format("b"))["version"] == 6


def test_nothing_is_renumbered_when_the_numbers_do_not_collide() -> None:
    base = base_tree()
    published, local = sides(base)
    register(published, "churn", 4, 10, "alice")
    add_model(local, "fraud", 11, "bob")
    register(local, "fraud", 1, 12, "bob")
    done = integrate(base, published, local)
    assert done.renumbered == []
    assert set(done.files) == set(published) | set(local)


def test_a_published_tombstone_takes_the_number() -> None:
    base = base_tree()
    published, local = sides(base)
    register(published, "churn", 4, 10, "alice")
    delete(published, "churn", 4, 11, "alice")
    mine = register(local, "churn", 4, 12, "bob")
    done = integrate(base, published, local)
    assert done.renumbered == [("churn", 4, 5)]
    assert "models/churn/deleted/4.yaml" in done.files
    assert V.format(4) not in done.files
    assert version(done.files, 5)["uid"] == mine["uid"]


def test_a_local_tombstone_moves_when_the_published_side_registered_the_number() -> None:
    base = base_tree()
    published, local = sides(base)
    theirs = register(published, "churn", 4, 12, "alice")
    register(local, "churn", 4, 10, "bob")
    delete(local, "churn", 4, 11, "bob")
    done = integrate(base, published, local)
    assert done.renumbered == [("churn", 4, 5)]
    assert version(done.files, 4)["uid"] == theirs["uid"]
    tombstone = load(done.files, "models/churn/deleted/5.yaml")
    assert tombstone["version"] == 5
    assert [e["action"] for e in tombstone["history"]] == ["version_deleted", "renumbered"]
    assert tombstone["history"][0]["version"] == 5
    assert "models/churn/deleted/4.yaml" not in done.files


def test_two_versions_entering_an_exclusive_stage_the_later_wins() -> None:
    base = base_tree()
    transition(base, "churn", 1, "Production", 5, "carol")
    published, local = sides(base)
    transition(published, "churn", 1, "Archived", 10, "alice")
    transition(published, "churn", 2, "Production", 10, "alice")
    transition(local, "churn", 1, "Archived", 11, "bob")
    transition(local, "churn", 3, "Production", 11, "bob")
    done = integrate(base, published, local)
    stages = {n: version(done.files, n)["current_stage"] for n in (1, 2, 3)}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    last = version(done.files, 2)["history"][-1]
    assert last == {
        "timestamp": "2026-12-01T10:11:00.000Z",
        "user_id": "bob",
        "action": "stage_changed",
        "from_stage": "Production",
        "to_stage": "Archived",
        "comment": "archived by merge: version 3 entered Production later",
        "archived_by": 3,
    }
    assert "churn: version 2 archived: version 3 entered Production later" in done.notes


def test_a_stage_that_is_not_exclusive_may_hold_both() -> None:
    base = base_tree()
    base.update(registry_tree(exclusive=()))
    published, local = sides(base)
    transition(published, "churn", 2, "Production", 10, "alice")
    transition(local, "churn", 3, "Production", 11, "bob")
    done = integrate(base, published, local)
    assert [version(done.files, n)["current_stage"] for n in (2, 3)] == ["Production"] * 2


def test_an_alias_set_on_a_version_deleted_on_the_other_side_is_cleared() -> None:
    base = base_tree()
    published, local = sides(base)
    delete(published, "churn", 2, 10, "alice")
    set_alias(local, "churn", "champion", 2, 11, "bob")
    done = integrate(base, published, local)
    alias = load(done.files, A.format("champion"))
    assert alias["version"] is None
    assert alias["history"][-1] == {
        "timestamp": "2026-12-01T10:11:00.000Z",
        "user_id": "alice",
        "action": "alias_deleted",
        "alias": "champion",
        "version": 2,
        "comment": "merge: version 2 was deleted on the other branch",
    }
    assert V.format(2) not in done.files


def test_one_alias_moved_on_both_sides_the_later_move_wins() -> None:
    base = base_tree()
    set_alias(base, "churn", "champion", 1, 5, "carol")
    published, local = sides(base)
    set_alias(published, "churn", "champion", 2, 12, "alice")
    set_alias(local, "churn", "champion", 3, 11, "bob")
    done = integrate(base, published, local)
    alias = load(done.files, A.format("champion"))
    assert alias["version"] == 2
    assert [(e["user_id"], e["version"]) for e in alias["history"]] == [
        ("carol", 1),
        ("bob", 3),
        ("alice", 2),
    ]


def test_comments_on_one_version_on_both_sides_are_all_kept() -> None:
    base = base_tree()
    published, local = sides(base)
    change_version(
        published, "churn", 2, add_history=[entry(10, "alice", "commented", comment="a")]
    )
    change_version(local, "churn", 2, add_history=[entry(9, "bob", "commented", comment="b")])
    done = integrate(base, published, local)
    comments = [e["comment"] for e in version(done.files, 2)["history"] if "comment" in e]
    assert comments == ["b", "a"]
    assert version(done.files, 2)["updated_at"] == "2026-12-01T10:10:00.000Z"


def rename(tree: Tree, old: str, new: str, minute: int, user: str) -> None:
    for path in [p for p in tree if p.startswith(f"models/{old}/")]:
        doc = load(tree, path)
        if doc.get("name") == old:
            doc["name"] = new
        if path.endswith("/model.yaml"):
            doc["history"].append(entry(minute, user, "model_renamed", **{"from": old, "to": new}))
        del tree[path]
        tree[f"models/{new}/" + path.removeprefix(f"models/{old}/")] = dump(doc)


def test_a_version_registered_in_a_model_renamed_on_the_other_side_follows_the_rename() -> None:
    base = base_tree()
    published, local = sides(base)
    rename(published, "churn", "attrition", 10, "alice")
    mine = register(local, "churn", 4, 11, "bob")
    set_alias(local, "churn", "champion", 4, 12, "bob")
    done = integrate(base, published, local)
    assert not [path for path in done.files if path.startswith("models/churn/")]
    moved = load(done.files, "models/attrition/versions/4.yaml")
    assert (moved["name"], moved["uid"]) == ("attrition", mine["uid"])
    assert load(done.files, "models/attrition/aliases/champion.yaml")["version"] == 4
    model = load(done.files, "models/attrition/model.yaml")
    assert model["name"] == "attrition"


def test_the_local_side_renamed_and_the_published_side_registered() -> None:
    base = base_tree()
    published, local = sides(base)
    register(published, "churn", 4, 10, "alice")
    rename(local, "churn", "attrition", 11, "bob")
    done = integrate(base, published, local)
    assert load(done.files, "models/attrition/versions/4.yaml")["user_id"] == "alice"
    assert sorted(p for p in done.files if "/versions/" in p) == [
        f"models/attrition/versions/{n}.yaml" for n in (1, 2, 3, 4)
    ]


def test_renamed_to_two_different_names_stops() -> None:
    base = base_tree()
    published, local = sides(base)
    rename(published, "churn", "a", 10, "alice")
    rename(local, "churn", "b", 11, "bob")
    with pytest.raises(ConflictError, match="renamed to 'a' on the published side and to 'b'"):
        integrate(base, published, local)


def test_overlapping_edits_of_registry_yaml_stop_with_what_to_do() -> None:
    base = base_tree()
    published, local = sides(base)
    published["registry.yaml"] = published["registry.yaml"].replace(b"10.0", b"20.0")
    local["registry.yaml"] = local["registry.yaml"].replace(b"10.0", b"30.0")
    with pytest.raises(ConflictError, match=r"registry\.yaml was changed on both sides") as caught:
        integrate(base, published, local)
    assert caught.value.exit_code == 4


def test_a_model_created_on_both_sides_is_one_model_with_both_sides_versions() -> None:
    base = base_tree()
    published, local = sides(base)
    add_model(published, "fraud", 10, "alice")
    register(published, "fraud", 1, 10, "alice")
    add_model(local, "fraud", 11, "bob")
    mine = [register(local, "fraud", n, 11 + n, "bob") for n in (1, 2)]
    change = load(local, "models/fraud/model.yaml")
    change["tags"] = {"team": "b"}
    change["history"].append(entry(14, "bob", "tag_set", key="team", value="b"))
    local["models/fraud/model.yaml"] = dump(change)
    done = integrate(base, published, local)
    assert done.renumbered == [("fraud", 1, 2), ("fraud", 2, 3)]
    model = load(done.files, "models/fraud/model.yaml")
    assert (model["user_id"], model["tags"]) == ("alice", {"team": "b"})
    assert [e["action"] for e in model["history"]] == ["model_created", "tag_set"]
    assert [load(done.files, f"models/fraud/versions/{n}.yaml")["uid"] for n in (2, 3)] == [
        doc["uid"] for doc in mine
    ]


def test_two_models_created_under_one_name_in_format_1_stop_and_say_to_rename() -> None:
    base = base_tree()
    base.update(registry_tree(fmt=1))
    published, local = sides(base)
    add_model(published, "fraud", 10, "alice")
    add_model(local, "fraud", 11, "bob")
    with pytest.raises(ConflictError, match="Two different models named 'fraud'") as caught:
        integrate(base, published, local)
    assert "`modelreg rename`" in str(caught.value)


def test_format_1_collisions_stop_and_say_to_upgrade() -> None:
    base = base_tree()
    base.update(registry_tree(fmt=1))
    published, local = sides(base)
    for tree, minute, user in ((published, 10, "alice"), (local, 11, "bob")):
        doc = register(tree, "churn", 4, minute, user)
        del doc["uid"]  # format 1 has no uids
        tree[V.format(4)] = dump(doc)
    with pytest.raises(ConflictError, match="format 1, which cannot renumber"):
        integrate(base, published, local)


def test_a_version_deleted_on_one_side_and_commented_on_the_other_stays_deleted() -> None:
    base = base_tree()
    published, local = sides(base)
    delete(published, "churn", 3, 10, "alice")
    change_version(local, "churn", 3, add_history=[entry(11, "bob", "commented", comment="x")])
    done = integrate(base, published, local)
    assert V.format(3) not in done.files
    assert "models/churn/deleted/3.yaml" in done.files
    assert any("version 3 was deleted on the published side" in note for note in done.notes)


# -- properties of random work on two clones ---------------------------------------------

OPS = ("register", "register", "alias", "stage", "comment", "tag", "delete")


@st.composite
def two_sides(draw: st.DrawFn) -> tuple[Tree, Tree, Tree]:
    """A base, and two sides each doing random operations at interleaved times."""
    base = base_tree()
    published, local = sides(base)
    minutes = iter(range(10, 60))
    for _ in range(draw(st.integers(1, 12))):
        side, user = draw(st.sampled_from([(published, "alice"), (local, "bob")]))
        op = draw(st.sampled_from(OPS))
        minute = next(minutes)
        numbers = sorted(int(p.split("/")[-1][:-5]) for p in side if "/versions/" in p)
        taken = [int(p.split("/")[-1][:-5]) for p in side if "/versions/" in p or "/deleted/" in p]
        if op == "register" or not numbers:
            register(side, "churn", max(taken) + 1, minute, user)
            continue
        number = draw(st.sampled_from(numbers))
        if op == "alias":
            set_alias(side, "churn", draw(st.sampled_from(["a", "b"])), number, minute, user)
        elif op == "stage":
            stage = draw(st.sampled_from(["Staging", "Production", "Archived"]))
            holders = [n for n in numbers if version(side, n)["current_stage"] == stage]
            if stage == "Production":
                for other in holders:
                    transition(side, "churn", other, "Archived", minute, user)
            if version(side, number)["current_stage"] != stage:
                transition(side, "churn", number, stage, minute, user)
        elif op == "comment":
            change_version(
                side, "churn", number, add_history=[entry(minute, user, "commented", comment="c")]
            )
        elif op == "tag":
            change_version(
                side,
                "churn",
                number,
                tags={"k": user},
                add_history=[entry(minute, user, "tag_set", key="k", value=user)],
            )
        elif version(side, number)["current_stage"] != "Production":
            delete(side, "churn", number, minute, user)
    return base, published, local


def uids(tree: Tree, folder: str) -> dict[int, str]:
    return {
        int(path.split("/")[-1][:-5]): load(tree, path)["uid"]
        for path in tree
        if f"/{folder}/" in path
    }


@settings(max_examples=150, deadline=None)
@given(two_sides())
def test_integrating_random_work_loses_nothing_and_never_moves_a_published_number(
    trees: tuple[Tree, Tree, Tree],
) -> None:
    base, published, local = trees
    done = integrate(base, published, local, stamp="2026-12-01T12:00:00.000Z")
    merged = done.files
    live, dead = uids(merged, "versions"), uids(merged, "deleted")
    # Published numbers never move: what the published side has at N is still at N.
    for number, uid in uids(published, "versions").items():
        assert live.get(number, dead.get(number)) == uid
    for number, uid in uids(published, "deleted").items():
        assert dead[number] == uid
    # Every version either side made is there once, alive unless a side deleted it.
    deleted = set(uids(published, "deleted").values()) | set(uids(local, "deleted").values())
    made = set(uids(published, "versions").values()) | set(uids(local, "versions").values())
    assert sorted(live.values()) == sorted(made - deleted)
    assert set(dead.values()) == deleted
    numbers = sorted([*live, *dead])
    assert numbers == list(range(1, len(numbers) + 1))  # contiguous, each once
    # Every history entry of either side is kept (entries of deleted versions go with
    # them); only local entries naming a renumbered version now name its new number.
    assert vanished(published, merged) == []
    moved = {old for _, old, _ in done.renumbered}
    for lost in vanished(local, merged):
        named = {lost.entry.get(key) for key in ("version", "previous_version", "archived_by")}
        assert named & moved, lost
    # At most one version in Production; aliases point at live versions or nowhere.
    production = [n for n in live if version(merged, n)["current_stage"] == "Production"]
    assert len(production) <= 1
    for path in merged:
        if "/aliases/" in path:
            assert load(merged, path)["version"] in (None, *live)
    # Deterministic for a given stamp.
    assert integrate(base, published, local, stamp="2026-12-01T12:00:00.000Z") == done
