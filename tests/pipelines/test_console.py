"""The console logger prints one line per step with its seconds, and the assets' own messages."""

import io
import logging

import dagster as dg

from resources import console


def test_steps_and_warnings_reach_the_console_and_debug_events_do_not(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(console.sys, "stderr", stream)

    @dg.asset
    def noisy(context):
        context.log.debug("not shown")
        context.log.warning("dropped 2 zero-variance variables")
        return 1

    @dg.asset
    def broken(noisy):
        raise ValueError("census.csv: variable v42 has NaN")

    defs = dg.Definitions(
        assets=[noisy, broken],
        jobs=[dg.define_asset_job("j", [noisy, broken])],
        loggers={"console": console.progress_console},
    )
    result = defs.resolve_job_def("j").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    assert not result.success
    lines = stream.getvalue().splitlines()
    assert "  noisy started" in lines
    assert any(line.startswith("  noisy done in ") and line.endswith(" s") for line in lines)
    assert "  noisy: warning: dropped 2 zero-variance variables" in lines
    assert any(line.startswith("  broken FAILED: ") and "v42 has NaN" in line for line in lines)
    assert not any("not shown" in line or "HANDLED_OUTPUT" in line for line in lines)
    assert logging.getLevelName("INFO") == logging.INFO
