"""The console logger of every job: one line per step (started, done with seconds, failed) and the
assets' own messages, instead of Dagster's DEBUG event stream or silence."""

from __future__ import annotations

import logging
import sys

import dagster as dg

_STEP_LINES = {"STEP_START": "started", "STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED"}


class _ProgressHandler(logging.Handler):
    def __init__(self, level: int, stream) -> None:
        super().__init__(logging.DEBUG)
        self.threshold = level
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        where = meta.get("step_key") or meta.get("job_name") or ""
        if event is not None:
            word = _STEP_LINES.get(event.event_type_value)
            if word is None:
                return
            data = event.event_specific_data
            duration = getattr(data, "duration_ms", None)
            tail = f" in {duration / 1000:.1f} s" if duration is not None else ""
            error = getattr(data, "error", None)
            if word == "FAILED" and error is not None:
                while error.cause is not None:  # the user's exception, not Dagster's wrapper
                    error = error.cause
                tail = f": {error.message.strip().splitlines()[0]}"
            self.stream.write(f"  {where} {word}{tail}\n")
        elif record.levelno >= self.threshold:
            text = meta.get("orig_message") or record.getMessage()
            self.stream.write(f"  {where}: {record.levelname.lower()}: {text}\n")
        self.stream.flush()


@dg.logger(
    config_schema={
        "log_level": dg.Field(
            str, default_value="INFO", description="Level of the assets' own messages shown."
        ),
        "name": dg.Field(str, default_value="geodem", description="Name of the Python logger."),
    },
    description="One line per step (started, done with seconds, failed) and the assets' messages at log_level.",
)
def progress_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger(config["name"], level=logging.DEBUG)
    logger.addHandler(_ProgressHandler(logging.getLevelName(config["log_level"].upper()), sys.stderr))
    return logger
