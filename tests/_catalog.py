"""The small registry the catalog's tests build a site of: three ordinary models and one
whose every free-text value is an attack on the page (the browser tests check that none
of them runs; ``window.__xss`` is set by each if it ever does)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelreg import Registry

# The system's Chromium, driven by Playwright (its own browser download is never used).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Nothing but the pages: no sandbox (containers), no GPU, no Google services or updates.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright: Any, profile: Path, width: int, height: int) -> Any:
    """A headless Chromium context with a fresh profile in ``profile``: the browser tests'
    and scripts/catalog_screenshot.py's."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height},
    )


# Each payload, if it ever ran, would set window.__xss.
SCRIPT = "<script>window.__xss = 1</script>"
IMG = '<img src=x onerror="window.__xss = 2">'
QUOTE = '" onmouseover="window.__xss = 3" x="'
SVG = "<svg onload=window.__xss=4>"
JS_LINK = "javascript:window.__xss = 5"
PAYLOADS = (SCRIPT, IMG, QUOTE, SVG)
HOSTILE_MODEL = "hostile-1"

CARD = """# Churn predictor card

| field | value |
|---|---|
| intended use | weekly retention campaigns |

Trained on [the warehouse export](https://example.com/warehouse).
"""


@contextlib.contextmanager
def _user(name: str) -> Iterator[None]:
    saved = os.environ.get("MODELREG_USER")
    os.environ["MODELREG_USER"] = name
    try:
        yield
    finally:
        if saved is None:
            del os.environ["MODELREG_USER"]
        else:
            os.environ["MODELREG_USER"] = saved


def make_registry(root: Path, *, commit: str | None = None) -> Registry:
    """The registry at ``root``; ``commit`` is the git commit recorded in lineage."""
    with _user("alice@example.com"):
        registry = Registry.init(root)
        _ordinary_models(root, registry, commit)
    _hostile_model(root)
    return Registry(root)


def _ordinary_models(root: Path, registry: Registry, commit: str | None) -> None:
    lineage = {"git_commit": commit, "git_branch": "main"} if commit else {}
    registry.create_registered_model(
        "churn",
        tags={"owner": "alice", "team": "growth"},
        description="Predicts **churn**.\n\n- weekly\n- [docs](https://example.com/docs)",
    )
    for number, (accuracy, f1) in enumerate([(0.90, 0.80), (0.93, 0.84), (0.91, 0.86)], 1):
        registry.register(
            "churn",
            f"s3://bucket/churn/{number}",
            run_id=f"run{number}",
            metrics={"accuracy": accuracy, "f1": f1},
            params={"lr": 0.1 * number},
            tags={"data": f"2026-0{number}"},
            lineage=lineage,
            description=f"Version {number}",
        )
    registry.transition_model_version_stage("churn", 1, "Staging")
    registry.transition_model_version_stage("churn", 2, "Production", comment="weekly release")
    registry.set_registered_model_alias("churn", "champion", 2)
    registry.comment_model_version("churn", 3, "looks promising")
    (root / "models" / "churn" / "card.md").write_text(CARD, encoding="utf-8")

    registry.create_registered_model("demand", description="Daily demand")
    registry.register("demand", "s3://bucket/demand/1", metrics={"mape": 0.2})
    registry.register("demand", "s3://bucket/demand/2")
    registry.transition_model_version_stage("demand", 1, "Production")

    registry.create_registered_model("empty-model")


def _hostile_model(root: Path) -> None:
    with _user(f"mallory {SCRIPT}"):
        hostile = Registry(root)
        hostile.create_registered_model(
            HOSTILE_MODEL,
            tags={IMG: SCRIPT, "note": QUOTE, "owner": SVG},
            description=f"{SCRIPT}\n\n{IMG}\n\n[click me]({JS_LINK})\n\n{QUOTE}",
        )
        for number in (1, 2):
            hostile.register(
                HOSTILE_MODEL,
                f"s3://bucket/{SCRIPT}/{number}",
                run_id=IMG,
                run_link=JS_LINK,
                metrics={SVG: 0.5 * number, "auc": 0.7},
                params={"p": IMG},
                tags={"t": QUOTE},
                lineage={"git_commit": QUOTE, "note": SCRIPT},
                description=f"{IMG} v{number}",
            )
        hostile.transition_model_version_stage(HOSTILE_MODEL, 1, "Production", comment=SCRIPT)
        hostile.set_registered_model_alias(HOSTILE_MODEL, "champion", 1, comment=IMG)
