"""Where the authors' release lies for the tests (``../shared/reference/ypt-official`` beside the checkout, or
``$YPT_SHARED/reference/ypt-official``): read in place, never copied into the repository."""
from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("YPT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
OFFICIAL = SHARED / "reference" / "ypt-official"
