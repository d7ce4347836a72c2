"""``python -m feed_export``: the same as the ``feed-export`` command."""

from __future__ import annotations

import sys

from feed_export.cli import main

sys.exit(main())
