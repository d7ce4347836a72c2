"""DataFrames in and out: ``push_frame`` and ``pull_frame`` (pandas, an optional extra)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import settings_of

from feed_export import ExportOptions, PullOptions, pull_frame, push_frame
from feed_export.akeneo.client import AkeneoClient
from feed_export.errors import FeedReadError, RunAborted, TransportError
from feed_export.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


FRAME = pd.DataFrame(
    {
        "sku": ["TS-1", "TS-2", "TS-3"],
        "family": ["clothing", "clothing", "clothing"],
        "name~en_US": ["Crew tee", None, float("nan")],
        "weight@unit": ["180 g", "2 parsecs", pd.NA],
    },
    index=[10, 20, 30],
)


def test_a_frame_pushes_and_its_feedback_is_a_frame(sandbox: Sandbox) -> None:
    result = push_frame(FRAME, ExportOptions(), settings=settings_of(sandbox))
    assert result.report.exit_code == 1
    feedback = result.feedback
    assert list(feedback.columns) == [*FRAME.columns, "akeneo_status_code", "akeneo_message"]
    assert list(feedback.index) == [10, 20, 30]  # the frame's own rows
    assert feedback["akeneo_status_code"].tolist() == ["201", "422", "201"]
    assert feedback.loc[20, "akeneo_message"].startswith(
        'Not sent: weight@unit: unknown unit "parsecs"'
    )
    assert feedback.loc[30, "name~en_US"] == ""  # a missing cell is an empty cell
    product = sandbox.state.product("TS-3")
    assert product is not None and "name" not in product["values"]


def test_a_cell_that_is_not_text_is_refused_naming_it(sandbox: Sandbox) -> None:
    frame = pd.DataFrame({"sku": ["TS-1"], "stock_quantity": [12]})
    with pytest.raises(FeedReadError, match=r"row 2, column 2: every cell must be text, got int"):
        push_frame(frame, ExportOptions(dry_run=True), settings=settings_of(sandbox))


def test_the_pim_pulls_into_a_frame(sandbox: Sandbox) -> None:
    push_frame(FRAME, ExportOptions(), settings=settings_of(sandbox))
    pulled = pull_frame(PullOptions(attributes=("name", "weight")), settings=settings_of(sandbox))
    frame = pulled.frame
    assert list(frame.columns[:8]) == [
        "identifier", "family", "parent", "categories", "enabled", "groups", "name~de_DE",
        "name~en_US",
    ]  # fmt: skip
    assert frame["identifier"].tolist() == ["TS-1", "TS-3"]
    assert (
        frame.loc[0, "name~en_US"] == "Crew tee" and frame.loc[0, "weight@unit"] == "180.0000 GRAM"
    )
    assert pulled.report.products == 2 and str(pulled.report.output) == "<DataFrame>"


def test_a_pull_that_stops_raises_instead_of_a_partial_frame(sandbox: Sandbox) -> None:
    class Failing(AkeneoClient):
        def list_pages(
            self,
            resource: str,
            params: Mapping[str, str] | None = None,
            *,
            missing_ok: bool = False,
        ) -> Iterator[list[dict[str, Any]]]:
            if resource == "products":
                raise TransportError("GET /api/rest/v1/products: 502 Bad Gateway, 6 attempts")
            yield from super().list_pages(resource, params, missing_ok=missing_ok)

    with Failing(settings_of(sandbox)) as client, pytest.raises(RunAborted, match="502 Bad"):
        pull_frame(PullOptions(), client=client)


def test_pandas_is_imported_only_by_the_frames_module() -> None:
    code = (
        "import sys, feed_export; from feed_export import run_push, run_pull, run_delete;"
        "import feed_export.cli; print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)  # fmt: skip
    assert out.stdout.strip() == "False"
