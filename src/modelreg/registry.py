"""The registry API: MLflow's registry methods (same names, parameters and meaning) over a
folder, plus what MLflow lacks (metrics, params, lineage, history).

``Registry`` is a facade: each method is a short delegation to the room that does the
work — :mod:`modelreg.catalog` reads and saves the entities, every write is one change of
:mod:`modelreg.session` (the lock, the time, the history entries, the events published
once the change is durable), :mod:`modelreg.versions` registers, moves and deletes
versions, :mod:`modelreg.promotion` runs the approval workflow and
:mod:`modelreg.importing` imports models. Reads take no lock. No printing and no
formatting happens here.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

from modelreg import actions
from modelreg.catalog import Catalog
from modelreg.config import (
    FORMAT_VERSION,
    effective_lock_timeout,
    new_config,
    parse_config,
)
from modelreg.entities import ModelVersion, now_iso
from modelreg.errors import (
    ConflictError,
    CorruptFileError,
    InvalidInputError,
    RegistryError,
    RuleViolationError,
)
from modelreg.refs import Ref, artifact_location, as_ref, parse_uri
from modelreg.store import CONFIG_FILE, Store, create_folder, find_root
from modelreg.values import version_number

# Not `from typing import TYPE_CHECKING`: a read command (resolve, describe, list) imports
# this module, and everything only writes, searches or diffs need is imported when first
# used, so that their start-up stays light (see modelreg.quick).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from datetime import datetime
    from typing import ParamSpec, TypeVar

    from modelreg import sources, workflow
    from modelreg.artifacts.cache import Pulled
    from modelreg.artifacts.gc import GcResult
    from modelreg.artifacts.verify import ArtifactProblem
    from modelreg.compare import VersionDiff
    from modelreg.config import Config
    from modelreg.datasets import Dataset
    from modelreg.docread import JSONValue
    from modelreg.entities import HistoryEntry, RegisteredModel
    from modelreg.gitsync.publish import Publication
    from modelreg.hooks import DeliveryResult
    from modelreg.importing import Importer, ImportResult
    from modelreg.index import VersionRecord
    from modelreg.models import ModelWrites
    from modelreg.pointintime import PastView
    from modelreg.promotion import Promotion
    from modelreg.search import Page, Query
    from modelreg.session import Clock, Subscriber, Writer
    from modelreg.versions import RegisterResult, TransitionResult, VersionWrites

    _P = ParamSpec("_P")
    _T = TypeVar("_T")

#: MLflow's default wait for a version to become READY; here they are READY at once.
DEFAULT_AWAIT_SECONDS = 300


def _consistent(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Make a read method see no write half-applied (see ``Store.consistent``): it runs
    again when a write changed files while it read."""

    @functools.wraps(method)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        registry = args[0]
        assert isinstance(registry, Registry)
        # A read run again must not report a corrupt file twice: the only lists a read
        # adds to are the caller's ``errors``, so every list argument is cut back to
        # what it held before each attempt.
        lists = [(arg, len(arg)) for arg in (*args, *kwargs.values()) if isinstance(arg, list)]

        def attempt() -> _T:
            for arg, length in lists:
                del arg[length:]
            return method(*args, **kwargs)

        return registry._store.consistent(attempt)

    return read


class Registry:
    """A model registry in a folder.

    ``Registry(path)`` opens one: ``path``, else ``$MODELREG_REGISTRY``, else the nearest
    folder at or above the working directory that holds ``registry.yaml``. Its hooks
    hear every write (``hooks=False``: none); ``on_hook_result`` hears each delivery,
    ``on_hooks_untrusted`` the hooks skipped because this machine has not trusted them.
    ``clock`` gives the time every write records (ISO-8601 UTC with milliseconds, as
    ``entities.now_iso``, the default, returns it).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float | None = None,
        hooks: bool = True,
        on_hook_result: Callable[[DeliveryResult], None] | None = None,
        on_hooks_untrusted: Callable[[list[str]], None] | None = None,
        clock: Clock = now_iso,
    ) -> None:
        self.root = find_root(path)
        self.config = parse_config(Store(self.root).read_config(), self.root / CONFIG_FILE)
        timeout = lock_timeout if lock_timeout is not None else effective_lock_timeout(self.config)
        self._store = Store(self.root, timeout)
        self._catalog = Catalog(self._store, self.config)
        self._user: str | None = None
        self._rules: workflow.Rules | None = None
        # Told when $MODELREG_USER disagrees with git's user.email for an approval or a
        # forced move (the command line prints "warning: ..."; Python code: a UserWarning).
        self.on_identity_warning: Callable[[str], None] = _warn
        # Called with every event once its change is durable: all the registry knows of
        # notifications. With ``hooks``, the hooks of registry.yaml subscribe here, for
        # Python code and the command line alike (only once this machine trusts them);
        # skipped hooks are a UserWarning unless ``on_hooks_untrusted`` says otherwise.
        self.subscribers: list[Subscriber] = []
        self._clock = clock
        if hooks and self.config.raw.get("hooks"):
            from modelreg import hooks as hooks_module  # one direction: hooks never imports us

            hooks_module.attach(
                self,
                on_result=on_hook_result,
                on_untrusted=on_hooks_untrusted or hooks_module.warn_untrusted,
            )

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        stages: Sequence[str] | None = None,
        file_format: int = FORMAT_VERSION,
    ) -> Registry:
        """Create a registry folder at ``path`` (which may exist and be empty or not).

        ``file_format`` 1 makes a registry that modelreg versions before format 2 read
        (without ``exclusive_stages``, as they made them)."""
        root = Path(path)
        if (root / CONFIG_FILE).exists():
            raise ConflictError(f"{root} is already a registry (it has {CONFIG_FILE})")
        create_folder(root, new_config(root / CONFIG_FILE, stages, file_format))
        return cls(root)

    # The rooms that write, made on first use: a read needs none of them (nor imports them).

    @functools.cached_property
    def _writer(self) -> Writer:
        from modelreg.session import Writer

        return Writer(
            self._catalog,
            user=lambda: self.user,
            clock=self._clock,
            subscribers=lambda: self.subscribers,
        )

    def _parts(self) -> tuple[Writer, Config, Callable[[], workflow.Rules], Path]:
        return (self._writer, self.config, lambda: self.rules, self.root)

    @functools.cached_property
    def _models(self) -> ModelWrites:
        from modelreg.models import ModelWrites

        return ModelWrites(*self._parts())

    @functools.cached_property
    def _versions(self) -> VersionWrites:
        from modelreg.versions import VersionWrites

        return VersionWrites(*self._parts())

    @functools.cached_property
    def _promotion(self) -> Promotion:
        from modelreg.promotion import Promotion

        return Promotion(*self._parts())

    @functools.cached_property
    def _importer(self) -> Importer:
        from modelreg.importing import Importer

        return Importer(*self._parts())

    @property
    def rules(self) -> workflow.Rules:
        """The promotion rules of registry.yaml (checked when first needed, so that a
        broken rules section does not stop reads; `check` reports it)."""
        if self._rules is None:
            from modelreg import workflow

            self._rules = workflow.parse_rules(
                self.config.raw.get("rules"), self.config.stages, self.root / CONFIG_FILE
            )
        return self._rules

    @property
    def lock_path(self) -> Path:
        return self._store.lock_path

    @property
    def user(self) -> str:
        if self._user is None:
            from modelreg.lineage import current_user  # subprocess, getpass: writes only

            self._user = current_user(self.root)
        return self._user

    def _confirm_identity(self, what: str) -> None:
        """Warn (or, with ``identity: git`` in the rules, refuse) when ``$MODELREG_USER``
        says someone other than git's ``user.email`` for ``what``."""
        from modelreg.lineage import identity_mismatch  # subprocess: writes only

        found = identity_mismatch(self.root, self.config.raw.get("identities"))
        if found is None:
            return
        claimed, email = found
        text = f"$MODELREG_USER is {claimed} but git's user.email is {email}"
        if self.rules.identity == "git":
            raise RuleViolationError(
                f"{text}: the rules say identity: git, so {what} is refused; unset "
                "$MODELREG_USER (or add the address to `identities` in registry.yaml)"
            )
        self.on_identity_warning(f"{text}: {what} is recorded as {claimed}")

    # -- registered models -------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, object] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model; ConflictError if it exists."""
        return self._models.create(name, tags, description)

    @_consistent
    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._catalog.model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        self._models.rename(name, new_name)
        return self.get_registered_model(new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        self._models.describe(name, description)
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        self._models.delete(name)

    def set_registered_model_tag(self, name: str, key: str, value: object) -> None:
        """Set one tag; the value is stored as text (``str(value)``), as MLflow does."""
        self.set_registered_model_tags(name, {key: value})

    def set_registered_model_tags(
        self, name: str, tags: Mapping[str, object], remove: Iterable[str] = ()
    ) -> RegisteredModel:
        """Set and remove several tags of a model in one write."""
        return self._models.tag(name, tags, remove)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._models.untag(name, key)

    @_consistent
    def list_registered_models(
        self, errors: list[CorruptFileError] | None = None
    ) -> list[RegisteredModel]:
        """Every model, by name, with its latest version per stage.

        With ``errors``, a corrupt model or version file (or a symlinked model folder) is
        appended there and skipped instead of raised, so everything healthy is listed.
        """
        return self._catalog.models(errors)

    @_consistent
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        *,
        errors: list[CorruptFileError] | None = None,
    ) -> Page[RegisteredModel]:
        """Models matching the filter, as a list with ``.token`` for the next page.

        With ``errors``, corrupt files are collected there and skipped instead of raised."""
        from modelreg import search

        models = {model.name: model for model in self.list_registered_models(errors)}
        query = search.Query(filter_string, max_results, order_by, page_token)
        page = query.page((model.to_dict() for model in models.values()), "model")
        return search.Page([models[str(record["name"])] for record in page], page.token)

    # -- model versions ----------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = DEFAULT_AWAIT_SECONDS,
        model_id: str | None = None,
        *,
        metrics: Mapping[str, int | float] | None = None,
        params: Mapping[str, JSONValue] | None = None,
        lineage: Mapping[str, JSONValue] | None = None,
        datasets: Mapping[str, str | Dataset] | None = None,
    ) -> ModelVersion:
        """Register a new version of an existing model (MLflow's semantics: never deduplicated).

        ``model_id`` is the MLflow 3 logged model it comes from, recorded on the version;
        ``await_creation_for`` does nothing: a version is READY at once. A ``models:/``
        source names another version, whose artifact this one shares (see
        :mod:`modelreg.sources`). ``datasets`` as for :meth:`register`."""
        del await_creation_for
        from modelreg.versions import Details

        details = Details(
            run_id, tags, run_link, description, metrics, params, lineage, model_id, datasets
        )
        return self._versions.register(
            name, source, details, allow_duplicate=True, create_model=False
        ).version

    def register(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        metrics: Mapping[str, int | float] | None = None,
        params: Mapping[str, JSONValue] | None = None,
        lineage: Mapping[str, JSONValue] | None = None,
        model_id: str | None = None,
        datasets: Mapping[str, str | Dataset] | None = None,
        allow_duplicate: bool = False,
        create_model: bool = False,
    ) -> RegisterResult:
        """Register ``source`` as the next version of ``name``.

        A local artifact gets its sha256 and size recorded. Unless ``allow_duplicate``,
        a re-run of the model's newest registration returns that version instead of
        creating another: the same local artifact (same source, same sha256), or for a
        remote source (``s3://``...) the same source *and* the same ``run_id`` (without a
        run id a remote source is always a new version: its content may have changed).
        A re-run that asks for details the version does not have (another tag value,
        metric, param, description, run id or link) raises ConflictError and changes
        nothing: it is never applied in part. ``create_model`` creates the model in the
        same change when it does not exist.

        A local path must exist (NotFoundError otherwise); it is recorded so that the
        same spelling resolves from any working directory and any clone (relative to the
        registry folder when it is inside the registry's project). With
        ``artifact_store:`` in registry.yaml the artifact is uploaded first; without one,
        ``RegisterResult.warnings`` says when a clone would not find the artifact (git
        ignores it, or it is outside the repository).

        ``datasets`` names the data the version was trained on (:mod:`modelreg.datasets`):
        name -> a local path (hashed; DVC's md5 when DVC tracks it; a missing path is
        NotFoundError) or a URI (``s3://...``, with ``#sha256:<hex>`` for a digest), or a
        :class:`~modelreg.datasets.Dataset` recorded as given.
        """
        from modelreg.versions import Details

        details = Details(
            run_id, tags, run_link, description, metrics, params, lineage, model_id, datasets
        )
        return self._versions.register(
            name,
            source,
            details,
            allow_duplicate=allow_duplicate,
            create_model=create_model,
            must_exist=True,
        )

    def register_model(
        self,
        model_uri: str,
        name: str,
        await_registration_for: int = DEFAULT_AWAIT_SECONDS,
        *,
        tags: Mapping[str, object] | None = None,
    ) -> ModelVersion:
        """``mlflow.register_model``: create the model if needed, then a version of it.

        The run id is taken from ``runs:/RUN_ID/path`` URIs; the model id from MLflow 3's
        ``models:/<model_id>`` (or, for ``models:/NAME/VERSION``, from that version);
        like MLflow, any source is accepted (a local path need not exist here).
        ``await_registration_for`` does nothing: a version is READY at once."""
        del await_registration_for
        from modelreg import sources
        from modelreg.versions import Details

        model_id = sources.model_id_for(model_uri, self.resolve_version)
        details = Details(run_id_of(model_uri), tags, None, None, None, None, None, model_id)
        return self._versions.register(
            name, model_uri, details, allow_duplicate=True, create_model=True
        ).version

    @_consistent
    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        model = self._catalog.load_model(name)
        return self._catalog.load_version(model, version_number(version))

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        return self._versions.describe(name, version, description)

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        comment: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        """Move a version to ``stage``; with ``archive_existing_versions`` the other
        versions in that stage move to Archived (only for Staging and Production).

        The registry's rules for the target stage must be met (RuleViolationError lists
        every unmet condition); ``force`` bypasses them when the rules allow forcing,
        and is recorded in the history with ``comment`` as the reason."""
        return self.transition(
            name, version, stage, archive_existing_versions, comment=comment, force=force
        ).version

    def transition(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        comment: str | None = None,
        force: bool = False,
    ) -> TransitionResult:
        """:meth:`transition_model_version_stage`, saying also which versions it archived."""
        if force:
            self._confirm_identity("the forced move")
        return self._versions.transition(
            name, version, stage, archive_existing_versions, comment, force
        )

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._versions.delete(name, version)

    @_consistent
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
        *,
        errors: list[CorruptFileError] | None = None,
    ) -> Page[ModelVersion]:
        """Versions matching the filter, as a list with ``.token`` for the next page.

        With ``errors``, corrupt files are collected there and skipped instead of raised."""
        from modelreg import search

        query = search.Query(filter_string, max_results, order_by, page_token)
        return self._search_versions(query, errors)

    @_consistent
    def _search_versions(
        self, query: Query, errors: list[CorruptFileError] | None
    ) -> Page[ModelVersion]:
        # One consistent read: the page, then the histories of its versions as the same
        # read saw their files (not the model's every file again).
        from modelreg import search
        from modelreg.index import copy_records

        index = self._catalog.index
        with index.keeping():
            page = self.search_version_records(query, errors=errors)
            versions = [ModelVersion(**record) for record in page]
            # The index's memory: copied in one go, the caller's own.
            histories = copy_records([index.history(mv.name, mv.version) for mv in versions])
        for mv, past in zip(versions, histories, strict=True):
            mv.history = past
        return search.Page(versions, page.token)

    @_consistent
    def search_version_records(
        self,
        query: Query | None = None,
        *,
        errors: list[CorruptFileError] | None = None,
        shared: bool = False,
    ) -> Page[VersionRecord]:
        """:meth:`search_model_versions` as the versions' fields without their history,
        for callers that print them (``ModelVersion(**record)`` builds one). No ``query``:
        every version, in MLflow's default order. ``shared``: the records are the cache's
        memory, not copied, which the caller must not change."""
        from modelreg import filters, search
        from modelreg.index import copy_records

        query = query or search.Query()
        pinned = prefilter = None
        if isinstance(query.filter_string, str) and query.filter_string.strip():
            # A filter that names its models reads only their folders, and one that needs
            # some text parses only the files that hold it.
            expr = filters.parse(query.filter_string)
            pinned, prefilter = filters.names_required(expr), filters.file_prefilter(expr)
        records = self._catalog.version_records(errors, pinned, prefilter)
        page = query.page(records, "version")
        if shared:
            return page
        # The records are the index's memory: only the page is copied, the caller's own.
        return search.Page(copy_records(page), page.token)

    @_consistent
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each stage (of ``stages``, or of every stage)."""
        model = self._catalog.load_model(name)
        latest = self._catalog.latest_per_stage(self._catalog.versions(model))
        if not stages:
            return latest
        wanted = {self.config.canonical_stage(stage) for stage in stages}
        return [mv for mv in latest if mv.current_stage in wanted]

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: object) -> None:
        """Set one tag; the value is stored as text (``str(value)``), as MLflow does."""
        self.set_model_version_tags(name, version, {key: value})

    def set_model_version_tags(
        self,
        name: str,
        version: int | str,
        tags: Mapping[str, object],
        remove: Iterable[str] = (),
    ) -> ModelVersion:
        """Set and remove several tags of a version in one write."""
        return self._versions.tag(name, version, tags, remove)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._versions.untag(name, version, key)

    # -- aliases -----------------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, comment: str | None = None
    ) -> ModelVersion:
        return self._models.set_alias(name, alias, version, comment)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._models.delete_alias(name, alias)

    @_consistent
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._catalog.version_by_alias(name, alias)

    @_consistent
    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self.artifact_location(self.get_model_version(name, version))

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy a version (``models:/...``) to the next version of ``dst_name`` (created
        if needed), keeping its run, tags, metrics, params and model id; its source is
        ``models:/SRC/N``, as in MLflow, and names the same artifact."""
        if not isinstance(src_model_uri, str):
            raise InvalidInputError(f"expected a models:/ URI, not {src_model_uri!r}")
        src = self.resolve_version(parse_uri(src_model_uri))
        origin = f"models:/{src.name}/{src.version}"
        lineage = {**src.lineage, "copied_from": origin}
        from modelreg.versions import Details

        details = Details(
            src.run_id,
            src.tags,
            src.run_link,
            src.description,
            src.metrics,
            src.params,
            lineage,
            src.model_id,
        )
        return self._versions.register(
            dst_name, origin, details, allow_duplicate=True, create_model=True
        ).version

    # -- approval workflow (beyond MLflow) ---------------------------------------------

    def request_transition(
        self, name: str, version: int | str, stage: str, comment: str | None = None
    ) -> ModelVersion:
        """Ask for ``version`` to be moved to ``stage`` (recorded for approvers)."""
        return self._promotion.decide(name, version, stage, actions.REQUESTED, comment)

    def approve_transition(
        self, name: str, version: int | str, stage: str, comment: str | None = None
    ) -> ModelVersion:
        """Approve moving ``version`` to ``stage``; counts once per user, for this version,
        stage and artifact, until the version changes stage."""
        self._confirm_identity("the approval")
        return self._promotion.decide(name, version, stage, actions.APPROVED, comment)

    def reject_transition(
        self, name: str, version: int | str, stage: str, comment: str | None = None
    ) -> ModelVersion:
        """Reject moving ``version`` to ``stage``; blocks it until the same user approves."""
        return self._promotion.decide(name, version, stage, actions.REJECTED, comment)

    def comment_model_version(self, name: str, version: int | str, text: str) -> ModelVersion:
        """Add a comment to a version's history."""
        return self._promotion.comment(name, version, text)

    def promote(
        self,
        name: str,
        version: int | str,
        stage: str,
        *,
        comment: str | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> tuple[ModelVersion, list[workflow.CheckResult]]:
        """Validate a version for ``stage`` and move it there under the rules.

        Runs the stage's checks and records their outcome and metrics, then evaluates the
        rule's requirement. When validation fails the version is tagged with the rules'
        failure tag (``validation=failed``), the reasons are recorded, and
        RuleViolationError is raised; when it passes it is tagged ``validation=passed``
        and the transition follows, which still needs the approvals the rules ask for.
        A version already in ``stage`` is left as it is, and no check runs. (Checks run
        outside the lock; see :meth:`modelreg.promotion.Promotion.promote`.)"""
        return self._promotion.promote(name, version, stage, comment, on_output)

    # -- references, listing, history (beyond MLflow) ----------------------------------

    @_consistent
    def resolve(self, ref: Ref | str) -> RegisteredModel | ModelVersion:
        """The model or version a reference names: a :class:`Ref` or a string as the
        command line takes it (``NAME``, ``NAME@ALIAS``, ``models:/NAME/VERSION``,
        ``models:/NAME/STAGE``, ``models:/NAME/latest``)."""
        return self._catalog.resolve(as_ref(ref))

    @_consistent
    def resolve_version(self, ref: Ref | str) -> ModelVersion:
        """Like :meth:`resolve`, but a bare model name means its newest version."""
        ref = as_ref(ref)
        if ref.selector is None:
            ref = Ref(ref.name, "latest")
        found = self.resolve(ref)
        assert isinstance(found, ModelVersion)
        return found

    def diff(self, ref_a: Ref | str, ref_b: Ref | str) -> VersionDiff:
        """What differs from one version to another (``modelreg diff``; see compare.py)."""
        from modelreg import compare

        return compare.diff(self.resolve_version(ref_a), self.resolve_version(ref_b), self.root)

    def artifact_location(self, ref: ModelVersion | Ref | str) -> str:
        """Where a version's artifact is — exactly what ``modelreg resolve`` prints: an
        absolute path for a local source, else the URI. ``ref`` is a version, or a
        reference as :meth:`resolve_version` takes it (``"churn@champion"``)."""
        return artifact_location(self.artifact_of(ref).source, self.root)

    @_consistent
    def artifact_of(self, ref: ModelVersion | Ref | str) -> sources.Artifact:
        """The artifact a version names — its source, sha256 and size — following a
        ``models:/`` source to the version it names (:func:`modelreg.sources.artifact_of`)."""
        from modelreg import sources

        mv = ref if isinstance(ref, ModelVersion) else self.resolve_version(ref)
        return sources.artifact_of(mv, self._catalog.resolve_version)

    def as_of(self, when: str) -> AbstractContextManager[PastView]:
        """The registry's reads as they would have answered at ``when``: an ISO 8601 date
        (rebuilt from the histories) or a git revision (see :mod:`modelreg.pointintime`)."""
        from modelreg import pointintime

        return pointintime.as_of(self.root, self._catalog, when, _read_only_copy)

    # -- artifacts: pull, verify, gc (modelreg.artifacts) -----------------------------

    def download_artifacts(
        self, ref: ModelVersion | Ref | str, dst: str | os.PathLike[str] | None = None
    ) -> str:
        """``mlflow.artifacts.download_artifacts`` for ``models:/`` URIs: the local path
        of a verified copy of a version's artifact, in the cache (``$MODELREG_CACHE``)
        or in the folder ``dst``. ``ref`` as :meth:`resolve_version` takes it.
        ArtifactMismatchError (exit 7) when the bytes are not the recorded ones."""
        return str(self.pull_artifact(ref, dst).path)

    def pull_artifact(
        self,
        ref: ModelVersion | Ref | str,
        dst: str | os.PathLike[str] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Pulled:
        """What :meth:`download_artifacts` does, telling whether it downloaded."""
        from modelreg.artifacts.cache import pull

        mv = self._with_its_artifact(ref)
        return pull(mv, self.root, None if dst is None else Path(dst), progress)

    def verify_artifact(self, ref: ModelVersion | Ref | str) -> str:
        """Check the local artifact of a version against its recorded sha256 and size;
        its location (as :meth:`artifact_location`). ArtifactMismatchError (exit 7)
        when it changed, NotFoundError when it is not here (``modelreg pull`` gets a
        stored one), InvalidInputError when the version recorded no hash."""
        from modelreg.artifacts.cache import verify_here

        return verify_here(self._with_its_artifact(ref), self.root)

    def _with_its_artifact(self, ref: ModelVersion | Ref | str) -> ModelVersion:
        from modelreg import sources

        mv = ref if isinstance(ref, ModelVersion) else self.resolve_version(ref)
        return sources.with_its_artifact(mv, self._catalog.resolve_version)

    def verify_artifacts(
        self, advance: Callable[[int], None] | None = None
    ) -> list[ArtifactProblem]:
        """Every version's artifact checked (``check --artifacts``): the problems, as
        :class:`modelreg.artifacts.verify.ArtifactProblem`; ``advance(1)`` per version."""
        from modelreg.artifacts.verify import verify_versions

        return verify_versions(self.all_versions(), self.root, advance or (lambda _: None))

    def collect_garbage(
        self, *, dry_run: bool = False, grace_seconds: float | None = None
    ) -> GcResult:
        """``modelreg gc``: remove from the artifact store what no kept version needs
        (see :mod:`modelreg.artifacts.gc`)."""
        from modelreg.artifacts.gc import DEFAULT_GRACE_SECONDS, collect
        from modelreg.artifacts.store import ArtifactStore

        if self.config.artifact_store is None:
            raise InvalidInputError(
                "this registry has no artifact_store in registry.yaml: nothing to collect"
            )
        store = ArtifactStore(self.config.artifact_store, self.root)
        store.check_reachable()
        grace = DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds
        return collect(
            store,
            self.all_versions(),
            self.config.retention,
            dry_run=dry_run,
            grace_seconds=grace,
        )

    @_consistent
    def list_versions(
        self, name: str, errors: list[CorruptFileError] | None = None
    ) -> list[ModelVersion]:
        """Every version of one model, ascending.

        With ``errors``, corrupt version files are appended there and skipped instead of
        raised (a corrupt model.yaml still raises: without it no version can be read).
        """
        return self._catalog.versions(self._catalog.load_model(name), errors)

    @_consistent
    def all_versions(self, errors: list[CorruptFileError] | None = None) -> list[ModelVersion]:
        """Every version of every model; ``errors`` as in :meth:`list_registered_models`."""
        return self._catalog.all_versions(errors)

    @_consistent
    def history(
        self,
        ref: Ref | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actions: Collection[str] | None = None,
        users: Collection[str] | None = None,
    ) -> list[HistoryEntry]:
        """Everything recorded about a model or a version, oldest first; ``ref`` as
        :meth:`resolve` takes it.

        Only the entries recorded from ``since`` to ``until`` (both inclusive; a naive
        datetime means UTC), with one of ``actions`` (see :data:`modelreg.actions.ALL`;
        another is an :class:`~modelreg.errors.InvalidInputError`) and by one of
        ``users`` (their ``user_id``); None does not filter.
        """
        from modelreg.history import check_actions, select  # not on the fast read path

        if actions:  # before anything is read: a bad action is bad input, found or not
            check_actions(actions)
        ref = as_ref(ref)
        mv = None if ref.selector is None else self.resolve_version(ref)
        entries = self._catalog.history(ref.name, mv)
        return select(entries, since=since, until=until, actions=actions, users=users)

    # -- import (modelreg import mlruns / mlflow) ---------------------------------------

    def import_model(
        self,
        model: RegisteredModel,
        versions: Sequence[ModelVersion],
        *,
        origin: str | None = None,
        source_name: str | None = None,
        replace: bool = False,
    ) -> ImportResult:
        """Write a model and its versions as another registry recorded them; see
        :meth:`modelreg.importing.Importer.import_model`."""
        return self._importer.import_model(model, versions, origin, source_name, replace)

    # -- publishing through git (modelreg sync, --push) ----------------------------------

    def publish(self) -> Publication:
        """Publish the registry through its git remote, as ``modelreg sync`` does (see
        :mod:`modelreg.gitsync.publish`); then the subscribers hear the published changes
        with their final numbers, but for those this clone's hooks heard when they were
        written. (The command line's ``--push`` writes with hooks=False, so each change
        is announced once it is published.)"""
        from modelreg.gitsync.publish import publish
        from modelreg.hooks import unheard

        publication = publish(self._store)
        for event in unheard(publication.events, self.root) if self.subscribers else []:
            for subscriber in self.subscribers:
                subscriber(event)
        return publication


def _warn(text: str) -> None:
    import warnings

    warnings.warn(text, stacklevel=4)


def run_id_of(model_uri: str) -> str | None:
    """The run id of a ``runs:/RUN_ID/path`` URI, else None."""
    if model_uri.startswith("runs:/"):
        run_id = model_uri.removeprefix("runs:/").lstrip("/").split("/", 1)[0]
        return run_id or None
    return None


def __getattr__(name: str) -> object:
    """The result types this module has always exported, imported when first asked
    (the modules that define them are not on the read path)."""
    if name in ("ImportResult",):
        from modelreg import importing

        return getattr(importing, name)
    if name in ("RegisterResult", "TransitionResult"):
        from modelreg import versions

        return getattr(versions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ImportResult",
    "RegisterResult",
    "Registry",
    "RegistryError",
    "TransitionResult",
    "run_id_of",
]


def _read_only_copy(folder: Path, cache_dir: Path) -> Registry:
    """The registry in ``folder`` (files copied out of git for ``--at REV``): no hooks,
    and its cache in ``cache_dir``, which goes with the copy."""
    copy = Registry(folder, hooks=False)
    copy._catalog.index.cache_dir = cache_dir
    return copy
