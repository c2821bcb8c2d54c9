"""The [[accounts]], [schedule] and [logging] configuration: the documented example loads, mistakes name the key.

No server needed; these run everywhere.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.loader import ConfigError, ScheduleConfig, load_config
from pipeline.cli import cli
from pipeline.poll import backoff_delay
from tests.conftest import REPO

GOOD = """
[store]
path = "cru.db"

[[accounts]]
name = "cru"
host = "imap.example.police.uk"
port = 993
security = "tls"
username = "cru-mailbox"
password_env = "CRU_IMAP_PASSWORD"
folders = ["INBOX"]
after_ingest = "none"

[schedule]
poll_interval_seconds = 300
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None):
    f = tmp_path / "cru.toml"
    f.write_text(text)
    return load_config(f, environ=env or {})


def test_the_issue_contract_loads(tmp_path: Path) -> None:
    cfg = load(tmp_path, GOOD)
    (a,) = cfg.accounts
    assert (a.name, a.host, a.imap_port, a.security, a.auth, a.folders) == (
        "cru", "imap.example.police.uk", 993, "tls", "password_env", ["INBOX"])
    assert cfg.schedule.poll_interval_seconds == 300


def test_documented_example_loads() -> None:
    cfg = load_config(REPO / "config" / "example.toml", environ={})
    assert len(cfg.accounts) >= 2
    assert {a.auth for a in cfg.accounts} >= {"password_env", "oauth2_token_command"}


def test_default_ports_and_environment_overrides(tmp_path: Path) -> None:
    text = GOOD.replace("port = 993\n", "").replace('security = "tls"', 'security = "starttls"')
    cfg = load(tmp_path, text, {"CRU_SCHEDULE_POLL_INTERVAL_SECONDS": "60", "CRU_LOGGING_JSON": "yes",
                                "CRU_SCHEDULE_RETRY_INITIAL_SECONDS": "0.5"})
    assert cfg.accounts[0].imap_port == 143
    assert cfg.schedule.poll_interval_seconds == 60 and cfg.schedule.retry_initial_seconds == 0.5
    assert cfg.logging.json is True


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("folders = [\"INBOX\"]", "folderz = [\"INBOX\"]"), "unknown key [[accounts]] #1 (cru) folderz"),
        (("port = 993", "port = 'imaps'"), "[[accounts]] #1 (cru) port must be an integer"),
        (('security = "tls"', 'security = "ssl"'), "security must be one of tls, starttls, none"),
        (('security = "tls"', 'security = "none"'), 'security = "none" is only allowed for 127.0.0.1/localhost'),
        (('password_env = "CRU_IMAP_PASSWORD"', 'password_env = "X"\npassword_command = "pass cru"'),
         "needs exactly one of password_env, password_command, oauth2_token_command (got password_env, "
         "password_command)"),
        (('password_env = "CRU_IMAP_PASSWORD"', ""), "needs exactly one of"),
        (('after_ingest = "none"', 'after_ingest = "delete"'), "after_ingest must be"),
        (('after_ingest = "none"', 'after_ingest = "move:INBOX"'), "which is also a polled folder"),
        (('after_ingest = "none"', 'after_ingest = "keyword:\\\\Deleted"'), "not a valid IMAP keyword"),
        (('host = "imap.example.police.uk"', ""), "[[accounts]] #1 (cru) host is required"),
        (("port = 993", 'port = 993\nca_file = "/nonexistent/ca.pem"'), "ca_file not found"),
        (("poll_interval_seconds = 300", "poll_interval_seconds = 0"), "[schedule] poll_interval_seconds"),
        (("poll_interval_seconds = 300", "poll_every = 3"), "unknown key [schedule] poll_every"),
        (("[store]", "[logging]\nlevel = 'LOUD'\n[store]"), "[logging] level must be"),
        (("[[accounts]]", "[accounts]"), "accounts must be an array of tables"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, change: tuple[str, str], needle: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        load(tmp_path, GOOD.replace(old, new, 1))
    assert needle in str(info.value)


def test_security_none_is_fine_on_loopback(tmp_path: Path) -> None:
    text = GOOD.replace('security = "tls"', 'security = "none"').replace("imap.example.police.uk", "127.0.0.1")
    assert load(tmp_path, text).accounts[0].security == "none"


def test_duplicate_account_names_are_refused(tmp_path: Path) -> None:
    text = GOOD + GOOD[GOOD.index("[[accounts]]"):GOOD.index("[schedule]")]
    with pytest.raises(ConfigError, match="names must be unique"):
        load(tmp_path, text)


def test_cli_reports_a_bad_account_key_in_one_line(tmp_path: Path) -> None:
    f = tmp_path / "cru.toml"
    f.write_text(GOOD.replace("username", "user"))
    r = CliRunner().invoke(cli, ["--config", str(f), "status"])
    assert r.exit_code == 2 and "unknown key [[accounts]] #1 (cru) user" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_poll_without_accounts_says_where_to_look(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "cru.db"), "poll", "--once"])
    assert r.exit_code == 2 and "no [[accounts]] configured" in r.output and "example.toml" in r.output


def test_backoff_doubles_is_capped_and_jittered() -> None:
    s = ScheduleConfig(retry_initial_seconds=1.0, retry_max_seconds=10.0)
    rng = random.Random(0)
    delays = [[backoff_delay(a, s, rng) for _ in range(200)] for a in range(1, 8)]
    for attempt, ds in enumerate(delays, 1):
        base = min(10.0, 2 ** (attempt - 1))
        assert all(base / 2 <= d <= base for d in ds)
        assert len({round(d, 6) for d in ds}) > 100  # jittered, not in step
    assert max(delays[-1]) <= 10.0


def test_logging_to_a_rotating_file_as_json_lines(tmp_path: Path) -> None:
    import json
    import logging

    from config.loader import LoggingConfig
    from pipeline.worker import setup_logging

    path = tmp_path / "log" / "cru.log"
    teardown = setup_logging(LoggingConfig(level="INFO", file=str(path), json=True, max_bytes=300, backup_count=2))
    try:
        for i in range(20):
            logging.getLogger("cru.poll").info("poll %d done", i)
        logging.getLogger("cru.poll").debug("not at INFO")
    finally:
        teardown()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines and all(e["logger"] == "cru.poll" and e["level"] == "INFO" for e in lines)
    assert lines[-1]["message"] == "poll 19 done"
    assert sorted(p.name for p in path.parent.iterdir()) == ["cru.log", "cru.log.1", "cru.log.2"]  # rotated
