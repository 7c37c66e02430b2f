"""`geodem names import`: a chat LLM's answer to names_prompt*.txt, stored as reviewed names."""

from __future__ import annotations

from pathlib import Path

from geodem_assets.tables import REGION
from resources.namers import ClusterName, apply_overrides, load_overrides
from resources.namers.chat_answer import AnswerError, read_answer
from resources.namers.overrides import save_overrides
from resources.warehouse import Warehouse


def region_names(warehouse: Warehouse, slug: str) -> tuple[dict[str, str], list[ClusterName]]:
    """(code -> level, the current names) of a classified region; ValueError if it was never classified."""
    if not (warehouse.has_table("cluster_profiles") and warehouse.has_table("cluster_names")):
        raise ValueError(
            f"region {slug} has no names yet: run `geodem materialize geodem --region {slug}` first"
        )
    sizes = warehouse.read("cluster_profiles", REGION, slug)
    table = warehouse.read("cluster_names", REGION, slug)
    if sizes.empty or table.empty:
        raise ValueError(
            f"region {slug} has no names yet: run `geodem materialize geodem --region {slug}` first"
        )
    levels = dict(zip(sizes["cluster"], sizes["level"]))
    names = [
        ClusterName(
            code=str(row["cluster"]),
            name=str(row["name"]),
            description=str(row["description"]),
            source=str(row["source"]),
            model=row["model"],
            prompt_version=str(row["prompt_version"]),
        )
        for row in table.to_dict("records")
    ]
    return levels, names


def import_answer(
    slug: str, text: str, warehouse: Warehouse, overrides_file: Path
) -> dict[str, dict[str, str]]:
    """Check a pasted answer against the region's classification and merge it into `overrides_file`.

    Returns the imported entries (code -> name, description). Raises AnswerError (every problem,
    each named by its cluster) or ValueError (region not classified, broken overrides file);
    in both cases nothing is written.
    """
    levels, current = region_names(warehouse, slug)
    overrides = load_overrides(overrides_file)
    # Names the answer does not replace stay as they will be after overrides: others' reviewed names count.
    after = {n.code: overrides.get(n.code, {}).get("name", n.name) for n in current}
    entries = read_answer(text, levels, after)
    merged = dict(overrides) | entries
    try:
        apply_overrides(current, merged)
    except ValueError as exc:
        raise AnswerError([str(exc)], source=str(overrides_file)) from None
    save_overrides(overrides_file, entries)
    return entries
