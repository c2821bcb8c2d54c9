"""Topic, suppliers and similar-request links through the pipeline and the CLI (real spaCy model, real store)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import FIXTURE_MAILBOX


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("classify") / "cru.db"
    run(path, "ingest", str(FIXTURE_MAILBOX), "--json")
    return path


def test_similar_earlier_requests_are_linked_and_shown(db: Path) -> None:
    t = json.loads(run(db, "thread", "157/25", "--json"))
    similar = {x["to"]: x["score"] for x in t["links"] if x["kind"] == "similar" and x["from"] == "157/25"}
    assert "995/24" in similar and similar["995/24"] >= 0.3
    assert "412/24" not in similar  # drones vs Palantir
    human = run(db, "thread", "157/25")
    assert "similar earlier requests: " in human and "995/24 (" in human
    drones = json.loads(run(db, "thread", "412/24", "--json"))
    assert not [x for x in drones["links"] if x["kind"] == "similar"]


def test_search_results_carry_similar_logs(db: Path) -> None:
    results = json.loads(run(db, "search", "palantir", "--json"))
    by_log = {r["log_number"]: r for r in results}
    assert "995/24" in {s["log_number"] for s in by_log["157/25"]["similar"]}


def test_topics_suppliers_and_the_supplier_ncnd_label(db: Path) -> None:
    conn = sqlite3.connect(db)
    rows = {c[0]: c[1:] for c in conn.execute("SELECT log_number, topic, topics, suppliers FROM circulations")}
    conn.close()
    assert rows["995/24"][0] == "supplier_technology"
    assert "supplier_technology_ncnd" in json.loads(rows["995/24"][1])
    assert "Palantir" in json.loads(rows["157/25"][2])
    assert rows["412/24"][0] == "vehicles_equipment" and "drone" in json.loads(rows["412/24"][2])
    assert "supplier_technology_ncnd" not in json.loads(rows["412/24"][1])


def test_reclassify_restores_and_is_idempotent(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    assert "0 messages changed" in run(copy, "reclassify", "--quiet")
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE messages SET topic = 'other', suppliers = '[]' WHERE subject LIKE 'Log No.157/25%'")
    conn.commit()
    conn.close()
    assert "0 messages changed" not in run(copy, "reclassify", "--quiet")
    assert "0 messages changed" in run(copy, "reclassify", "--quiet")
    t = json.loads(run(copy, "thread", "157/25", "--json"))
    assert t["messages"][0]["topic"] == "supplier_technology"


def test_train_is_reproducible_and_eval_reports_metrics(tmp_path: Path) -> None:
    first = run(tmp_path / "x.db", "train", "--out", str(tmp_path / "a")).strip().splitlines()[-1]
    second = run(tmp_path / "x.db", "train", "--out", str(tmp_path / "b")).strip().splitlines()[-1]
    assert Path(first).name == Path(second).name  # same data, taxonomy and seed: same versioned model
    assert json.loads((Path(first) / "meta.json").read_text())["seed"] == 0
    report = run(tmp_path / "x.db", "eval", "--model", first)
    assert "macro-F1" in report and "precision" in report.lower()
    assert "stance" in report and "suppliers" in report


def test_combined_stance_is_stored_and_restored_by_reclassify(db: Path, tmp_path: Path) -> None:
    """412/24's advice names s31 beside "answered in full": only the clause-by-clause reading says disclose."""
    def stance_of(path: Path, subject: str) -> str | None:
        conn = sqlite3.connect(path)
        (value,) = conn.execute("SELECT stance FROM messages WHERE subject = ?", [subject]).fetchone()
        conn.close()
        return value

    subject = "Log No.412/24 CRU Circulation (03/06/2024) - Drones"
    assert stance_of(db, subject) == "disclose"
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE messages SET stance = NULL WHERE subject = ?", [subject])
    conn.commit()
    conn.close()
    assert "0 messages changed" not in run(copy, "reclassify", "--quiet")
    assert stance_of(copy, subject) == "disclose"
    t = json.loads(run(copy, "thread", "412/24", "--json"))
    assert t["messages"][0]["stance"] == "disclose"
