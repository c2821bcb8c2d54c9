"""The `cru` command line: a thin face over ingest, rebuild, extract and the query layer.

Errors the user can fix (bad config, bad search syntax, unreadable file) are
printed as one line on stderr with exit status 2; they never show a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from config.loader import Config, ConfigError, load_config
from parsers.dispatch import ParseLimits, parse_mail
from parsers.errors import ParseError
from pipeline import checkpoints, queries
from pipeline.classify import ClassifySettings
from pipeline.digest.cli import digest as digest_cmd
from pipeline.extract import extract_tree
from pipeline.ingest import IngestOptions, ingest, rebuild, reclassify
from pipeline.sources.base import RawMail, SourceProblem
from pipeline.sources.local import LocalSource
from pipeline.store import Store, StoreError, sha256_hex
from pipeline.web.cli import COMMANDS as web_commands

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)

#: Show a progress bar from this many input files on.
PROGRESS_FROM = 20


class Ctx:
    def __init__(self, config_path: str | None, db: str | None) -> None:
        self.config_path = config_path
        self.db_override = db
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db_path(self) -> Path:
        return Path(self.db_override).expanduser() if self.db_override else self.config.store_path

    def store(self) -> Store:
        try:
            return Store(self.db_path)
        except StoreError as exc:
            _fail(str(exc))

    def options(self) -> IngestOptions:
        c = self.config.ingest
        k = self.config.classify
        return IngestOptions(
            limits=ParseLimits(max_depth=c.max_depth, max_attachment_text_bytes=c.max_attachment_text_bytes),
            max_message_bytes=c.max_message_bytes,
            classify=ClassifySettings(model_dir=k.model_dir, taxonomy=k.taxonomy),
            similarity_threshold=k.similarity_threshold,
        )


def _fail(message: str) -> NoReturn:
    # Plain click.echo, not rich: an error is one unwrapped line, whatever the terminal width.
    click.echo(f"cru: error: {' '.join(message.split())}", err=True)
    sys.exit(2)


def _emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="CRU_CONFIG",
              help="TOML configuration file (default: the embedded default.toml).")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite store (overrides [store] path).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None) -> None:
    """cru: CRU circulation and advice history for police FOI teams."""
    ctx.obj = Ctx(config_path, db)
    try:
        _ = ctx.obj.config  # validate at start, naming any bad key
    except ConfigError as exc:
        _fail(str(exc))


def _count_files(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(1 for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.exists():
            total += 1
    return total


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def ingest_cmd(obj: Ctx, paths: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """Ingest .eml/.msg/TNEF/mbox files, Maildirs and directories (default: the configured paths)."""
    targets = [Path(p) for p in paths] if paths else obj.config.ingest_paths()
    source = LocalSource(targets)
    try:
        store = obj.store()
    except StoreError as exc:
        _fail(str(exc))
    total = _count_files(targets)
    show = not quiet and not as_json and total >= PROGRESS_FROM and err.is_terminal
    with store:
        if show:
            with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=err, transient=True) as progress:
                task = progress.add_task("ingest", total=total)

                def tick(item: RawMail | SourceProblem) -> None:
                    progress.update(task, completed=min(source.files_read, total))

                report = ingest(store, source, obj.options(), on_message=tick)
        else:
            report = ingest(store, source, obj.options())
    if as_json:
        _emit_json(report.as_json())
    else:
        out.print(f"files {report.files}  messages {report.messages}  new {report.new}  "
                  f"duplicates {report.duplicates}  quarantined {report.quarantined}")
    for problem in report.problems:
        click.echo(f"cru: cannot read {problem['source_ref']}: {problem['error']}", err=True)
    if report.quarantined and not as_json:
        err.print("some messages were quarantined (kept raw): see `cru status --quarantine`", markup=False)


@cli.command("rebuild")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def rebuild_cmd(obj: Ctx, as_json: bool) -> None:
    """Re-derive every table from the stored raw bytes (after an extractor or model upgrade)."""
    with obj.store() as store:
        report = rebuild(store, obj.options())
    if as_json:
        _emit_json(report.as_json())
    else:
        out.print(f"re-derived {report.messages} raw messages: parsed {report.new}, "
                  f"duplicates {report.duplicates}, quarantined {report.quarantined}")


@cli.command("extract")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the extraction contract as JSON.")
@click.pass_obj
def extract_cmd(obj: Ctx, file: str, as_json: bool) -> None:
    """Parse one file (.eml, .msg, TNEF, .txt) and print what is extracted, without storing it."""
    path = Path(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    container = "txt" if path.suffix.lower() == ".txt" else None
    try:
        tree = parse_mail(data, container, path.name, obj.options().limits)
    except ParseError as exc:
        _fail(f"{file}: {exc}")
    items = [i.contract for i in extract_tree(tree, sha256_hex(data), obj.options().classify)]
    if as_json:
        _emit_json(items)
        return
    for item in items:
        _print_message(item)


def _print_message(m: dict[str, Any], indent: str = "") -> None:
    marking = m.get("marking") or "no marking"
    if m.get("caveats"):
        marking += " / " + ", ".join(m["caveats"])
    out.print(f"{indent}[bold]{m.get('subject') or '(no subject)'}[/bold]")
    out.print(f"{indent}  {m.get('date') or 'undated'} · {m.get('kind') or 'message'} · {marking}", markup=False)
    if m.get("log_numbers") or m.get("referenced_log_numbers"):
        out.print(f"{indent}  logs: {', '.join(m['log_numbers']) or '-'}"
                  f"  references: {', '.join(m['referenced_log_numbers']) or '-'}", markup=False)
    if m.get("logged_with"):
        out.print(f"{indent}  logged with: {m['logged_with']}", markup=False)
    if m.get("stance") or m.get("exemptions"):
        out.print(f"{indent}  stance: {m.get('stance') or '-'}  exemptions: {', '.join(m['exemptions']) or '-'}",
                  markup=False)
    if m.get("applicant_request"):
        out.print(f"{indent}  request: {_short(m['applicant_request'])}", markup=False)
    if m.get("advice"):
        out.print(f"{indent}  advice: {_short(m['advice'])}", markup=False)


def _short(text: str, n: int = 160) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


@cli.command("search")
@click.argument("query")
@click.option("--marking", help="OFFICIAL, OFFICIAL-SENSITIVE, SECRET or TOP SECRET")
@click.option("--force", help="Force the request was logged with (part of the name is enough).")
@click.option("--exemption", help="FOI Act exemption advised, e.g. s31(3)")
@click.option("--stance", help="full_ncnd, partial_ncnd, confirm_and_exempt, disclose or conditional")
@click.option("--since", help="YYYY-MM-DD")
@click.option("--until", help="YYYY-MM-DD")
@click.option("--limit", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def search_cmd(obj: Ctx, query: str, marking: str | None, force: str | None, exemption: str | None,
               stance: str | None, since: str | None, until: str | None, limit: int | None,
               as_json: bool) -> None:
    """Search the threaded advice history (full-text, or a log number such as 995/24)."""
    filters = queries.SearchFilters(marking, force, exemption, stance, since, until)
    with obj.store() as store:
        try:
            results = queries.search(store, query, filters, limit or obj.config.search.limit)
        except queries.SearchError as exc:
            _fail(str(exc))
    if as_json:
        _emit_json(results)
        return
    if not results:
        out.print("no matching threads", markup=False)
        return
    top = max((r["marking"] for r in results), key=queries.marking_rank)
    if top:
        out.print(f"[bold]{top}[/bold] (highest marking in these results)")
    for r in results:
        out.print(f"[bold]{r['log_number'] or '(no log)'}[/bold]  {r['latest_date'] or ''}  "
                  f"{r['marking'] or ''}  {r['stance'] or ''}", highlight=False)
        out.print(f"  {r['subject']}", markup=False)
        out.print(f"  {r['snippet']}", markup=False)
        if r.get("similar"):
            out.print("  similar requests: " + ", ".join(f"{s['log_number']} ({s['score']:.2f})" for s in r["similar"]),
                      markup=False)


@cli.command("thread")
@click.argument("log")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def thread_cmd(obj: Ctx, log: str, as_json: bool) -> None:
    """Show a log's thread: its messages in time order and its links to other logs."""
    with obj.store() as store:
        t = queries.thread(store, log)
    if t is None:
        _fail(f"no thread for log {log!r}")
    if as_json:
        _emit_json(t)
        return
    top, caveats = queries.thread_marking(t)
    banner = " / ".join([top or "NO MARKING", *caveats])
    out.print(f"[bold]{banner}[/bold]")
    out.print(f"[bold]Log {t['log_number']}[/bold]: {len(t['messages'])} messages")
    for m in t["messages"]:
        _print_message(m, "  ")
    similar = [x for x in t["links"] if x["kind"] == "similar" and x["from"] == t["log_number"]]
    if similar:
        out.print("similar earlier requests: " + ", ".join(f"{x['to']} ({x['score']:.2f})" for x in similar),
                  markup=False)
    if t["links"]:
        out.print("links:")
        for link in t["links"]:
            out.print(f"  {link['from']} → {link['to']} ({link['kind']}): {link['evidence']}", markup=False)
    out.print(f"[bold]{banner}[/bold]")


@cli.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.option("--quarantine", "show_quarantine", is_flag=True, help="List quarantined messages and why.")
@click.pass_obj
def status_cmd(obj: Ctx, as_json: bool, show_quarantine: bool) -> None:
    """Counts of what the store holds, what was quarantined, and each mailbox folder's polling state."""
    from pipeline.worker import lock_holder

    pairs = [(a.name, f) for a in obj.config.accounts for f in a.folders]
    with obj.store() as store:
        s = queries.status(store)
        q = queries.quarantine_list(store) if show_quarantine else []
        s["accounts"] = checkpoints.report(store, pairs)
    s["worker"] = lock_holder(obj.db_path)
    if as_json:
        if show_quarantine:
            s["quarantine"] = q
        _emit_json(s)
        return
    out.print(f"store: {s['store']}", markup=False)
    for key in ("raw_messages", "messages", "distinct_messages", "attachments", "threads", "circulations",
                "log_links", "quarantined", "latest_message"):
        out.print(f"  {key.replace('_', ' ')}: {s[key]}", markup=False)
    w = s["worker"]
    out.print(f"worker: {'running (pid ' + str(w['pid']) + ')' if w['running'] else 'not running'}", markup=False)
    for a in s["accounts"]:
        out.print(f"  {a['account']}/{a['folder']}{'' if a['configured'] else ' (no longer configured)'}: "
                  f"last success {a['last_success'] or 'never'}, UIDVALIDITY {a['uidvalidity'] or '-'}, "
                  f"last UID {a['last_uid'] if a['last_uid'] is not None else '-'}, "
                  f"ingested {a['messages_ingested']}, quarantined {a['quarantined']}", markup=False)
        if a["last_error"]:
            out.print(f"    last error ({a['last_error_at']}): {a['last_error']}", markup=False)
    for item in q:
        out.print(f"  {item['source_ref']}: {item['error']}", markup=False)


def _need_accounts(obj: Ctx, names: tuple[str, ...]) -> None:
    if not obj.config.accounts:
        _fail(f"no [[accounts]] configured in {obj.config.source}: see config/example.toml")
    unknown = sorted(set(names) - {a.name for a in obj.config.accounts})
    if unknown:
        _fail(f"unknown account {unknown[0]!r} (configured: {', '.join(a.name for a in obj.config.accounts)})")


@cli.command("poll")
@click.option("--once", is_flag=True, default=True,
              help="One pass over every account and folder, then exit (the default; for cron and tests).")
@click.option("--account", "accounts", multiple=True, help="Poll only this account (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print per-folder results as JSON.")
@click.pass_obj
def poll_cmd(obj: Ctx, once: bool, accounts: tuple[str, ...], as_json: bool) -> None:
    """Poll the configured IMAP mailboxes once; exit 1 if any folder failed (`cru run` polls on a schedule)."""
    from pipeline.poll import Poller
    from pipeline.worker import LockHeld, StoreLock, setup_logging

    _need_accounts(obj, accounts)
    poller = Poller(obj.config, obj.options())
    try:
        lock = StoreLock(obj.db_path).acquire()
    except LockHeld as exc:
        _fail(str(exc))
    teardown = setup_logging(obj.config.logging)
    try:
        with obj.store() as store:
            result = poller.poll(store, accounts or None)
    finally:
        teardown()
        lock.release()
    if as_json:
        _emit_json(result.as_json())
    else:
        for f in result.folders:
            state = "ok" if f.ok else "FAILED"
            out.print(f"{f.account}/{f.folder}: {state}  fetched {f.fetched}  new {f.new}  duplicates {f.duplicates}"
                      f"  quarantined {f.quarantined}  last UID {f.last_uid if f.last_uid is not None else '-'}",
                      markup=False)
    for f in result.folders:
        if f.error:
            click.echo(f"cru: {f.account}/{f.folder}: {f.error}", err=True)
    if not result.ok:
        sys.exit(1)


@cli.command("run")
@click.pass_obj
def run_cmd(obj: Ctx) -> None:
    """Run the worker: poll every [schedule] poll_interval_seconds until SIGTERM/SIGINT."""
    from pipeline.worker import LockHeld, Worker, setup_logging

    _need_accounts(obj, ())
    teardown = setup_logging(obj.config.logging)
    try:
        Worker(obj.config, obj.db_path, obj.options()).run()
    except LockHeld as exc:
        _fail(str(exc))
    finally:
        teardown()


@cli.command("train")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Model root (default: the model cache).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.pass_obj
def train_cmd(obj: Ctx, out_dir: str | None, seed: int) -> None:
    """Train the topic and stance models reproducibly from classifiers/data; prints their versioned directories."""
    from classifiers import stance
    from classifiers.taxonomy import TaxonomyError, load_taxonomy
    from classifiers.topics import train

    try:
        taxonomy = load_taxonomy(obj.config.classify.taxonomy or None)
        path = train(out_dir=out_dir, seed=seed, taxonomy=taxonomy)
        stance_path = stance.train(out_dir=out_dir, seed=seed)
    except (TaxonomyError, ValueError) as exc:
        _fail(str(exc))
    click.echo(str(stance_path))
    click.echo(str(path))  # last, as before the stance model existed: scripts read the topic model from it


@cli.command("eval")
@click.option("--model", "model_dir", type=click.Path(file_okay=False), help="Model directory (default: configured).")
@click.pass_obj
def eval_cmd(obj: Ctx, model_dir: str | None) -> None:
    """Per-topic precision/recall/F1 on the held-out split, and supplier/stance/exemption accuracy on fixtures."""
    from classifiers.evaluate import (
        evaluate,
        evaluate_agreement,
        evaluate_fresh_suppliers,
        evaluate_real_suppliers,
        evaluate_stance,
        format_report,
        format_stance,
    )
    from classifiers.taxonomy import TaxonomyError, load_taxonomy
    from classifiers.topics import load_model

    try:
        taxonomy = load_taxonomy(obj.config.classify.taxonomy or None)
        model = load_model(model_dir or obj.config.classify.model_dir or None, taxonomy)
        report = evaluate(model=model)
        stance_report = evaluate_stance()
    except (TaxonomyError, ValueError) as exc:
        _fail(str(exc))
    click.echo(format_report(report))
    click.echo(evaluate_agreement())
    click.echo("")
    click.echo(evaluate_real_suppliers())
    click.echo(evaluate_fresh_suppliers())
    click.echo("")
    click.echo(format_stance(stance_report))
    click.echo(_fixture_accuracy(obj))


def _fixture_accuracy(obj: Ctx) -> str:
    """Stance, exemptions and suppliers on the labelled fixture messages (fixtures/labels.json)."""
    from config.loader import resolve_path

    labels_path = resolve_path("pkg:fixtures/labels.json")
    if not labels_path.exists():
        return "fixture accuracy: fixtures/labels.json not found"
    labels = json.loads(labels_path.read_text(encoding="utf-8"))["messages"]
    mailbox = resolve_path("pkg:fixtures/mailbox")
    got: dict[str, dict[str, Any]] = {}
    for path in sorted((mailbox / "cur").iterdir()):
        tree = parse_mail(path.read_bytes(), None, path.name, obj.options().limits)
        for item in extract_tree(tree, sha256_hex(path.read_bytes()), obj.options().classify):
            got.setdefault(item.contract["subject"], item.contract)
    lines = ["fixture messages (stance / exemptions / suppliers exact match):"]
    totals = {"stance": [0, 0], "exemptions": [0, 0], "suppliers": [0, 0]}
    for subject, expected in labels.items():
        actual = got.get(subject)
        for field_name, pair in totals.items():
            pair[1] += 1
            value = actual.get(field_name) if actual else None
            want = expected[field_name]
            ok = (sorted(value or []) == sorted(want)) if isinstance(want, list) else value == want
            pair[0] += int(ok)
    for field_name, (ok, total) in totals.items():
        lines.append(f"  {field_name:<11} {ok}/{total} = {ok / total:.2f}" if total else f"  {field_name}: no labels")
    return "\n".join(lines)


@cli.command("reclassify")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def reclassify_cmd(obj: Ctx, quiet: bool) -> None:
    """Re-run topic/supplier classification over the whole store (after a model or taxonomy change)."""
    with obj.store() as store:
        if quiet or not err.is_terminal:
            changed = reclassify(store, obj.options())
        else:
            with Progress(TextColumn("reclassifying"), BarColumn(), MofNCompleteColumn(), console=err,
                          transient=True) as progress:
                task = progress.add_task("reclassify", total=None)
                changed = reclassify(store, obj.options(),
                                     lambda done, total: progress.update(task, completed=done, total=total))
    out.print(f"reclassified: {changed} messages changed", markup=False)


cli.add_command(digest_cmd)
for _command in web_commands:  # serve, user, token, audit
    cli.add_command(_command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
