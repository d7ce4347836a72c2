"""feed_export: push Productsup-style product feeds into Akeneo PIM, with line-by-line feedback."""

from __future__ import annotations

__version__ = "0.1.0"
