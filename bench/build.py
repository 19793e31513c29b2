"""Build the benchmark's modelreg registries directly in the project's file format.

Registering 100,000 versions through the API would take longer than the benchmark
itself, so the folder is written here from :mod:`dataset` with the project's own
entities (``to_doc``) and YAML writer (``yamlio.dumps``): byte for byte what the API
writes, without the lock and the fsyncs. Built registries are cached under
``bench/.data/modelreg-SIZE`` and rebuilt when the data or the file format changes.

Run alone: ``python bench/build.py 1000 10000``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dataset  # noqa: E402

DATA = BENCH / ".data"
# Bump when the way registries are built here changes.
BUILD_FORMAT = 2  # 2: registry format 2 (model.yaml, aliases/, uids; see layout.py)
CHUNK = 50  # models per worker task


def registry_path(size: int) -> Path:
    return DATA / f"modelreg-{size}"


def build_key(size: int) -> str:
    """What a built registry depends on: this builder, the data, and the file format."""
    import modelreg.entities
    import modelreg.layout
    import modelreg.yamlio

    digest = hashlib.sha256()
    for module in (modelreg.entities, modelreg.layout, modelreg.yamlio, dataset):
        digest.update(Path(str(module.__file__)).read_bytes())
    return f"format={BUILD_FORMAT} seed={dataset.SEED} size={size} code={digest.hexdigest()[:16]}"


def ensure_registry(size: int, log: bool = True) -> Path:
    """The registry of ``size`` versions, built unless the cached one is current."""
    root = registry_path(size)
    stamp = root.with_name(root.name + ".built")
    key = build_key(size)
    if root.is_dir() and stamp.is_file() and stamp.read_text() == key:
        return root
    if log:
        print(f"building a modelreg registry of {size:,} versions in {root} ...", file=sys.stderr)
    stamp.unlink(missing_ok=True)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    _build(partial, size)
    partial.rename(root)
    stamp.write_text(key)
    return root


def _build(root: Path, size: int) -> None:
    from modelreg.registry import Registry

    Registry.init(root)
    count = dataset.model_count(size)
    starts = range(0, count, CHUNK)
    workers = min(os.cpu_count() or 1, 4)
    if workers > 1 and count > CHUNK:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(_write_models, [root] * len(starts), starts, [count] * len(starts)):
                pass
    else:
        for start in starts:
            _write_models(root, start, count)


def _write_models(root: Path, start: int, count: int) -> None:
    for index in range(start, min(start + CHUNK, count)):
        write_model(root, dataset.generate_model(index))


def write_model(root: Path, model: dataset.Model) -> None:
    """Write one model's folder: model.yaml, aliases/A.yaml and versions/N.yaml, as the
    API would (registry format 2)."""
    from modelreg import layout, yamlio
    from modelreg.entities import ModelVersion, RegisteredModel

    folder = root / "models" / model.name
    (folder / "versions").mkdir(parents=True)
    entity = RegisteredModel(
        name=model.name,
        creation_timestamp=model.created_ms,
        last_updated_timestamp=model.updated_ms,
        description=model.description,
        user_id=model.user_id,
        tags=model.tags,
        aliases=model.aliases,
        last_version=len(model.versions),
        history=[
            {
                "timestamp": dataset.iso(model.created_ms),
                "user_id": model.user_id,
                "action": "model_created",
            }
        ],
    )
    doc, aliases, _ = layout.split(entity)
    (folder / "model.yaml").write_text(yamlio.dumps(doc), encoding="utf-8")
    if aliases:
        (folder / layout.ALIASES_DIR).mkdir()
    for alias, each in aliases.items():
        text = yamlio.dumps(each.to_doc())
        (folder / layout.ALIASES_DIR / f"{alias}.yaml").write_text(text, encoding="utf-8")
    for version in model.versions:
        mv = ModelVersion(
            name=version.name,
            version=version.version,
            creation_timestamp=version.created_ms,
            last_updated_timestamp=version.updated_ms,
            current_stage=version.stage,
            description=version.description,
            user_id=version.user_id,
            source=version.source,
            run_id=version.run_id,
            run_link=version.run_link,
            tags=version.tags,
            metrics=dict(version.metrics),
            params=version.params,
            lineage=version.lineage,
            history=version.history,
            # Deterministic, so that a rebuild writes the same bytes.
            uid=hashlib.md5(f"{version.name}/{version.version}".encode()).hexdigest(),  # noqa: S324 - an identity, not a secret
        )
        path = folder / "versions" / f"{version.version}.yaml"
        path.write_text(yamlio.dumps(mv.to_doc()), encoding="utf-8")


_CHECKOUT_TOP = frozenset({"registry.yaml", ".gitignore", "models"})
_CHECKOUT_MODEL = frozenset({"model.yaml", "versions", "aliases", "deleted"})


def reset_to_checkout(root: Path) -> int:
    """Remove everything a fresh clone of the registry would not have (caches, locks,
    temporary files): only registry.yaml, .gitignore, models/NAME/model.yaml,
    models/NAME/aliases/, models/NAME/deleted/ and models/NAME/versions/N.yaml stay.
    Returns how many entries were removed."""
    removed = 0
    for entry in list(root.iterdir()):
        if entry.name not in _CHECKOUT_TOP:
            removed += _remove(entry)
    for model in list((root / "models").iterdir()):
        if not model.is_dir() or model.is_symlink():
            removed += _remove(model)
            continue
        for entry in list(model.iterdir()):
            if entry.name not in _CHECKOUT_MODEL:
                removed += _remove(entry)
        versions = model / "versions"
        if versions.is_dir():
            with os.scandir(versions) as scan:
                strays = [e.path for e in scan if not _is_version_file(e.name)]
            for stray in strays:
                removed += _remove(Path(stray))
    return removed


def _is_version_file(name: str) -> bool:
    stem, _, ext = name.partition(".")
    return ext == "yaml" and stem.isdigit()


def _remove(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    return 1


if __name__ == "__main__":
    for argument in sys.argv[1:] or ["1000", "10000"]:
        print(ensure_registry(int(argument)))
