"""Print the pure modules (pyproject.toml's [tool.pyright] include), one per line, for make lint."""

import tomllib
from pathlib import Path

config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
print("\n".join(config["tool"]["pyright"]["include"]))
