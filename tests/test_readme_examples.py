"""The README's own examples and references, taken from README.md itself (not a copy), so
a README that stops working fails here."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import Registry

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SOURCES = ROOT / "src" / "modelreg"
NAME = "churn-predictor"


def readme_makefile() -> str:
    """The ```make block of the README's "In a Makefile" section."""
    section = README.read_text(encoding="utf-8").split("### In a Makefile", 1)[1]
    match = re.search(r"```make\n(.*?)```", section, re.S)
    assert match, 'no ```make block in the README section "In a Makefile"'
    return match.group(1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the README's Makefile, its registry in registry/ (as the
    Makefile says) and a serve.py that records the path it was given."""
    (tmp_path / "Makefile").write_text(readme_makefile(), encoding="utf-8")
    (tmp_path / "serve.py").write_text(
        "import pathlib, sys\npathlib.Path('served').write_text(repr(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.pkl").write_bytes(b"weights")
    Registry.init(tmp_path / "registry")
    return tmp_path


def make(project: Path, target: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("make")
    assert executable, "GNU make is needed for the README's Makefile example"
    env = dict(os.environ)
    # As for a new user: no MODELREG_REGISTRY in the environment; the Makefile says where.
    env.pop("MODELREG_REGISTRY", None)
    # `python` and `modelreg` are this environment's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [executable, target],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_makefile_serves_the_champion(project: Path) -> None:
    registry = Registry(project / "registry")
    registry.create_registered_model(NAME)
    registry.create_model_version(NAME, str(project / "out" / "model.pkl"))
    registry.set_registered_model_alias(NAME, "champion", 1)
    result = make(project, "serve")
    assert result.returncode == 0, result.stderr
    served = (project / "served").read_text(encoding="utf-8")
    assert served == repr(["--model", str(project / "out" / "model.pkl")])


@pytest.mark.parametrize("missing", ["alias", "model"])
def test_the_readme_makefile_stops_when_resolve_fails(project: Path, missing: str) -> None:
    if missing == "alias":
        registry = Registry(project / "registry")
        registry.create_registered_model(NAME)
        registry.create_model_version(NAME, str(project / "out" / "model.pkl"))
    result = make(project, "serve")
    assert result.returncode != 0
    assert not (project / "served").exists(), "make ran the recipe with an empty model path"
    assert "cannot resolve churn-predictor@champion" in result.stderr
    expected = "no alias 'champion'" if missing == "alias" else f"model '{NAME}' not found"
    assert expected in result.stderr


# -- README sections named by messages ------------------------------------------------------

_SECTION_REFERENCE = re.compile(r"README(?:'s)?\s*(?:[:,]|section)\s*['\"‘“]([^'\"’”]+)['\"’”]")


def readme_headings() -> set[str]:
    text = README.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # '# comments' in code blocks
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}


def section_references() -> list[tuple[str, str]]:
    """(file, section) for every string in the package that names a README section, like
    "README: 'Resolving a merge conflict'" (adjacent literals are joined by the parser)."""
    found = []
    for path in sorted(SOURCES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += [(path.name, m) for m in _SECTION_REFERENCE.findall(node.value)]
    return found


def test_the_scan_finds_the_section_references_of_check() -> None:
    assert any(file == "check.py" for file, _ in section_references())
    assert _SECTION_REFERENCE.findall("see the README section 'Lock timeout'") == ["Lock timeout"]


@pytest.mark.parametrize(("file", "section"), section_references())
def test_every_readme_section_a_message_names_exists(file: str, section: str) -> None:
    assert section in readme_headings(), f"{file} names README section {section!r}"
