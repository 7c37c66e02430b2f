"""A small code location for the screenshot check: one chart as an inline picture and as a full-size one.

Loaded by dagster-webserver in tests/ui/test_pages.py (`-f` this file), not by the project's workspace.
"""

import dagster as dg

from common.figures import figure_markdown, inline_figure_markdown, plt

REGIONS = dg.StaticPartitionsDefinition(["north", "south"])
SIZES = {"Retired Homeowners": 1264, "Urban Renters": 800, "Students": 500, "Families": 300, "Rural": 120}


def _sizes_chart():
    fig, ax = plt.subplots(figsize=(3, 1.6))
    ax.barh(list(SIZES), list(SIZES.values()), color=plt.cm.tab10.colors[: len(SIZES)])
    ax.set_xlabel("Output Areas")
    fig.tight_layout()
    return fig


@dg.asset(partitions_def=REGIONS, group_name="pictures")
def region_pictures(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The same chart twice: under Dagster's 1000-character Markdown limit, and at full size."""
    return dg.MaterializeResult(
        metadata={
            "sizes_inline": dg.MetadataValue.md(inline_figure_markdown(_sizes_chart(), "sizes inline")),
            "sizes_full": dg.MetadataValue.md(figure_markdown(_sizes_chart(), "sizes full")),
            "region": context.partition_key,
        }
    )


defs = dg.Definitions(assets=[region_pictures])
