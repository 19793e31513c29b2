"""Artifacts that travel: where a local artifact is recorded, the content-addressed store
(``artifact_store:`` in registry.yaml), the local cache of ``pull``, verification against
the recorded sha256 and size, and clean-up (``gc`` under ``retention:``).

The modules that need no fsspec (``settings``, ``local``, ``verify``, ``cache``) are
what the read path may import; only ``store`` (and ``gc``/``pull`` through it) imports
fsspec, and only when a command needs the store. Nothing here imports the registry: the
registry and the command line call in.
"""
