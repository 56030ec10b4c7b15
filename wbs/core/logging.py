"""Logging for `wbs serve` and `wbs worker`: stderr (and a file under the data directory),
as text or, with WBS_LOG_FORMAT=json, one JSON object a line. No client addresses: the
access log (wbs/core/security.py) names the route template, never the concrete path."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Structured fields a log call may pass with `extra=`; nothing else of the record is copied.
FIELDS = ("method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the known structured fields and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(data_dir: Path, fmt: str = "text", *, to_file: bool = True) -> dict[str, Any]:
    formatters: dict[str, Any] = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "wbs.core.logging.JsonFormatter"},
    }
    formatter = "json" if fmt == "json" else "plain"
    handlers: dict[str, Any] = {
        "console": {"class": "logging.StreamHandler", "formatter": formatter},
    }
    if to_file:
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers["file"] = {
            "class": "logging.handlers.RotatingFileHandler",
            "formatter": formatter,
            "filename": str(log_dir / "wbs.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
        }
    both = {"handlers": list(handlers), "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": handlers,
        "loggers": {
            "wbs": both,
            "uvicorn": both,
            "uvicorn.error": both,
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
