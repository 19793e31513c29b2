"""Registered models and model versions, with MLflow's attribute names.

Each entity is built from its YAML document by ``from_doc`` (which checks the schema and
names the file when something is wrong) and gives its JSON shape with ``to_dict``: the
field names of the JSON and YAML output are the attribute names.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path

from modelreg.datasets import Dataset, datasets_doc, read_datasets
from modelreg.docread import DocReader, Document, JSONValue
from modelreg.errors import CorruptFileError
from modelreg.structs import field, struct

TYPE_CHECKING = False  # not `from typing import ...`: start-up (see modelreg.quick)
if TYPE_CHECKING:
    from datetime import datetime
    from typing import TypeAlias

HistoryEntry: TypeAlias = dict[str, JSONValue]
"""One entry of a model's or a version's history (see :mod:`modelreg.actions`)."""

# What the displays of a history entry (the terminal's table, the web catalog) show in
# places of their own, or (the artifact a decision was for) only in json/yaml.
_HISTORY_SHOWN_APART = frozenset(
    {
        "timestamp",
        "user_id",
        "version",
        "action",
        "comment",
        "from_stage",
        "to_stage",
        "artifact_sha256",
    }
)


def history_details(entry: Mapping[str, JSONValue]) -> list[tuple[str, JSONValue]]:
    """The fields of a history entry that its displays list as its details, in order:
    all but those they show apart (time, user, version, action, comment, stage move)
    and the artifact's sha256."""
    return [(key, value) for key, value in entry.items() if key not in _HISTORY_SHOWN_APART]


def now_iso() -> str:
    """The current UTC time as ISO-8601 with milliseconds, e.g. 2026-11-28T19:00:00.123Z."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def iso_to_datetime(text: str) -> datetime:
    """An aware datetime from an ISO-8601 date or date-time (naive means UTC, a date is
    its midnight UTC); ValueError when ``text`` is none."""
    from datetime import datetime, timezone

    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


# The timestamps modelreg writes (YYYY-MM-DDTHH:MM:SS.mmmZ) are converted by arithmetic,
# without datetime, whose import cost 3 ms of every read command (`resolve` reads two
# timestamps); anything else goes through datetime. tests/test_entities_time.py holds the
# two ways to the same answers.


def iso_to_ms(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 timestamp (naive means UTC)."""
    exact = _written_iso_to_ms(text)
    if exact is not None:
        return exact
    return math.floor(iso_to_datetime(text).timestamp() * 1000 + 0.5)


def ms_to_iso(ms: int) -> str:
    seconds, milli = divmod(math.floor(ms), 1000)
    if _FIRST_SECOND <= seconds <= _LAST_SECOND:
        t = time.gmtime(seconds)
        return (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
            f"T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{milli:03d}Z"
        )
    from datetime import datetime, timezone  # raises as before: no year 0 or 10000

    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# 0001-01-01T00:00:00 and 9999-12-31T23:59:59 UTC, datetime's range, in epoch seconds.
_FIRST_SECOND = -62135596800
_LAST_SECOND = 253402300799
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# Epoch milliseconds of a day's midnight by its text, None for no such day: the times of
# a registry fall on few days, and a first read after a clone converts two a version.
_midnights: dict[str, int | None] = {}


def _written_iso_to_ms(text: str) -> int | None:
    """``iso_to_ms`` of a timestamp as modelreg writes it, else None."""
    # Checked by hand, not by a regular expression: compiling one cost every read
    # command's start-up 0.25-0.5 ms, for about the same speed a timestamp.
    if (
        len(text) != 24
        or text[4] != "-"
        or text[7] != "-"
        or text[10] != "T"
        or text[13] != ":"
        or text[16] != ":"
        or text[19] != "."
        or text[23] != "Z"
    ):
        return None
    clock = text[11:13] + text[14:16] + text[17:19] + text[20:23]
    if not (clock.isascii() and clock.isdigit()):
        return None
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if hour > 23 or minute > 59 or second > 59:
        return None
    date = text[:10]
    midnight = _midnights.get(date, -1)
    if midnight == -1:
        digits = text[:4] + text[5:7] + text[8:10]
        midnight = None
        if digits.isascii() and digits.isdigit():
            midnight = _midnight_ms(int(text[:4]), int(text[5:7]), int(text[8:10]))
        if len(_midnights) >= 4096:
            _midnights.clear()
        _midnights[date] = midnight
    if midnight is None:
        return None
    return midnight + ((hour * 60 + minute) * 60 + second) * 1000 + int(text[20:23])


def _midnight_ms(year: int, month: int, day: int) -> int | None:
    """Epoch milliseconds at the start of a day of the proleptic Gregorian calendar, or
    None when there is no such day (or it is before year 1)."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or year < 1:
        return None
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap):
        return None
    # Days since 1970-01-01 (H. Hinnant's days_from_civil): years counted from March, so
    # that February's day comes last.
    march_year = year - (month <= 2)
    era, year_of_era = divmod(march_year, 400)
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return (era * 146097 + day_of_era - 719468) * 86_400_000


# The attributes of the JSON output, in its order (MLflow's names).
_VERSION_OUTPUT = (
    "name",
    "version",
    "creation_timestamp",
    "last_updated_timestamp",
    "current_stage",
    "description",
    "user_id",
    "source",
    "run_id",
    "run_link",
    "model_id",
    "status",
    "status_message",
    "tags",
    "aliases",
    "metrics",
    "params",
    "artifact_sha256",
    "artifact_size",
    "artifact_uri",
    "datasets",
    "lineage",
)
_MODEL_OUTPUT = (
    "name",
    "creation_timestamp",
    "last_updated_timestamp",
    "description",
    "user_id",
    "tags",
    "aliases",
)

#: The fields of a version's and of a model's JSON output, in order (``--columns``).
VERSION_FIELDS = _VERSION_OUTPUT
MODEL_FIELDS = (*_MODEL_OUTPUT, "latest_versions")


def _output(entity: object, names: tuple[str, ...]) -> Document:
    """The attributes ``names`` of ``entity``, its mappings and lists copied."""
    out: Document = {}
    for name in names:
        value: JSONValue = getattr(entity, name)
        if isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, list):
            value = list(value)
        out[name] = value
    return out


@struct
class ModelVersion:
    """One version of a registered model (MLflow's ``ModelVersion`` plus lineage)."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str = "None"
    description: str | None = None
    user_id: str | None = None
    source: str = ""
    run_id: str | None = None
    run_link: str | None = None
    status: str = "READY"
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    metrics: dict[str, int | float] = field(default_factory=dict)
    params: dict[str, JSONValue] = field(default_factory=dict)
    artifact_sha256: str | None = None
    artifact_size: int | None = None
    # Where the artifact store keeps a copy (``register`` with ``artifact_store:``).
    artifact_uri: str | None = None
    lineage: dict[str, JSONValue] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    # The identity of a version across clones and renumbering (format 2; None in format 1
    # files, which keep their bytes).
    uid: str | None = None
    # MLflow 3's logged model this version was registered from (``models:/<model_id>``).
    model_id: str | None = None
    # The data sets it was trained on, by name (modelreg.datasets).
    datasets: dict[str, Dataset] = field(default_factory=dict)

    def to_dict(self) -> Document:
        """The JSON/YAML shape: attribute names, timestamps in epoch milliseconds."""
        out = _output(self, _VERSION_OUTPUT)
        out["datasets"] = datasets_doc(self.datasets)
        return out

    def to_doc(self) -> Document:
        """The version file's content, in the order people read it."""
        doc: Document = {"name": self.name, "version": self.version}
        if self.uid is not None:
            doc["uid"] = self.uid
        doc |= {"source": self.source, "run_id": self.run_id, "run_link": self.run_link}
        if self.model_id is not None:  # only then: older modelreg reads the file unchanged
            doc["model_id"] = self.model_id
        return doc | {
            "description": self.description,
            "current_stage": self.current_stage,
            "status": self.status,
            "user_id": self.user_id,
            "created_at": ms_to_iso(self.creation_timestamp),
            "updated_at": ms_to_iso(self.last_updated_timestamp),
            "tags": dict(sorted(self.tags.items())),
            "metrics": dict(sorted(self.metrics.items())),
            "params": dict(sorted(self.params.items())),
            "artifact": self._artifact_doc(),
            # Only a version with data sets has the key: other files keep their bytes.
            **({"datasets": datasets_doc(self.datasets)} if self.datasets else {}),
            "lineage": dict(self.lineage),
            "history": list(self.history),
        }

    def _artifact_doc(self) -> Document:
        doc: Document = {"sha256": self.artifact_sha256, "size": self.artifact_size}
        # Only a stored artifact has the key: other version files keep their bytes.
        if self.artifact_uri is not None:
            doc["uri"] = self.artifact_uri
        return doc

    @classmethod
    def from_doc(
        cls, doc: Mapping[str, JSONValue], path: Path | str, aliases: list[str]
    ) -> ModelVersion:
        read = record_reader(doc, path)
        artifact = read.section("artifact")
        return cls(
            name=read.text("name"),
            version=read.integer("version"),
            creation_timestamp=read_timestamp(read, "created_at"),
            last_updated_timestamp=read_timestamp(read, "updated_at"),
            current_stage=read.text("current_stage", "None"),
            description=read.optional_text("description"),
            user_id=read.optional_text("user_id"),
            source=read.text("source", ""),
            run_id=read.optional_text("run_id"),
            run_link=read.optional_text("run_link"),
            status=read.text("status", "READY"),
            tags=read.text_mapping("tags"),
            aliases=aliases,
            metrics=read.number_mapping("metrics"),
            params=read.mapping("params"),
            artifact_sha256=artifact.optional_text("sha256"),
            artifact_size=artifact.optional_integer("size"),
            artifact_uri=artifact.optional_text("uri", nonblank=True),
            lineage=read.mapping("lineage"),
            history=read_history(read),
            uid=read.optional_text("uid"),
            model_id=read.optional_text("model_id"),
            datasets=read_datasets(read),
        )


def new_uid() -> str:
    """A new version identity: 32 hex digits (a uuid4)."""
    import uuid

    return uuid.uuid4().hex


@struct
class RegisteredModel:
    """A registered model (MLflow's ``RegisteredModel``)."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    user_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)
    last_version: int = 0
    history: list[HistoryEntry] = field(default_factory=list)

    def to_dict(self) -> Document:
        latest: list[JSONValue] = [version.to_dict() for version in self.latest_versions]
        return _output(self, _MODEL_OUTPUT) | {"latest_versions": latest}

    def to_doc(self) -> Document:
        return {
            "name": self.name,
            "description": self.description,
            "user_id": self.user_id,
            "created_at": ms_to_iso(self.creation_timestamp),
            "updated_at": ms_to_iso(self.last_updated_timestamp),
            # The highest number ever handed out, so a deleted version's number is never
            # reused; the version files stay the truth and `check` compares the two.
            "last_version": self.last_version,
            "tags": dict(sorted(self.tags.items())),
            "aliases": dict(sorted(self.aliases.items())),
            "history": list(self.history),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, JSONValue], path: Path) -> RegisteredModel:
        read = record_reader(doc, path)
        aliases: dict[str, int] = {}
        for alias, version in read.mapping("aliases").items():
            if not isinstance(version, int) or isinstance(version, bool):
                raise CorruptFileError(path, f"alias {alias!r} must point at a version number")
            aliases[str(alias)] = version
        return cls(
            name=read.text("name"),
            creation_timestamp=read_timestamp(read, "created_at"),
            last_updated_timestamp=read_timestamp(read, "updated_at"),
            description=read.optional_text("description"),
            user_id=read.optional_text("user_id"),
            tags=read.text_mapping("tags"),
            aliases=aliases,
            last_version=read.integer("last_version", 0),
            history=read_history(read),
        )


def record_reader(doc: Mapping[str, JSONValue], path: Path | str) -> DocReader:
    # modelreg writes these files: a wrong value is shown, a null is the field's default.
    return DocReader(doc, path, show_found=True, null_is_default=True)


def read_timestamp(read: DocReader, key: str) -> int:
    text = read.text(key)
    try:
        return iso_to_ms(text)
    except ValueError:
        raise read.error(key, f"is not an ISO-8601 time: {text!r}") from None


def read_history(read: DocReader) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    for index, entry in enumerate(read.sequence("history")):
        if not isinstance(entry, dict) or not isinstance(entry.get("action"), str):
            raise CorruptFileError(
                read.path, f"history entry {index + 1} must be a mapping with an 'action'"
            )
        entries.append(entry)
    return entries
