"""The report of a pull: what was written, from where, how fast, and what was left out.

Exit codes follow the push's: ``0`` every item written whole; ``1`` written, but some
cells could not be (data no cell carries, a media file not downloaded); ``2`` nothing
written (usage, settings, a PIM that cannot be reached or refuses the login: raised
before the report exists); ``3`` stopped during the run (lost credentials, the PIM
failing after every retry, an interrupt), and the output left as it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feed_export.report.model import EXIT_ABORTED, EXIT_OK, EXIT_SOME_FAILED

#: attributes named in the summary when values had no column (the rest are counted)
SHOWN_LEFT_OUT = 10


@dataclass
class PullReport:
    """What one pull did."""

    output: Path
    entity: str = "products"
    pim: str | None = None
    columns: int = 0
    products: int = 0
    product_models: int = 0
    total: int | None = None  # what the PIM said the lists hold (with_count), if asked
    pages: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    left_out: Counter[str] = field(default_factory=Counter)  # values without a column
    unwritable: int = 0  # cells whose data no cell can carry
    media_downloaded: int = 0
    media_failed: int = 0
    warnings: list[str] = field(default_factory=list)
    aborted: str | None = None

    @property
    def rows(self) -> int:
        return self.products + self.product_models

    @property
    def exit_code(self) -> int:
        if self.aborted:
            return EXIT_ABORTED
        if self.unwritable or self.media_failed:
            return EXIT_SOME_FAILED
        return EXIT_OK

    @property
    def speed(self) -> float | None:
        """Rows per second, for a run of a second or more that went through."""
        if self.aborted or self.seconds < 1.0 or not self.rows:
            return None
        return self.rows / self.seconds

    def to_json(self) -> dict[str, Any]:
        speed = self.speed
        return {
            "output": str(self.output),
            "pim": self.pim,
            "entity": self.entity,
            "columns": self.columns,
            "rows": self.rows,
            "products": self.products,
            "product_models": self.product_models,
            "total": self.total,
            "pages": self.pages,
            "requests": self.requests,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(speed, 1) if speed is not None else None,
            "values_without_column": dict(self.left_out.most_common()),
            "cells_not_written": self.unwritable,
            "media_downloaded": self.media_downloaded,
            "media_failed": self.media_failed,
            "warnings": self.warnings,
            "aborted": self.aborted,
            "exit_code": self.exit_code,
        }

    def to_text(self) -> str:
        from feed_export.report.text import printable

        lines: list[str] = []
        source = f" from {self.pim}" if self.pim else ""
        if self.aborted:
            lines.append(f"pull{source} stopped: {self.aborted}")
            lines.append(f"  {self.output} was not written (or left as it was)")
        else:
            what = _counted(self.products, "product") if self.entity != "product-models" else ""
            if self.entity != "products":
                models = _counted(self.product_models, "product model")
                what = f"{what} and {models}" if what else models
            lines.append(f"pulled {what}{source} into {self.output} ({self.columns} columns)")
        if self.total is not None and not self.aborted and self.total != self.rows:
            lines.append(f"  the PIM counted {self.total:,} at the start (it changed meanwhile)")
        if self.left_out:
            shown = ", ".join(
                f"{code} ({count:,})" for code, count in self.left_out.most_common(SHOWN_LEFT_OUT)
            )
            more = len(self.left_out) - SHOWN_LEFT_OUT
            extra = f" and {more} more" if more > 0 else ""
            lines.append(
                f"  values without a column, left out: {shown}{extra} (attributes outside the "
                "families pulled: name them with --attributes to pull them)"
            )
        if self.unwritable:
            lines.append(f"  {self.unwritable:,} cell(s) left empty: no cell can carry their data")
        if self.media_downloaded or self.media_failed:
            failed = f", {self.media_failed:,} failed" if self.media_failed else ""
            lines.append(f"  media files downloaded: {self.media_downloaded:,}{failed}")
        speed = self.speed
        timing = f"{self.seconds:.1f} s, {self.requests:,} requests"
        if self.retries:
            timing += f", {self.retries:,} retries"
        if speed is not None:
            timing += f", {speed:,.0f} rows/s"
        lines.append(f"  {timing}")
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return "\n".join(printable(line) for line in lines)


def _counted(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")
