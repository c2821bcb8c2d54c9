"""The one place configuration is read: a TOML file plus environment overrides.

Validated at start so that a wrong key, a wrong type or a missing file stops the
program with a message naming the key, instead of failing hours later inside an
unattended worker. Defaults live in ``config/default.toml`` (shipped with the
package); a user's file overrides them key by key; ``CRU_<SECTION>_<KEY>``
environment variables override both.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints

ENV_PREFIX = "CRU_"


class ConfigError(ValueError):
    """A configuration problem, with a message that names the offending key."""


@dataclass(frozen=True)
class StoreConfig:
    path: str = "var/cru.db"


@dataclass(frozen=True)
class IngestConfig:
    paths: list[str] = field(default_factory=lambda: ["pkg:fixtures/mailbox"])
    max_depth: int = 5
    max_message_bytes: int = 50 * 1024 * 1024
    max_attachment_text_bytes: int = 20 * 1024 * 1024


@dataclass(frozen=True)
class SearchConfig:
    limit: int = 20


@dataclass(frozen=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    #: Where the settings came from, for `cru status` and error messages.
    source: str = "default"

    @property
    def store_path(self) -> Path:
        return Path(self.store.path).expanduser()

    def ingest_paths(self) -> list[Path]:
        return [resolve_path(p) for p in self.ingest.paths]


_SECTIONS: dict[str, type] = {"store": StoreConfig, "ingest": IngestConfig, "search": SearchConfig}


def resolve_path(value: str) -> Path:
    """Resolve ``pkg:relative/path`` inside the installed project, else an ordinary path."""
    if value.startswith("pkg:"):
        root = Path(str(resources.files("config"))).parent
        return root / value[4:]
    return Path(value).expanduser()


def _coerce(section: str, key: str, expected: Any, value: Any, origin: str) -> Any:
    name = f"[{section}] {key}"
    if expected is int:
        if isinstance(value, bool):
            raise ConfigError(f"{origin}: {name} must be an integer, got {value!r}")
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise ConfigError(f"{origin}: {name} must be an integer, got {value!r}") from None
        if not isinstance(value, int):
            raise ConfigError(f"{origin}: {name} must be an integer, got {value!r}")
        if value < 0:
            raise ConfigError(f"{origin}: {name} must not be negative, got {value}")
        return value
    if expected is bool:
        if isinstance(value, str):
            low = value.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off"}:
                return False
        if not isinstance(value, bool):
            raise ConfigError(f"{origin}: {name} must be true or false, got {value!r}")
        return value
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: {name} must be a string, got {value!r}")
        return value
    if expected == list[str]:
        if isinstance(value, str) and origin == "environment":  # comma-separated
            return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{origin}: {name} must be a list of strings, got {value!r}")
        return list(value)
    raise ConfigError(f"{origin}: {name} has an unsupported type")  # pragma: no cover


def _merge(raw: dict[str, Any], data: dict[str, Any], origin: str) -> None:
    for section, values in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{origin}: unknown section [{section}] (known: {', '.join(sorted(_SECTIONS))})")
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        hints = get_type_hints(_SECTIONS[section])
        for key, value in values.items():
            if key not in hints:
                known = ", ".join(f.name for f in fields(_SECTIONS[section]))
                raise ConfigError(f"{origin}: unknown key [{section}] {key} (known: {known})")
            raw.setdefault(section, {})[key] = _coerce(section, key, hints[key], value, origin)


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in {"CRU_CONFIG", "CRU_DB"}:
            continue
        rest = name[len(ENV_PREFIX):].lower()
        for section in _SECTIONS:
            if rest.startswith(section + "_"):
                out.setdefault(section, {})[rest[len(section) + 1:]] = value
                break
    return out


def load_config(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Load defaults, then ``path`` (or ``$CRU_CONFIG``), then environment overrides.

    Raises ConfigError with a message naming the file and key on any problem.
    """
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    default_text = resources.files("config").joinpath("default.toml").read_text(encoding="utf-8")
    _merge(raw, tomllib.loads(default_text), "default.toml")
    source = "default"
    chosen = path or env.get("CRU_CONFIG")
    if chosen:
        p = Path(chosen).expanduser()
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        _merge(raw, data, str(p))
        source = str(p)
    overrides = _env_overrides(env)
    if overrides:
        _merge(raw, overrides, "environment")
    if env.get("CRU_DB"):
        raw.setdefault("store", {})["path"] = env["CRU_DB"]
    sections = {name: cls(**raw.get(name, {})) for name, cls in _SECTIONS.items()}
    cfg = Config(**sections, source=source)
    if cfg.ingest.max_depth < 1:
        raise ConfigError(f"{source}: [ingest] max_depth must be at least 1")
    return cfg
