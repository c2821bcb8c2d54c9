"""The fixture mailbox (the seed correspondence as real mail) end to end, through the `cru` CLI.

Real parsers, a real SQLite file, the real console script for the user's path.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import FIXTURE_MAILBOX, REPO, SEEDS, need

TABLES = ("raw_mail", "raw_sources", "messages", "attachments", "message_attachments", "mentions", "log_links",
          "circulations", "threads", "quarantine")


def run(db: Path, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result.output


def run_json(db: Path, *args: str):
    return json.loads(run(db, *args, "--json"))


@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fixture") / "cru.db"
    report = run_json(db, "ingest", str(FIXTURE_MAILBOX))
    assert report["quarantined"] == 0
    assert report["new"] == report["messages"] > 0
    return db


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def test_thread_995_24_holds_the_circulation_and_its_update(store_db: Path) -> None:
    t = run_json(store_db, "thread", "995/24")
    assert t["log_number"] == "995/24"
    kinds = [m["kind"] for m in t["messages"]]
    subjects = [m["subject"] for m in t["messages"]]
    assert any(s.startswith("Log No.995/24 CRU Circulation (12/11/2024)") for s in subjects)
    assert any(s.startswith("Update to - RE: Log No.995/24") for s in subjects)
    assert "update" in kinds
    dates = [m["date"] for m in t["messages"]]
    assert dates == sorted(dates)
    # Copies (the circulation quoted in the update, the update attached to 157/25) are shown once.
    assert len(subjects) == len({(m["subject"], m["date"][:16]) for m in t["messages"]})
    update = next(m for m in t["messages"] if m["kind"] == "update")
    assert update["stance"] == "conditional"
    assert {"s21", "s24(2)", "s31(3)"} <= set(update["exemptions"])
    assert "s38(1)(b)" not in update["exemptions"]
    assert update["marking"] == "OFFICIAL-SENSITIVE"
    assert "POLICE EYES ONLY" in update["caveats"]


def test_links_157_25_to_995_24_to_1750_22(store_db: Path) -> None:
    t157 = run_json(store_db, "thread", "157/25")
    assert {(x["from"], x["to"]) for x in t157["links"]} >= {("157/25", "995/24")}
    assert {x["kind"] for x in t157["links"] if x["to"] == "995/24"} >= {"attached", "referenced"}
    t995 = run_json(store_db, "thread", "995/24")
    assert ("995/24", "1750/22") in {(x["from"], x["to"]) for x in t995["links"]}
    assert all(x["evidence"] for x in t995["links"])


def test_search_palantir_finds_both_logs(store_db: Path) -> None:
    results = run_json(store_db, "search", "palantir")
    logs = [r["log_number"] for r in results]
    assert {"995/24", "157/25"} <= set(logs)
    for r in results:
        assert set(r) == {"log_number", "subject", "latest_date", "marking", "stance", "snippet", "score", "similar"}
    assert "palantir" in " ".join(r["snippet"].lower() for r in results)


def test_search_by_log_number_and_filters(store_db: Path) -> None:
    results = run_json(store_db, "search", "995/24")
    assert results[0]["log_number"] == "995/24"
    assert "157/25" in [r["log_number"] for r in results]  # it cites 995/24
    os_only = run_json(store_db, "search", "palantir", "--marking", "OFFICIAL-SENSITIVE")
    assert os_only and all(r["marking"] == "OFFICIAL-SENSITIVE" for r in os_only)
    by_exemption = run_json(store_db, "search", "palantir", "--exemption", "Section 31(3)")
    assert "995/24" in [r["log_number"] for r in by_exemption]
    assert run_json(store_db, "search", "palantir", "--since", "2030-01-01") == []
    cambs = run_json(store_db, "search", "palantir", "--force", "Cambridgeshire")
    assert [r["log_number"] for r in cambs] == ["995/24"]


def test_unrelated_generic_subjects_do_not_merge(store_db: Path) -> None:
    conn = sqlite3.connect(store_db)
    rows = conn.execute(
        "SELECT thread_id FROM messages WHERE relation = 'root' AND norm_subject = 'foi request'"
    ).fetchall()
    conn.close()
    assert len(rows) >= 2 and len({r[0] for r in rows}) == len(rows)


@pytest.mark.parametrize("query", ['"unbalanced', "palantir AND", "NEAR(", "*"])
def test_bad_search_syntax_is_one_line_not_a_traceback(store_db: Path, query: str) -> None:
    result = CliRunner().invoke(cli, ["--db", str(store_db), "search", query])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "bad search syntax" in result.output or "search" in result.output


def test_reingest_changes_nothing_and_rebuild_rederives_the_same(store_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(store_db, db)
    before = counts(db)
    report = run_json(db, "ingest", str(FIXTURE_MAILBOX))
    assert report["new"] == 0 and report["duplicates"] == report["messages"]
    assert counts(db) == before
    thread_before = run_json(db, "thread", "995/24")
    run(db, "rebuild")
    assert counts(db) == before
    assert run_json(db, "thread", "995/24") == thread_before


def test_quoted_original_is_its_own_entry_when_only_the_update_is_held(tmp_path: Path) -> None:
    update = next(p for p in sorted((FIXTURE_MAILBOX / "cur").iterdir())
                  if b"Subject: Update to - RE: Log No.995/24" in p.read_bytes())
    db = tmp_path / "one.db"
    run_json(db, "ingest", str(update))
    t = run_json(db, "thread", "995/24")
    top = next(m for m in t["messages"] if m["kind"] == "update")
    quoted = [m for m in t["messages"] if m["parent"] == top["message_id"]]
    assert quoted and quoted[0]["subject"].startswith("Log No.995/24 CRU Circulation (12/11/2024)")
    assert quoted[0]["applicant_request"] and "Palantir" in quoted[0]["applicant_request"]
    assert quoted[0]["logged_with"] == "Cambridgeshire Constabulary"


def test_extract_json_contract_on_seed_text() -> None:
    seed = need(SEEDS / "001_0408a4dec1f2e07c.txt")
    items = json.loads(CliRunner().invoke(cli, ["extract", str(seed), "--json"]).output)
    keys = {"message_id", "subject", "date", "kind", "log_numbers", "referenced_log_numbers", "marking",
            "caveats", "exemptions", "redaction_markers", "stance", "logged_with", "foi_refs",
            "applicant_request", "advice", "topic", "suppliers", "parent"}
    assert all(set(i) == keys for i in items)
    first = items[0]
    assert first["log_numbers"] == ["995/24"] and "1750/22" in first["referenced_log_numbers"]
    assert first["marking"] == "OFFICIAL-SENSITIVE" and first["parent"] is None
    assert items[1]["parent"] == first["message_id"]
    assert first["topic"] == "supplier_technology" and first["suppliers"] == ["Palantir"]


def test_status_and_console_script(store_db: Path) -> None:
    s = run_json(store_db, "status")
    assert s["quarantined"] == 0 and s["threads"] >= 4
    exe = Path(sys.executable).with_name("cru")
    if not exe.exists():
        pytest.skip("console script not installed (pip install -e .)")
    proc = subprocess.run([str(exe), "--db", str(store_db), "search", "palantir"], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and "995/24" in proc.stdout


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[store]\npth = 'x'\n")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "status"])
    assert result.exit_code == 2 and "unknown key [store] pth" in result.output
