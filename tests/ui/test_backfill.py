"""A real backfill of every user range through the daemon: a failed range, retried alone, and the same result as one run."""

import re
from pathlib import Path

import pandas as pd
import pytest

from geodem_cli.stack import geodem
from geodem_cli.webserver import graphql
from sample_data.userdays import write_sample_userdays
from tests.homeloc.whole_file import expected_homes

pytestmark = [pytest.mark.ui, pytest.mark.postgres]


def break_order_in_last_range(path: Path) -> bytes:
    """Swap two lines of users starting with 'e' (range c-f of 4): that range must fail, the others not."""
    original = path.read_bytes()
    lines = original.splitlines(keepends=True)
    idx = [i for i, line in enumerate(lines[1:], 1) if line.startswith(b"e")]
    a, b = idx[0], idx[-1]
    lines[a], lines[b] = lines[b], lines[a]
    path.write_bytes(b"".join(lines))
    return original


def test_backfill_survives_a_failed_range_and_equals_a_single_run(ui_stack):
    path = Path(ui_stack.env["GEODEM_USERDAYS_CSV"])
    write_sample_userdays(path, 1500, seed=11)
    original = break_order_in_last_range(path)

    first = geodem(ui_stack, "backfill", "homeloc", "--wait", "--timeout", "600")
    assert first.returncode == 1, first.stdout + first.stderr
    backfill_id = re.search(r"--failed (\w+)", first.stdout).group(1)
    status = graphql(
        ui_stack.base_url,
        """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
        ... on PartitionBackfill { runs(limit: 100) { status tags { key value } } } } }""",
        {"id": backfill_id},
    )
    by_range = {
        next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition"): r["status"]
        for r in status["partitionBackfillOrError"]["runs"]
        if any(t["key"] == "dagster/partition" for t in r["tags"])
    }
    assert by_range == {"0-3": "SUCCESS", "4-7": "SUCCESS", "8-b": "SUCCESS", "c-f": "FAILURE"}
    # A step failure is not re-run by run retries (dagster.yaml): bad input would only fail again.
    assert len(status["partitionBackfillOrError"]["runs"]) == 4

    path.write_bytes(original)  # the data engineer fixes the file, then retries the failed range alone
    retry = geodem(ui_stack, "backfill", "homeloc", "--failed", backfill_id, "--wait", "--timeout", "600")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "of 1 ranges" in retry.stdout

    combined = pd.read_parquet(
        Path(ui_stack.env["GEODEM_OUTPUT_DIR"]) / "homeloc" / "user_home_country.parquet"
    )
    expected = expected_homes(path)
    # DuckDB writes the nullable rounded total without pandas' dtype note (see test_homeloc_pipeline).
    expected = expected.astype({"total_userdays_rounded": combined["total_userdays_rounded"].dtype})
    pd.testing.assert_frame_equal(combined.reset_index(drop=True)[expected.columns], expected)
