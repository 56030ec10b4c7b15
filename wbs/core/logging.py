"""Logging for `wbs serve`: stderr and a file under the data directory; no client addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def log_config(data_dir: Path) -> dict[str, Any]:
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    formatter = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    handlers = {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "formatter": "plain",
            "filename": str(log_dir / "wbs.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
        },
    }
    both = {"handlers": ["console", "file"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": formatter},
        "handlers": handlers,
        "loggers": {
            "wbs": both,
            "uvicorn": both,
            "uvicorn.error": both,
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
