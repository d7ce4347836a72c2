"""``python -m feed_export.sandbox``: run the sandbox PIM standalone."""

from __future__ import annotations

import sys

from feed_export.sandbox.server import main

sys.exit(main())
