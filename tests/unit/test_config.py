"""Configuration: defaults, file, environment overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import ConfigError, load_config


def test_embedded_default_points_at_fixture_mailbox() -> None:
    cfg = load_config(environ={})
    assert cfg.source == "default"
    paths = cfg.ingest_paths()
    assert paths[0].name == "mailbox" and paths[0].is_dir()


def test_file_then_environment_override(tmp_path: Path) -> None:
    f = tmp_path / "cru.toml"
    f.write_text('[store]\npath = "/srv/a.db"\n[ingest]\nmax_depth = 3\n')
    cfg = load_config(f, environ={"CRU_INGEST_MAX_DEPTH": "7", "CRU_INGEST_PATHS": "/a, /b"})
    assert cfg.store.path == "/srv/a.db"
    assert cfg.ingest.max_depth == 7
    assert cfg.ingest.paths == ["/a", "/b"]


@pytest.mark.parametrize(
    ("text", "env", "needle"),
    [
        ("[store]\npaht = 'x'\n", {}, "unknown key [store] paht"),
        ("[stor]\npath = 'x'\n", {}, "unknown section [stor]"),
        ("[ingest]\nmax_depth = 'deep'\n", {}, "[ingest] max_depth must be an integer"),
        ("[ingest]\npaths = 'one'\n", {}, "[ingest] paths must be a list of strings"),
        ("[ingest\n", {}, "not valid TOML"),
        ("", {"CRU_INGEST_MAX_DEPTH": "x"}, "environment: [ingest] max_depth"),
        ("", {"CRU_STORE_COLOUR": "x"}, "unknown key [store] colour"),
        ("[ingest]\nmax_depth = 0\n", {}, "max_depth must be at least 1"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, env: dict[str, str], needle: str) -> None:
    f = tmp_path / "cru.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(f, environ=env)
    assert needle in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config("/nonexistent/cru.toml", environ={})


def test_a_secret_variable_named_by_password_env_is_not_an_override(tmp_path: Path) -> None:
    f = tmp_path / "cru.toml"
    f.write_text('[smtp]\nhost = "smtp.example.police.uk"\nusername = "cru"\npassword_env = "CRU_SMTP_SECRET"\n'
                 'from = "CRU <cru@example.police.uk>"\n')
    cfg = load_config(f, environ={"CRU_SMTP_SECRET": "hunter2", "CRU_SMTP_PASSWORD": "x"})
    assert cfg.smtp.password_env == "CRU_SMTP_SECRET"
