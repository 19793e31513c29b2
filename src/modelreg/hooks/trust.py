"""Trust: what a folder that arrived by ``git clone`` can run — its hooks, and the
validation ``checks:`` of its rules that ``promote`` runs — runs on a machine only once
someone there trusted this exact configuration (``modelreg trust``: the sha256 of the
hooks and of the checks), remembered per registry path outside every registry folder — or
when ``$MODELREG_TRUST=1`` (everything; for CI) or ``$MODELREG_TRUST_HOOKS=1`` (hooks)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from modelreg import jsonio
from modelreg.docread import Document
from modelreg.entities import now_iso
from modelreg.errors import CorruptFileError
from modelreg.hooks.config import HookConfig, digest
from modelreg.store import atomic_write
from modelreg.workflow import Rules

TRUST_ENV = "MODELREG_TRUST_HOOKS"
TRUST_ALL_ENV = "MODELREG_TRUST"
NO_HOOKS_ENV = "MODELREG_NO_HOOKS"
TRUST_DIR_ENV = "MODELREG_TRUST_DIR"


def trust_file() -> Path:
    """Where trust is remembered: outside every registry folder, per user."""
    explicit = os.environ.get(TRUST_DIR_ENV)
    if explicit:
        return Path(explicit) / "trusted.json"
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "modelreg" / "trusted.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "modelreg" / "trusted.json"


def trusted_by_environment() -> bool:
    """Whether the environment trusts the hooks ($MODELREG_TRUST_HOOKS or $MODELREG_TRUST)."""
    return _set(TRUST_ENV) or _set(TRUST_ALL_ENV)


def _set(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def checks_digest(rules: Rules) -> str | None:
    """sha256 of every validation command of ``rules`` (None: there is none)."""
    listed = [
        {"model": model, "stage": stage, "name": each.name, "run": each.run}
        for model, stages in [(None, rules.stages), *sorted(rules.models.items())]
        for stage, rule in sorted(stages.items())
        for each in rule.checks
    ]
    return digest(listed) if listed else None


def checks_trusted(root: Path, rules: Rules) -> bool:
    """Whether this machine trusts exactly these validation checks of this registry."""
    wanted = checks_digest(rules)
    if wanted is None or _set(TRUST_ALL_ENV):
        return True
    try:
        entry = _read_trust(strict=False).get(_registry_key(root))
    except CorruptFileError:
        return False
    return isinstance(entry, dict) and entry.get("checks_sha256") == wanted


def disabled_by_environment() -> bool:
    return os.environ.get(NO_HOOKS_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def is_trusted(root: Path, config: HookConfig) -> bool:
    """Whether this machine trusts exactly this hook configuration of this registry."""
    if trusted_by_environment():
        return True
    try:
        entry = _read_trust(strict=False).get(_registry_key(root))
    except CorruptFileError:
        return False
    return isinstance(entry, dict) and entry.get("sha256") == config.digest


def trust(
    root: Path, config: HookConfig, user: str | None = None, rules: Rules | None = None
) -> Path:
    """Remember that this machine trusts this hook configuration (and the validation
    checks of ``rules``); returns the trust file."""
    entries = _read_trust(strict=True)
    entries[_registry_key(root)] = {
        "sha256": config.digest,
        "hooks": [hook.name for hook in config.hooks],
        "checks_sha256": checks_digest(rules) if rules is not None else None,
        "trusted_at": now_iso(),
        "user": user,
    }
    return _write_trust(entries)


def revoke(root: Path) -> bool:
    """Forget the trust given to this registry's hooks; False when there was none."""
    entries = _read_trust(strict=True)
    if entries.pop(_registry_key(root), None) is None:
        return False
    _write_trust(entries)
    return True


def _registry_key(root: Path) -> str:
    return str(root.resolve())


def _read_trust(*, strict: bool) -> Document:
    path = trust_file()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        if strict:
            raise CorruptFileError(
                path, f"cannot be read as JSON ({exc}); fix or delete it"
            ) from None
        return {}
    registries = doc.get("registries") if isinstance(doc, dict) else None
    if not isinstance(registries, dict):
        if strict:
            raise CorruptFileError(path, "expected {'registries': {...}}; fix or delete it")
        return {}
    return registries


def _write_trust(entries: dict[str, Any]) -> Path:
    path = trust_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "registries": dict(sorted(entries.items()))}
    atomic_write(path, (jsonio.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def untrusted_notice(names: list[str]) -> str:
    """The one line that says which hooks were skipped and how to trust them."""
    listed = ", ".join(repr(name) for name in names)
    return (
        f"skipped hook{'s' if len(names) > 1 else ''} {listed}: this registry's hook "
        "configuration is not trusted on this machine; review it with `modelreg hooks list`, "
        f"then run `modelreg hooks trust` (or set {TRUST_ENV}=1)"
    )


def warn_untrusted(names: list[str]) -> None:
    """What Python code hears by default: a UserWarning naming the skipped hooks."""
    import warnings

    warnings.warn(untrusted_notice(names), stacklevel=4)
