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

from config.mail import DigestSettings, SmtpSettings, parse_digest_sections
from config.web import WebSettings, parse_web_section

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
class ClassifyConfig:
    """Topic model, taxonomy and similar-request linking (classifiers/)."""

    #: A trained model directory (`cru train` prints it); empty: the default, trained on first use.
    model_dir: str = ""
    #: The topic taxonomy a force may edit; empty: the shipped config/taxonomy.toml.
    taxonomy: str = ""
    #: Earlier circulations whose request scores at least this (TF-IDF cosine) are linked as "similar".
    similarity_threshold: float = 0.3


@dataclass(frozen=True)
class ScheduleConfig:
    """When `cru run` polls, and how hard a poll retries a mail server that is down."""

    poll_interval_seconds: int = 300
    #: A poll that could not start on time (machine asleep, previous poll still running) may start this late.
    misfire_grace_seconds: int = 60
    #: Attempts per folder and poll for connection errors and timeouts (1 = no retry).
    retry_attempts: int = 5
    #: First backoff delay; doubled per attempt, capped, with random jitter.
    retry_initial_seconds: float = 2.0
    retry_max_seconds: float = 120.0


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"
    #: Also log to this file, rotated at max_bytes ("" = stderr only).
    file: str = ""
    #: One JSON object per line instead of plain text.
    json: bool = False
    max_bytes: int = 10 * 1024 * 1024
    backup_count: int = 5


SECURITY_MODES = ("tls", "starttls", "none")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
SECRET_KEYS = ("password_env", "password_command", "oauth2_token_command")


@dataclass(frozen=True)
class AccountConfig:
    """One IMAP mailbox ([[accounts]] in the TOML file). Secrets never live here, only where to get them."""

    name: str
    host: str
    username: str
    port: int = 0  # 0: 993 for "tls", 143 otherwise
    security: str = "tls"
    ca_file: str = ""
    password_env: str = ""
    password_command: str = ""
    oauth2_token_command: str = ""
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    #: "none" | "keyword:$CruIngested" | "seen" | "move:Processed"; applied only after the commit.
    after_ingest: str = "none"
    timeout_seconds: int = 60
    #: Messages per FETCH; a batch is also cut at batch_bytes so a folder of large mail never sits in memory.
    batch_size: int = 100
    batch_bytes: int = 32 * 1024 * 1024

    @property
    def imap_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @property
    def auth(self) -> str:
        """Which secret source is configured: one of SECRET_KEYS."""
        return next(k for k in SECRET_KEYS if getattr(self, k))


@dataclass(frozen=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    accounts: tuple[AccountConfig, ...] = ()
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    web: WebSettings = field(default_factory=WebSettings)
    #: Where the settings came from, for `cru status` and error messages.
    source: str = "default"

    @property
    def store_path(self) -> Path:
        return Path(self.store.path).expanduser()

    def ingest_paths(self) -> list[Path]:
        return [resolve_path(p) for p in self.ingest.paths]


_SECTIONS: dict[str, type] = {"store": StoreConfig, "ingest": IngestConfig, "search": SearchConfig,
                              "schedule": ScheduleConfig, "logging": LoggingConfig, "classify": ClassifyConfig}
#: Arrays of tables ([[accounts]]): a file's list replaces the default's, it is not merged item by item.
_ARRAYS: dict[str, type] = {"accounts": AccountConfig}
#: Validated by their own modules (config.mail, config.web), which name any bad key.
_DIGEST_SECTIONS = ("smtp", "digest", "web")


def resolve_path(value: str) -> Path:
    """Resolve ``pkg:relative/path`` inside the installed project, else an ordinary path."""
    if value.startswith("pkg:"):
        root = Path(str(resources.files("config"))).parent
        return root / value[4:]
    return Path(value).expanduser()


def _coerce(section: str, key: str, expected: Any, value: Any, origin: str, bracket: bool = True) -> Any:
    name = f"[{section}] {key}" if bracket else f"{section} {key}"
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
    if expected is float:
        if isinstance(value, bool):
            raise ConfigError(f"{origin}: {name} must be a number, got {value!r}")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ConfigError(f"{origin}: {name} must be a number, got {value!r}") from None
        if not isinstance(value, int | float):
            raise ConfigError(f"{origin}: {name} must be a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{origin}: {name} must not be negative, got {value}")
        return float(value)
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
        if section in _DIGEST_SECTIONS:
            if not isinstance(values, dict):
                raise ConfigError(f"{origin}: [{section}] must be a table")
            raw.setdefault(section, {}).update(values)
            continue
        if section in _ARRAYS:
            raw[section] = _array(section, values, origin)
            continue
        if section not in _SECTIONS:
            known = ", ".join(sorted([*_SECTIONS, *(f"[{a}]" for a in _ARRAYS)]))
            raise ConfigError(f"{origin}: unknown section [{section}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        hints = get_type_hints(_SECTIONS[section])
        for key, value in values.items():
            if key not in hints:
                known = ", ".join(f.name for f in fields(_SECTIONS[section]))
                raise ConfigError(f"{origin}: unknown key [{section}] {key} (known: {known})")
            raw.setdefault(section, {})[key] = _coerce(section, key, hints[key], value, origin)


def _array(section: str, values: Any, origin: str) -> list[dict[str, Any]]:
    """Validate the keys and types of an array of tables such as [[accounts]]."""
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise ConfigError(f"{origin}: {section} must be an array of tables ([[{section}]])")
    cls = _ARRAYS[section]
    hints = get_type_hints(cls)
    items = []
    for i, item in enumerate(values, 1):
        label = f"[[{section}]] #{i}" + (f" ({item['name']})" if isinstance(item.get("name"), str) else "")
        out: dict[str, Any] = {}
        for key, value in item.items():
            if key not in hints:
                known = ", ".join(f.name for f in fields(cls))
                raise ConfigError(f"{origin}: unknown key {label} {key} (known: {known})")
            out[key] = _coerce(label, key, hints[key], value, origin, bracket=False)
        items.append(out)
    return items


def _check_account(a: dict[str, Any], i: int, origin: str) -> AccountConfig:
    """Build one account, refusing combinations that would only fail at 3 a.m. inside the worker."""
    label = f"[[accounts]] #{i}" + (f" ({a['name']})" if a.get("name") else "")
    for key in ("name", "host", "username"):
        if not a.get(key):
            raise ConfigError(f"{origin}: {label} {key} is required")
    secrets = [k for k in SECRET_KEYS if a.get(k)]
    if len(secrets) != 1:
        what = "none is set" if not secrets else f"got {', '.join(secrets)}"
        raise ConfigError(f"{origin}: {label} needs exactly one of {', '.join(SECRET_KEYS)} ({what})")
    security = a.get("security", "tls")
    if security not in SECURITY_MODES:
        raise ConfigError(f"{origin}: {label} security must be one of {', '.join(SECURITY_MODES)}, got {security!r}")
    if security == "none" and a["host"] not in LOCAL_HOSTS:
        raise ConfigError(f"{origin}: {label} security = \"none\" is only allowed for 127.0.0.1/localhost "
                          f"(host is {a['host']!r}): use \"tls\" or \"starttls\"")
    if a.get("ca_file") and not Path(a["ca_file"]).expanduser().is_file():
        raise ConfigError(f"{origin}: {label} ca_file not found: {a['ca_file']}")
    port = a.get("port", 0)
    if port > 65535:
        raise ConfigError(f"{origin}: {label} port must be 1-65535, got {port}")
    folders = a.get("folders", ["INBOX"])
    if not folders or any(not f.strip() for f in folders):
        raise ConfigError(f"{origin}: {label} folders must be a non-empty list of folder names")
    action = a.get("after_ingest", "none")
    kind, _, arg = action.partition(":")
    if not ((kind in ("none", "seen") and not arg) or (kind in ("keyword", "move") and arg.strip())):
        raise ConfigError(f"{origin}: {label} after_ingest must be \"none\", \"seen\", \"keyword:NAME\" "
                          f"or \"move:FOLDER\", got {action!r}")
    if kind == "keyword" and (arg.startswith("\\") or any(c in arg for c in ' (){%*"]\\')):
        raise ConfigError(f"{origin}: {label} after_ingest keyword {arg!r} is not a valid IMAP keyword")
    if kind == "move" and arg in folders:
        raise ConfigError(f"{origin}: {label} after_ingest moves to {arg!r}, which is also a polled folder")
    for key in ("batch_size", "timeout_seconds", "batch_bytes"):
        if key in a and a[key] < 1:
            raise ConfigError(f"{origin}: {label} {key} must be at least 1")
    return AccountConfig(**a)


#: Variables that are never overrides: the config/db locations and the conventional secret names.
_NOT_OVERRIDES = frozenset({"CRU_CONFIG", "CRU_DB", "CRU_SMTP_PASSWORD", "CRU_IMAP_PASSWORD"})


def _secret_variables(raw: dict[str, Any]) -> set[str]:
    """Environment variables the configuration names as holding secrets (``password_env``)."""
    tables = [raw.get("smtp", {}), *raw.get("accounts", [])]
    return {t["password_env"] for t in tables if isinstance(t, dict) and isinstance(t.get("password_env"), str)}


def _env_overrides(environ: dict[str, str], secrets: set[str] | frozenset[str] = frozenset()
                   ) -> dict[str, dict[str, str]]:
    """``CRU_<SECTION>_<KEY>`` values; a secret's variable (e.g. CRU_SMTP_PASSWORD) is not an override."""
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_OVERRIDES or name in secrets:
            continue
        rest = name[len(ENV_PREFIX):].lower()
        for section in (*_SECTIONS, *_DIGEST_SECTIONS):
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
    overrides = _env_overrides(env, _secret_variables(raw))
    if overrides:
        _merge(raw, overrides, "environment")
    if env.get("CRU_DB"):
        raw.setdefault("store", {})["path"] = env["CRU_DB"]
    sections = {name: cls(**raw.get(name, {})) for name, cls in _SECTIONS.items()}
    accounts = tuple(_check_account(a, i, source) for i, a in enumerate(raw.get("accounts", []), 1))
    names = [a.name for a in accounts]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: [[accounts]] names must be unique, got {names}")
    bad = [a.name for a in accounts if "/" in a.name or ";" in a.name]
    if bad:
        raise ConfigError(f"{source}: [[accounts]] name must not contain '/' or ';', got {bad[0]!r}")
    try:
        smtp, digest = parse_digest_sections({k: raw.get(k, {}) for k in ("smtp", "digest")})
        web = parse_web_section({"web": raw.get("web", {})})
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    cfg = Config(**sections, accounts=accounts, smtp=smtp, digest=digest, web=web, source=source)
    if cfg.ingest.max_depth < 1:
        raise ConfigError(f"{source}: [ingest] max_depth must be at least 1")
    if cfg.schedule.poll_interval_seconds < 1:
        raise ConfigError(f"{source}: [schedule] poll_interval_seconds must be at least 1")
    if cfg.schedule.retry_attempts < 1:
        raise ConfigError(f"{source}: [schedule] retry_attempts must be at least 1")
    if not 0.0 < cfg.classify.similarity_threshold <= 1.0:
        raise ConfigError(f"{source}: [classify] similarity_threshold must be in (0, 1], "
                          f"got {cfg.classify.similarity_threshold}")
    if cfg.logging.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"{source}: [logging] level must be DEBUG, INFO, WARNING or ERROR, "
                          f"got {cfg.logging.level!r}")
    return cfg
