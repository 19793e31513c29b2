"""One error hierarchy for the whole package.

Every failure a user can cause or meet is a :class:`RegistryError` subclass that carries
its exit code (the table in the README) and typed data, so the CLI can turn any of them
into one line on stderr without knowing where it came from. Each also carries
``error_code``, MLflow's name for that kind of failure (``MlflowException.error_code``), so
code ported from MLflow that tests ``e.error_code`` runs unchanged.
"""

from __future__ import annotations

from pathlib import Path


class RegistryError(Exception):
    """Base class of every error modelreg raises on purpose."""

    exit_code: int = 1
    error_code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code

    def __str__(self) -> str:
        return self.message


class InvalidInputError(RegistryError, ValueError):
    """Bad usage or invalid input: a bad name, filter, stage, option value (exit 2)."""

    exit_code = 2
    error_code = "INVALID_PARAMETER_VALUE"


class FilterSyntaxError(InvalidInputError):
    """A filter or order-by expression that does not parse or cannot make sense.

    ``source`` is the whole expression and ``span`` the ``(start, end)`` character range of
    the offending part; the message already contains the caret line under that span.
    """

    def __init__(self, reason: str, source: str, span: tuple[int, int]) -> None:
        start, end = span
        caret = " " * start + "^" * max(1, end - start)
        super().__init__(f"{reason}\n    {source}\n    {caret}")
        self.reason = reason
        self.source = source
        self.span = span


class NotFoundError(RegistryError, LookupError):
    """A registry, model, version or alias that does not exist (exit 3)."""

    exit_code = 3
    error_code = "RESOURCE_DOES_NOT_EXIST"


class RegistryNotFoundError(NotFoundError):
    """No registry folder could be found or opened."""


class ConflictError(RegistryError):
    """Already exists, a name collision, or a concurrent change (exit 4)."""

    exit_code = 4
    error_code = "RESOURCE_ALREADY_EXISTS"


class RuleViolationError(RegistryError):
    """A change the registry's rules do not allow (exit 5)."""

    exit_code = 5
    error_code = "PERMISSION_DENIED"

    def __init__(self, message: str, unmet: list[str] | None = None) -> None:
        super().__init__(message)
        self.unmet = unmet or []


class BusyError(RegistryError):
    """The registry's lock could not be taken in time (exit 6)."""

    exit_code = 6
    error_code = "COULD_NOT_ACQUIRE_LOCK"

    def __init__(self, lock_path: Path, timeout: float) -> None:
        super().__init__(
            f"the registry is busy: could not take the lock {lock_path} within {timeout:g} s "
            "(another modelreg process is writing; retry, or raise MODELREG_LOCK_TIMEOUT)"
        )
        self.lock_path = lock_path
        self.timeout = timeout


class CorruptFileError(RegistryError):
    """A registry file that is unreadable, hostile or does not match its schema (exit 7)."""

    exit_code = 7
    error_code = "INVALID_STATE"

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        # A reader of many files may name them as text (see VersionIndex._read_version).
        self.path = Path(path)
        self.problem = problem


class CheckFailedError(RegistryError):
    """``check`` found problems in the registry (exit 7)."""

    exit_code = 7
    error_code = "INVALID_STATE"


class ArtifactMismatchError(RegistryError):
    """A version's artifact whose bytes are not the ones its version recorded (exit 7)."""

    exit_code = 7
    error_code = "INVALID_STATE"

    def __init__(self, label: str, where: str, expected: str, found: str) -> None:
        super().__init__(
            f"{label}: the artifact at {where} is not the one the version recorded: "
            f"found {found}, recorded {expected}"
        )
        self.label = label
        self.where = where
        self.expected = expected
        self.found = found


class ArtifactStoreError(RegistryError):
    """The artifact store could not be used: unreachable, refused credentials, an
    unknown protocol or a missing extra (exit 9)."""

    exit_code = 9
    error_code = "IO_ERROR"


class HooksNotTrustedError(RegistryError):
    """``hooks test`` on a hook configuration this machine has not trusted (exit 5)."""

    exit_code = 5
    error_code = "PERMISSION_DENIED"


class HookDeliveryError(RegistryError):
    """A hook could not deliver an event and ``--strict-hooks`` was given (exit 8).

    The change itself was made and is kept: this code tells a script not to retry it."""

    exit_code = 8
    error_code = "IO_ERROR"


class InterruptedByUserError(RegistryError):
    """Ctrl-C (exit 130)."""

    exit_code = 130
    error_code = "ABORTED"
