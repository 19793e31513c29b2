"""modelreg: a model registry that lives in a folder.

``from modelreg import Registry`` (or ``MlflowClient`` for code written for MLflow).
Attributes are imported on first use so that ``import modelreg`` stays cheap for
commands that need little of it.
"""

from __future__ import annotations

from modelreg._version import __version__

# Not `from typing import TYPE_CHECKING`: importing typing costs `modelreg --version`
# about 10 ms, most of its start-up. Type checkers treat this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from modelreg.entities import ModelVersion, RegisteredModel
    from modelreg.errors import (
        BusyError,
        ConflictError,
        CorruptFileError,
        InvalidInputError,
        NotFoundError,
        RegistryError,
        RuleViolationError,
    )
    from modelreg.mlflow_compat import MlflowClient, register_model
    from modelreg.registry import Registry

_LAZY = {
    "Registry": "modelreg.registry",
    "MlflowClient": "modelreg.mlflow_compat",
    "register_model": "modelreg.mlflow_compat",
    "ModelVersion": "modelreg.entities",
    "RegisteredModel": "modelreg.entities",
    "RegistryError": "modelreg.errors",
    "InvalidInputError": "modelreg.errors",
    "NotFoundError": "modelreg.errors",
    "ConflictError": "modelreg.errors",
    "RuleViolationError": "modelreg.errors",
    "BusyError": "modelreg.errors",
    "CorruptFileError": "modelreg.errors",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelreg' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
