"""The benchmark's data: deterministic models and versions, the same for every store.

Pure standard library, so that both sides import it: ``build.py`` (in modelreg's venv)
writes it as a modelreg registry, ``mlflow_side.py`` (in MLflow's venv) loads it into
MLflow's SQLite and file stores. A registry of SIZE versions is SIZE / 100 models of
100 versions each; every model and version is generated from ``(SEED, model index)``
alone, so any part can be generated without the rest.

What the searches hit (checked against every store by ``run.py``):

- ``name = 'NAME'``: one model, ``VERSIONS_PER_MODEL`` versions (1% of 10,000).
- ``tags.team = 'growth'``: ``team`` is a model's team on all its versions, the models
  cycle through five teams: exactly 20% of the versions (2,000 of 10,000).
- ``metrics.accuracy >= 0.95 AND metrics.accuracy < 0.96``: accuracy is uniform in
  [0.60, 0.99): about 2.6% of the versions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SEED = 7
VERSIONS_PER_MODEL = 100
# 2025-01-06T00:00:00Z: versions are created about a day apart from here on.
EPOCH_MS = 1_736_121_600_000
DAY_MS = 86_400_000

TEAMS = ("growth", "risk", "search", "platform", "vision")
FAMILIES = ("churn", "fraud", "ranker", "forecast", "pricing", "recsys", "vision", "nlp")
KINDS = ("predictor", "detector", "model", "classifier", "scorer")
FRAMEWORKS = ("sklearn", "xgboost", "pytorch", "lightgbm")
USERS = tuple(f"{who}@example.com" for who in ("alice", "bob", "carol", "dave", "erin", "frank"))

TAG_FILTER = "tags.team = 'growth'"
METRIC_LOW = 0.95
METRIC_HIGH = 0.96
METRIC_FILTER = f"metrics.accuracy >= {METRIC_LOW} AND metrics.accuracy < {METRIC_HIGH}"
# Page size of every search, modelreg's and MLflow's default for versions.
MAX_RESULTS = 10_000


@dataclass
class Version:
    """One model version, with modelreg's fields (MLflow gets the subset it has)."""

    name: str
    version: int
    source: str
    run_id: str
    run_link: str | None
    description: str | None
    stage: str
    user_id: str
    created_ms: int
    updated_ms: int
    tags: dict[str, str]
    metrics: dict[str, float]
    params: dict[str, Any]
    lineage: dict[str, Any]
    history: list[dict[str, Any]]


@dataclass
class Model:
    """One registered model and its versions."""

    name: str
    index: int
    description: str
    user_id: str
    created_ms: int
    updated_ms: int
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[Version] = field(default_factory=list)


def model_count(size: int) -> int:
    if size % VERSIONS_PER_MODEL:
        raise ValueError(f"size must be a multiple of {VERSIONS_PER_MODEL}, not {size}")
    return size // VERSIONS_PER_MODEL


def model_name(index: int) -> str:
    family = FAMILIES[index % len(FAMILIES)]
    kind = KINDS[(index // len(FAMILIES)) % len(KINDS)]
    return f"{family}-{kind}-{index:04d}"


def name_filter_model(size: int) -> str:
    """The model that the name filter finds: the middle one."""
    return model_name(model_count(size) // 2)


def name_filter(size: int) -> str:
    return f"name = '{name_filter_model(size)}'"


def iso(ms: int) -> str:
    """Epoch milliseconds as modelreg writes them (UTC, milliseconds, Z)."""
    import datetime as dt

    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def version_payload(rng: random.Random, name: str, number: int, team: str) -> dict[str, Any]:
    """What a user passes when registering: source, run, tags, metrics, params."""
    run_id = _hex(rng, 32)
    accuracy = round(rng.uniform(0.60, 0.99), 4)
    tags = {
        "team": team,
        "dataset": f"{2025 + number // 365}-{(number // 30) % 12 + 1:02d}",
        "framework": rng.choice(FRAMEWORKS),
    }
    if rng.random() < 0.5:
        tags["validated"] = rng.choice(("true", "false"))
    if rng.random() < 0.5:
        tags["owner"] = rng.choice(USERS)
    return {
        "source": f"s3://ml-artifacts/{name}/{run_id}/artifacts/model",
        "run_id": run_id,
        "run_link": (
            f"https://mlflow.example.com/#/experiments/{rng.randint(1, 40)}/runs/{run_id}"
            if rng.random() < 0.7
            else None
        ),
        "description": (
            f"Retrained on {tags['dataset']} with {tags['framework']}"
            if rng.random() < 0.3
            else None
        ),
        "tags": tags,
        "metrics": {
            "accuracy": accuracy,
            "f1": round(max(0.0, accuracy - rng.uniform(0.0, 0.05)), 4),
            "loss": round(rng.uniform(0.05, 0.9), 4),
        },
        "params": {
            "learning_rate": rng.choice((0.01, 0.03, 0.1, 0.3)),
            "max_depth": rng.randint(3, 12),
            "n_estimators": rng.choice((100, 200, 500, 1000)),
        },
    }


def generate_model(index: int, versions: int = VERSIONS_PER_MODEL) -> Model:
    """Model ``index`` with its versions; the same on every call."""
    rng = random.Random(f"{SEED}:{index}")
    name = model_name(index)
    team = TEAMS[index % len(TEAMS)]
    owner = USERS[index % len(USERS)]
    created = EPOCH_MS + index * 3_600_000
    production = versions - rng.randint(1, 5) if versions > 5 else versions
    staging = versions if versions > 1 and production != versions else None
    model = Model(
        name=name,
        index=index,
        description=f"{name.split('-')[0].capitalize()} model of the {team} team.",
        user_id=owner,
        created_ms=created,
        updated_ms=created,
        tags={"team": team, "owner": owner},
        aliases={"champion": production},
    )
    if staging is not None:
        model.aliases["challenger"] = staging
    for number in range(1, versions + 1):
        payload = version_payload(rng, name, number, team)
        created_ms = created + number * DAY_MS + rng.randint(0, 3_600_000)
        user = rng.choice(USERS)
        if number == production:
            stage = "Production"
        elif number == staging:
            stage = "Staging"
        elif number < production and rng.random() < 0.5:
            stage = "Archived"
        else:
            stage = "None"
        history: list[dict[str, Any]] = [
            {
                "timestamp": iso(created_ms),
                "user_id": user,
                "action": "version_registered",
                "version": number,
            }
        ]
        updated_ms = created_ms
        if stage != "None":
            updated_ms = created_ms + rng.randint(60_000, 5 * DAY_MS)
            history.append(
                {
                    "timestamp": iso(updated_ms),
                    "user_id": rng.choice(USERS),
                    "action": "stage_changed",
                    "from_stage": "None",
                    "to_stage": stage,
                }
            )
        model.versions.append(
            Version(
                name=name,
                version=number,
                source=payload["source"],
                run_id=payload["run_id"],
                run_link=payload["run_link"],
                description=payload["description"],
                stage=stage,
                user_id=user,
                created_ms=created_ms,
                updated_ms=updated_ms,
                tags=payload["tags"],
                metrics=payload["metrics"],
                params=payload["params"],
                lineage={
                    "user": user,
                    "git_commit": _hex(rng, 40),
                    "git_dirty": rng.random() < 0.1,
                    "git_branch": "main",
                },
                history=history,
            )
        )
        model.updated_ms = max(model.updated_ms, updated_ms)
    return model


def models(size: int) -> Iterator[Model]:
    for index in range(model_count(size)):
        yield generate_model(index)


def in_metric_range(value: float) -> bool:
    return METRIC_LOW <= value < METRIC_HIGH


@dataclass(frozen=True)
class Expected:
    """How many versions each search finds (before the page limit)."""

    name: int
    tag: int
    metric: int

    def page(self, kind: str) -> int:
        """The number of results of the first page of the search ``kind``."""
        return min(int(getattr(self, kind)), MAX_RESULTS)


def expected(size: int) -> Expected:
    tag = metric = 0
    for model in models(size):
        for version in model.versions:
            tag += version.tags["team"] == "growth"
            metric += in_metric_range(version.metrics["accuracy"])
    return Expected(name=VERSIONS_PER_MODEL, tag=tag, metric=metric)


def filters(size: int) -> dict[str, str]:
    """The three searches, by kind."""
    return {"name": name_filter(size), "tag": TAG_FILTER, "metric": METRIC_FILTER}
