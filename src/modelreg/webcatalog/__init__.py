"""The catalog: a static web site of the registry (``modelreg catalog build`` / ``serve``).

- :mod:`.build` reads the registry and writes the site, only the files whose bytes
  changed, and removes the pages of what is gone;
- :mod:`.pages` makes each page's HTML, :mod:`.charts` the SVG charts of the metrics,
  :mod:`.text` the escaping, the Markdown and the links every page shares;
- :mod:`.serve` previews the site on 127.0.0.1 and rebuilds it when the registry changes.

The site is self-contained: plain HTML, one stylesheet and one script under ``assets/``,
relative links only, nothing fetched from the network; it works opened from disk
(``file://``) and from any static host.
"""

from __future__ import annotations

from modelreg.webcatalog import serve
from modelreg.webcatalog.build import BuildResult, build

__all__ = ["BuildResult", "build", "serve"]
