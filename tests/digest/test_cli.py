"""`cru digest` through click, with a stand-in for the lead's `cru` group and its ctx.obj."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from config.mail import DigestSettings, SmtpSettings
from pipeline.digest.cli import digest
from pipeline.digest.weeks import week_of
from pipeline.store import Store
from tests.digest.conftest import PARTNER, POLICE


@dataclass(frozen=True)
class FakeConfig:
    smtp: SmtpSettings
    digest: DigestSettings


class Obj:
    def __init__(self, db: Path, config: FakeConfig) -> None:
        self.db = db
        self.config = config

    def store(self) -> Store:
        return Store(self.db)


def run(db: Path, smtp: SmtpSettings, settings: DigestSettings, *args: str):
    @click.group()
    @click.pass_context
    def cru(ctx: click.Context) -> None:
        ctx.obj = Obj(db, FakeConfig(smtp, settings))

    cru.add_command(digest)
    return CliRunner().invoke(cru, ["digest", *args], catch_exceptions=False)


def test_preview_defaults_to_the_most_restricted_view(db_path, smtp_settings, digest_settings) -> None:
    r = run(db_path, smtp_settings, digest_settings, "--week", "2024-W50", "--preview")
    assert r.exit_code == 0
    assert r.output.splitlines()[0] == "OFFICIAL" and "withheld" in r.output and "995/24" not in r.output
    r = run(db_path, smtp_settings, digest_settings, "--week", "2024-W50", "--as", POLICE)
    lines = r.output.rstrip("\n").splitlines()
    assert lines[0] == lines[-1] == "OFFICIAL-SENSITIVE / POLICE EYES ONLY" and "995/24" in r.output


def test_html_file(db_path, smtp_settings, digest_settings, tmp_path) -> None:
    out = tmp_path / "w13.html"
    r = run(db_path, smtp_settings, digest_settings, "--week", "2025-W13", "--html", str(out), "--as", POLICE)
    assert r.exit_code == 0 and r.output == ""
    assert "157/25" in out.read_text() and "<script" not in out.read_text()


def test_send_refuse_resend_and_list(db_path, smtp_settings, digest_settings, smtp_server) -> None:
    handler, _ = smtp_server
    r = run(db_path, smtp_settings, digest_settings, "--week", "2024-W50", "--send")
    assert r.exit_code == 0 and r.output.count("sent") == 2 and len(handler.messages) == 2
    r = run(db_path, smtp_settings, digest_settings, "--week", "2024-W50", "--send")
    assert r.exit_code == 2 and "already sent" in r.output and "--resend" in r.output
    r = run(db_path, smtp_settings, digest_settings, "--week", "2024-W50", "--send", "--resend", "--as", PARTNER)
    assert r.exit_code == 0 and len(handler.messages) == 3 and handler.messages[-1]["To"] == PARTNER
    r = run(db_path, smtp_settings, digest_settings, "--list", "--json")
    rows = json.loads(r.output)
    assert {(x["recipient"], x["sends"]) for x in rows} == {(POLICE, 1), (PARTNER, 2)}
    r = run(db_path, smtp_settings, digest_settings, "--list")
    assert "2024-W50  sent" in r.output and PARTNER in r.output


def test_send_without_week_catches_up(db_path, smtp_settings, digest_settings, smtp_server) -> None:
    handler, _ = smtp_server
    recent = week_of((datetime.now(UTC) - timedelta(days=14)).date())
    settings = replace(digest_settings, start_week=recent.key)
    r = run(db_path, smtp_settings, settings, "--send", "--json")
    sent = json.loads(r.output)
    assert r.exit_code == 0 and 2 <= len(sent) <= 4 and len(handler.messages) == len(sent)
    r = run(db_path, smtp_settings, settings, "--send")
    assert r.exit_code == 0 and "nothing to send" in r.output


def test_failed_send_exits_1_naming_the_recipient(db_path, smtp_settings, digest_settings, smtp_server) -> None:
    handler, _ = smtp_server
    handler.refuse[PARTNER] = "550 5.1.1 No such user"
    r = run(db_path, smtp_settings, digest_settings, "--week", "2024-W50", "--send")
    assert r.exit_code == 1 and f"failed  {PARTNER}" in r.output


@pytest.mark.parametrize(("args", "message"), [
    (("--week", "2024-50"), "not an ISO week"),
    (("--resend",), "--resend needs --send and --week"),
    (("--week", "2024-W50", "--send", "--as", "stranger@x.police.uk"), "not one of [digest] recipients"),
    (("--as", "not-an-address"), "--as"),
])
def test_user_errors(db_path, smtp_settings, digest_settings, args, message) -> None:
    r = run(db_path, smtp_settings, digest_settings, *args)
    assert r.exit_code == 2 and message in r.output and r.output.startswith("cru: error:")


def test_send_needs_smtp(db_path, digest_settings) -> None:
    r = run(db_path, SmtpSettings(), digest_settings, "--week", "2024-W50", "--send")
    assert r.exit_code == 2 and "[smtp] host" in r.output
