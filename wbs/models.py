"""Loads every domain's models so Alembic and tests see the whole metadata."""

from __future__ import annotations

import importlib
import pkgutil

import wbs
from wbs.core.db import Base


def load_all_models() -> type[Base]:
    """Import `wbs.<domain>.models` for every domain package; returns the declarative base."""
    for module in pkgutil.iter_modules(wbs.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"wbs.{module.name}.models")
            except ModuleNotFoundError as exc:
                if exc.name != f"wbs.{module.name}.models":
                    raise
    return Base
