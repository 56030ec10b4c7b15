"""The OpenAPI document: FastAPI's, plus the models that hand-written request bodies name.

A route whose body FastAPI cannot see (a JSON or multipart body read by the route itself)
declares it with `openapi_extra`, as `Model.model_json_schema(ref_template=
"#/components/schemas/{model}")`. Such a schema carries the models it refers to in its own
`$defs`; here they move into `components/schemas`, so every reference in the document
resolves (generated clients and schema-driven fuzzers read the document, not the code).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


class OpenApiConflict(RuntimeError):
    """Two different schemas under one component name."""


def _hoist(node: Any, components: dict[str, Any]) -> None:
    if isinstance(node, dict):
        defs = node.pop("$defs", None)
        if defs:
            for name, schema in defs.items():
                _hoist(schema, components)
                known = components.setdefault(name, schema)
                if known != schema:
                    raise OpenApiConflict(f"two schemas named {name!r} in the OpenAPI document")
        for value in node.values():
            _hoist(value, components)
    elif isinstance(node, list):
        for value in node:
            _hoist(value, components)


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    """Move every `$defs` under the paths into `components/schemas` (in place)."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    _hoist(doc.get("paths", {}), components)
    doc["components"]["schemas"] = dict(sorted(components.items()))
    return doc


def install_openapi(app: FastAPI) -> None:
    """FastAPI's document (built once and cached as usual), completed."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
