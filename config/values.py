"""Typed values of a config table, for the sections validated outside the loader ([smtp], [digest], [web]).

One place for the coercion rules so every section accepts the same TOML types and
the same ``CRU_<SECTION>_<KEY>`` environment strings, and names the key at fault.
"""

from __future__ import annotations

from typing import Any


def coerce_value(section: str, key: str, kind: type, value: Any) -> Any:
    """Accept TOML values and the strings of CRU_<SECTION>_<KEY> environment overrides."""
    name = f"[{section}] {key}"
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name}: must be a string, got {value!r}")
        return value.strip()
    if kind is int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name}: must be a non-negative integer, got {value!r}")
        return value
    if kind is float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError(f"{name}: must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name}: must be a non-negative number, got {value!r}")
        return float(value)
    if isinstance(value, str):  # an environment override: comma-separated
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: must be a list of strings, got {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def section_values(data: dict[str, Any], section: str, keys: dict[str, type]) -> dict[str, Any]:
    values = data.get(section) or {}
    if not isinstance(values, dict):
        raise ValueError(f"[{section}]: must be a table")
    out = {}
    for key, value in values.items():
        if key not in keys:
            raise ValueError(f"[{section}] {key}: unknown key (known: {', '.join(keys)})")
        out[key] = coerce_value(section, key, keys[key], value)
    return out
