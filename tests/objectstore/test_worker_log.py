"""The runs a Celery worker took, read from its log: received tasks, each once."""

from __future__ import annotations

from benchmarks.distributed import tasks_taken


def test_a_task_received_counts_before_its_succeeded_line_is_logged(tmp_path):
    # The run inside the last task has recorded its success in Dagster's storage, but Celery
    # has not logged the task as finished yet: it was still taken by this worker.
    (tmp_path / "worker.log").write_text(
        "[INFO/MainProcess] Task execute_job[0b1c-2d] received\n"
        "[INFO/ForkPoolWorker-1] Task execute_job[0b1c-2d] succeeded in 12.3s: None\n"
        "[INFO/MainProcess] Task execute_job[9a8f-7e] received\n"
        "[INFO/MainProcess] Task execute_job[9a8f-7e] received\n"  # a redelivery counts once
    )
    assert tasks_taken(tmp_path) == 2
