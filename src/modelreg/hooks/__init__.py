"""Notifications: the ``hooks:`` of ``registry.yaml``, who hears about which events.

Every registry write publishes its events once it is durable (``Registry.subscribers``);
:func:`attach` subscribes a :class:`Dispatcher` that runs the matching hooks — a command,
a webhook, an email (:mod:`modelreg.delivery`) — after the change is committed. A hook
never undoes a change: a failed delivery is a result, reported and logged, never an
exception out of the write.

``registry.yaml``::

    hooks:
      - name: deploy                      # unique; [A-Za-z0-9_.-]
        kind: command                     # command | webhook | email
        events: [model_version.stage_changed]   # event types; * wildcards allowed
        filter: "stage = 'Production'"    # optional, the filter language
        command: make deploy              # a string runs in the shell; a list does not
        cwd: ..                           # optional, relative to the registry folder
        timeout: 600

Filters are evaluated against the event's entity as the JSON output shows it: a version
record (``kind="version"`` of :mod:`modelreg.filters`) for ``model_version*`` events, a
model record (``kind="model"``) for ``registered_model*`` events. A filter that names a
field only versions have (``stage``, ``metrics.x``) does not match model events.

Trust: a folder arrives by ``git clone``, so its hooks run on a machine only once someone
there trusted this exact hook configuration (``modelreg hooks trust``: the sha256 of the
canonical ``hooks:`` list, stored per registry path outside the folder, in
``$MODELREG_TRUST_DIR/trusted.json`` or ``~/.config/modelreg/trusted.json``), or when
``$MODELREG_TRUST_HOOKS=1``. Any change to the hooks needs trust again. Webhooks and emails
need trust too: they send registry data and read secrets from the environment.

Deliveries are logged as JSON lines in the registry's git-ignored ``.cache/hooks.log``.

One module per job: :mod:`~modelreg.hooks.config` (parsing ``hooks:``),
:mod:`~modelreg.hooks.trust` (the trust store), :mod:`~modelreg.hooks.log` (the delivery
log), :mod:`~modelreg.hooks.dispatch` (the dispatcher and ``hooks test``). This package
never imports :mod:`modelreg.registry`; the registry imports it.
"""

from __future__ import annotations

from modelreg.errors import HookDeliveryError, HooksNotTrustedError
from modelreg.hooks.config import KINDS, Hook, HookConfig, digest, load
from modelreg.hooks.dispatch import (
    Dispatcher,
    ResultCallback,
    Subscribable,
    UntrustedCallback,
    attach,
    deliver,
    sample_event,
    send_test,
)
from modelreg.hooks.log import (
    LOG_FILE,
    MAX_LOG_BYTES,
    DeliveryResult,
    append_log,
    read_log,
    unheard,
)
from modelreg.hooks.trust import (
    NO_HOOKS_ENV,
    TRUST_ALL_ENV,
    TRUST_DIR_ENV,
    TRUST_ENV,
    checks_digest,
    checks_trusted,
    disabled_by_environment,
    is_trusted,
    revoke,
    trust,
    trust_file,
    trusted_by_environment,
    untrusted_notice,
    warn_untrusted,
)

__all__ = [
    "KINDS",
    "LOG_FILE",
    "MAX_LOG_BYTES",
    "NO_HOOKS_ENV",
    "TRUST_ALL_ENV",
    "TRUST_DIR_ENV",
    "TRUST_ENV",
    "DeliveryResult",
    "Dispatcher",
    "Hook",
    "HookConfig",
    "HookDeliveryError",
    "HooksNotTrustedError",
    "ResultCallback",
    "Subscribable",
    "UntrustedCallback",
    "append_log",
    "attach",
    "checks_digest",
    "checks_trusted",
    "deliver",
    "digest",
    "disabled_by_environment",
    "is_trusted",
    "load",
    "read_log",
    "revoke",
    "sample_event",
    "send_test",
    "trust",
    "trust_file",
    "trusted_by_environment",
    "unheard",
    "untrusted_notice",
    "warn_untrusted",
]
