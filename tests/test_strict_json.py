"""Every JSON modelreg writes is strict RFC 8259: NaN and infinity are refused at input,
and such values already in a file are written as the strings "NaN", "Infinity",
"-Infinity" — in ``--format json`` and in hook payloads alike."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelreg import InvalidInputError, Registry, hooks, jsonio, yamlio
from modelreg.cli import app
from modelreg.workflow import _metrics_from_last_line

NAME = "m"
Run = Callable[..., Any]


def strict_loads(text: str) -> Any:
    """json.loads that refuses NaN/Infinity, as jq and JSON.parse do."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not RFC 8259 JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def cli(registry: Registry, *args: str) -> Any:
    return CliRunner().invoke(app, ["--registry", str(registry.root), *args])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999"])
def test_a_non_finite_metric_or_param_is_refused_at_input(registry: Registry, value: str) -> None:
    for option in ("--metric", "--param"):
        result = cli(registry, "register", NAME, "s3://b/m", option, f"acc={value}")
        assert result.exit_code == 2, result.output
        assert "must be a finite number" in result.stderr
    assert not (registry.root / "models" / NAME).exists()  # nothing written


def test_a_non_finite_metric_is_exit_2_in_a_real_process(registry: Registry, run_cli: Run) -> None:
    done = run_cli("-r", str(registry.root), "register", NAME, "s3://b/m", "--metric", "a=1e999")
    assert (done.returncode, done.stdout) == (2, "")
    assert "metric 'a' must be a finite number, not inf" in done.stderr


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, float("1e999")])
def test_the_api_refuses_non_finite_metrics_and_params(registry: Registry, value: float) -> None:
    registry.create_registered_model(NAME)
    for kwargs in ({"metrics": {"a": value}}, {"params": {"a": value}}):
        with pytest.raises(InvalidInputError, match="finite number") as caught:
            registry.register(NAME, "s3://b/m", **kwargs)  # type: ignore[arg-type]
        assert caught.value.exit_code == 2
        with pytest.raises(InvalidInputError, match="finite number"):
            registry.create_model_version(NAME, "s3://b/m", **kwargs)  # type: ignore[arg-type]
    assert registry.list_versions(NAME) == []


def hand_edit_non_finite(registry: Registry) -> None:
    """Metrics a hand edit (or an old import) left in the file: YAML allows .nan/.inf."""
    registry.register(NAME, "s3://b/m", create_model=True, metrics={"acc": 0.5})
    path = registry.root / "models" / NAME / "versions" / "1.yaml"
    doc = yamlio.loads(path.read_bytes(), path)
    doc["metrics"] = {"acc": math.nan, "big": math.inf, "low": -math.inf, "ok": 0.5}
    path.write_text(yamlio.dumps(doc))


EXPECTED = {"acc": "NaN", "big": "Infinity", "low": "-Infinity", "ok": 0.5}


def test_json_output_of_non_finite_values_in_a_file_is_strict(
    registry: Registry, run_cli: Run
) -> None:
    hand_edit_non_finite(registry)
    for args in (["describe", NAME, "1"], ["list", NAME], ["search"]):
        for fast_or_typer in (run_cli("-r", str(registry.root), *args, "-f", "json"),):
            assert fast_or_typer.returncode == 0, fast_or_typer.stderr
            data = strict_loads(fast_or_typer.stdout)
            record = data if isinstance(data, dict) else data[0]
            assert record["metrics"] == EXPECTED
        typer_path = cli(registry, *args, "-f", "json")
        assert typer_path.exit_code == 0
        assert strict_loads(typer_path.stdout) == strict_loads(fast_or_typer.stdout)


def test_hook_payloads_of_non_finite_values_are_strict(registry: Registry, tmp_path: Path) -> None:
    received = tmp_path / "payload.json"
    code = f"import pathlib, sys; pathlib.Path({str(received)!r}).write_text(sys.stdin.read())"
    path = registry.root / "registry.yaml"
    doc = yamlio.loads(path.read_bytes(), path)
    doc["hooks"] = [
        {
            "name": "cmd",
            "kind": "command",
            "events": ["model_version_tag.set"],
            "command": [sys.executable, "-c", code],
        }
    ]
    path.write_text(yamlio.dumps(doc))
    hand_edit_non_finite(Registry(registry.root, hooks=False))
    watched = Registry(registry.root, hooks=False)
    hooks.trust(registry.root, hooks.load(watched.config.raw, registry.root))
    dispatcher = hooks.attach(watched)
    assert dispatcher is not None
    watched.set_model_version_tag(NAME, 1, "k", "v")
    payload = strict_loads(received.read_text())
    assert payload["entity"]["metrics"] == EXPECTED


def test_the_json_writer_never_writes_nan() -> None:
    text = jsonio.dumps({"a": [math.nan, (math.inf,)], "b": {"c": -math.inf}, "d": 1.5})
    assert strict_loads(text) == {"a": ["NaN", ["Infinity"]], "b": {"c": "-Infinity"}, "d": 1.5}


def test_a_check_printing_nan_metrics_records_only_the_finite_ones() -> None:
    assert _metrics_from_last_line(['{"a": NaN, "b": Infinity, "c": 0.9}']) == {"c": 0.9}


def test_import_mlruns_skips_a_nan_metric_with_a_warning(
    registry: Registry, tmp_path: Path, run_cli: Run
) -> None:
    model = tmp_path / "mlruns" / "models" / NAME
    (model / "version-1").mkdir(parents=True)
    (model / "meta.yaml").write_text(f"name: {NAME}\ncreation_timestamp: 1\n")
    (model / "version-1" / "meta.yaml").write_text(
        f"name: {NAME}\nversion: 1\nsource: s3://x\ncurrent_stage: None\n"
        "creation_timestamp: 1\nlast_updated_timestamp: 2\n"
        "metrics: {acc: .nan, f1: 0.9}\n"
    )
    done = run_cli("-r", str(registry.root), "import", "mlruns", str(tmp_path / "mlruns"))
    assert done.returncode == 0, done.stderr
    assert "version 1: metric 'acc' not imported: nan is not a finite number" in done.stderr
    assert Registry(registry.root).get_model_version(NAME, 1).metrics == {"f1": 0.9}
