"""Where exported files land: GEODEM_OUTPUT_DIR/<pipeline>/<partition>/."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class OutputStore(dg.ConfigurableResource):
    root: str

    def folder(self, *parts: str) -> Path:
        path = Path(self.root).joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
