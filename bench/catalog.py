"""How long ``modelreg catalog build`` takes on the benchmark's registry (issue 17).

Builds the catalog of the registry of SIZE versions (10,000 by default; made once by
``build.py`` and cached) into an empty folder twice (first with modelreg's cache of parsed
version files empty, so that build parses every version file as on a fresh clone; then
with the cache filled, in another empty folder), then rebuilds the second: with nothing
changed, after one tag set on one version, and after one version registered. Each row is
one ``modelreg catalog build`` process timed from start to exit, with the files it wrote,
left unchanged and removed. The registry is a copy (the cached one is never changed).

Run: ``.venv/bin/python bench/catalog.py [SIZE]``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import build  # noqa: E402


def catalog_build(registry: Path, site: Path, env: dict[str, str]) -> tuple[float, dict[str, int]]:
    modelreg = Path(sys.executable).with_name("modelreg")
    command = [str(modelreg), "--registry", str(registry), "catalog", "build", str(site)]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--format", "json"], env=env, capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, json.loads(done.stdout)


def main(argv: list[str]) -> None:
    size = int(argv[0]) if argv else 10_000
    cached = build.ensure_registry(size)
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as top:
        registry, site = Path(top) / "registry", Path(top) / "site"
        shutil.copytree(cached, registry, symlinks=True)
        time.sleep(2.5)  # files younger than 2 s are never cached (index.SETTLE_SECONDS)
        env = {
            **os.environ,
            "MODELREG_CACHE_DIR": str(Path(top) / "cache"),
            "MODELREG_USER": "bench",
        }
        from modelreg import Registry

        model = sorted(p.name for p in (registry / "models").iterdir())[0]
        api = Registry(registry, hooks=False)
        cold, result = catalog_build(registry, Path(top) / "cold-site", env)
        steps = [
            ("build into an empty folder", lambda: None),
            ("rebuild, nothing changed", lambda: None),
            (
                "rebuild after one tag on one version",
                lambda: api.set_model_version_tag(model, 5, "reviewed", "yes"),
            ),
            (
                "rebuild after one version registered",
                lambda: api.register(model, "s3://bench/new", metrics={"accuracy": 0.9}),
            ),
        ]
        print(f"modelreg catalog build, registry of {size:,} versions ({cached})\n")
        print("| step | seconds | written | unchanged | removed |")
        print("|---|---:|---:|---:|---:|")
        first = "build into an empty folder, cache empty"
        print(f"| {first} | {cold:.2f} | {result['written']:,} | 0 | 0 |")
        for label, change in steps:
            change()
            seconds, result = catalog_build(registry, site, env)
            print(
                f"| {label} | {seconds:.2f} | {result['written']:,} | "
                f"{result['unchanged']:,} | {result['removed']:,} |"
            )
        pages = sum(1 for _ in site.rglob("*.html"))
        megabytes = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
        print(f"\n{pages:,} pages, {megabytes:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
