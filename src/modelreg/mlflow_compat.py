"""MLflow's way in: ``MlflowClient(registry_uri=...)`` and ``register_model(...)``.

Code written for ``mlflow.MlflowClient``'s registry methods runs by changing the import
and the constructor; the methods are :class:`modelreg.Registry`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from modelreg.entities import ModelVersion
from modelreg.registry import Registry


class MlflowClient(Registry):
    """A :class:`Registry` constructed the MlflowClient way.

    ``registry_uri`` is the registry folder, with or without ``file:``; without it the
    usual discovery applies. ``tracking_uri`` is accepted for compatibility and ignored:
    a folder registry has no tracking server.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        registry_uri: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(registry_uri)
        self.tracking_uri = tracking_uri


def register_model(
    model_uri: str,
    name: str,
    tags: Mapping[str, object] | None = None,
    *,
    registry_uri: str | None = None,
) -> ModelVersion:
    """``mlflow.register_model``: register ``model_uri`` as a new version of ``name``."""
    return Registry(registry_uri).register_model(model_uri, name, tags=tags)
