"""The ``interpersonal`` command.

Measures commands run on the framework-free core (no database, no Django):

    interpersonal measures list [--json]
    interpersonal measures show ID [--json]
    interpersonal measures fhir ID
    interpersonal score ID --answers 1=2,2=0,... [--json]
    interpersonal score --jsonl [--input FILE]
    interpersonal change ID --before 1=2,... --after 1=0,... [--json]
    interpersonal report --data DIR [--json | --csv] [--by therapy|therapist|provider|month]
                         [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--provider P] [--therapy T] [--therapist ID]
                         [--standards FILE] [--no-adsm]
    interpersonal synth --courses N --seed S --out DIR
    interpersonal fidelity icc --ratings FILE [--json]
    interpersonal fidelity drift --ratings FILE [--json] [--min-shared N] [--threshold-sd X | --threshold-points X]
    interpersonal fidelity routes [--json]

Any other command is a Django management command (``interpersonal migrate``,
``interpersonal create_admin ...``, ``interpersonal help``).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

from interpersonal.core import measures
from interpersonal.core.fidelity.errors import FidelityError
from interpersonal.core.measures.fhir import questionnaire

CORE_COMMANDS = ("measures", "score", "change", "report", "synth", "fidelity")


class UsageError(Exception):
    """Bad command-line input; printed without a traceback, exit status 2."""


def parse_answers(text: str, instrument_id: str) -> dict[str, int | None]:
    """``1=2,2=0,3=`` → {"1": 2, "2": 0, "3": None}; an empty value is a missing item."""
    answers: dict[str, int | None] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        item, sep, value = part.partition("=")
        item, value = item.strip(), value.strip()
        if not sep or not item:
            raise UsageError(f"{instrument_id}: {part!r} is not ITEM=VALUE (e.g. 1=2)")
        if item in answers:
            raise UsageError(f"{instrument_id} item {item}: given twice")
        if value == "":
            answers[item] = None
            continue
        try:
            answers[item] = int(value)
        except ValueError:
            raise UsageError(f"{instrument_id} item {item}: value must be a whole number, got {value!r}") from None
    return answers


def _print_json(data: Any, out: IO[str]) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _fmt(x: object) -> str:
    return "-" if x is None else str(x)


def _score_text(s: measures.Score) -> str:
    inst = measures.get(s.instrument)
    lines = [f"{inst.abbreviation}: total {_fmt(s.total)}"]
    if s.total is None:
        lines.append(f"  not scored: {s.reason}")
    else:
        lines.append(f"  severity: {_fmt(s.severity)}")
        if s.caseness is not None:
            lines.append(f"  caseness: {'yes' if s.caseness else 'no'}")
        if s.prorated:
            lines.append(f"  prorated for missing item(s) {', '.join(s.missing)}")
    for sid, val in s.subscales.items():
        lines.append(f"  subscale {sid}: {_fmt(val)}")
    labels = {r.item: r.label for r in inst.risk}
    if s.risk:
        lines.append("  RISK: " + "; ".join(f"item {i} ({labels[i]})" for i in s.risk))
    # Unknown risk is not "no risk": say so whatever the total, prorated or not.
    for i in s.risk_unanswered:
        lines.append(f"  RISK ITEM NOT ANSWERED: item {i} ({labels[i]}): ask about it")
    return "\n".join(lines)


def cmd_measures_list(args: argparse.Namespace, out: IO[str]) -> int:
    cat = measures.catalogue()
    if args.json:
        _print_json([{"id": i.id, "abbreviation": i.abbreviation, "name": i.name, "respondent": i.respondent.value,
                      "items": len(i.items), "range": list(i.scoring.score_range), "item_text": i.licence.item_text} for i in cat], out)
        return 0
    for i in cat:
        lo, hi = i.scoring.score_range
        out.write(f"{i.id:<10} {i.abbreviation:<10} {i.respondent.value:<9} {len(i.items):>2} items  {lo}-{hi}  {i.name}\n")
    return 0


def cmd_measures_show(args: argparse.Namespace, out: IO[str]) -> int:
    inst = measures.get(args.id)
    if args.json:
        _print_json(measures.instrument_dict(inst), out)
        return 0
    w = out.write
    w(f"{inst.abbreviation} - {inst.name} (version {inst.version})\n")
    w(f"Respondent: {inst.respondent.value}. Recall: {inst.recall_period}.\nSource: {inst.citation}\nLicence: {inst.licence.name}\n")
    if inst.codes.loinc or inst.codes.loinc_total or inst.codes.snomed_total:
        w(f"Codes: LOINC panel {_fmt(inst.codes.loinc)}, LOINC total {_fmt(inst.codes.loinc_total)}, SNOMED CT total {_fmt(inst.codes.snomed_total)}\n")
    w("\nItems:\n")
    for it in inst.items:
        flags = [f for f, on in (("not scored", not it.scored), ("reverse-keyed", it.reverse)) if on]
        w(f"  {it.id:>2}. {it.text or '(item text not shipped: licence)'}{' [' + ', '.join(flags) + ']' if flags else ''}\n")
        w("      " + "; ".join(f"{o.value}" + (f" {o.label}" if o.label and o.label != str(o.value) else "") for o in it.options) + "\n")
        for v in it.variants:
            w(f"      {v.name}: " + "; ".join(f"{o.value} {o.label}" for o in v.options) + "\n")
    w(f"\nScoring: {measures.scoring_summary(inst)}\nMissing items: {measures.missing_summary(inst)}\n")
    if inst.bands:
        w("Severity: " + ", ".join(f"{b.min}-{b.max} {b.label}" for b in inst.bands) + "\n")
    for name, t in (("Caseness", inst.caseness), ("Remission", inst.remission)):
        if t is not None:
            w(f"{name}: {t.comparison.replace('_', ' ')} {t.value}\n")
    if inst.reliable_change:
        w(f"Reliable change: {inst.reliable_change.points} points or more\n")
    if inst.jacobson_truax:
        jt = inst.jacobson_truax
        w(f"Jacobson-Truax: SD {jt.sd}, reliability {jt.reliability}, S_diff {jt.s_diff:.3f}, cut-off {jt.cutoff:g}\n")
    for r in inst.risk:
        w(f"Risk: item {r.item} at or above {r.at_or_above} ({r.label})\n")
    if inst.unconfirmed():
        w("Service settings (source unconfirmed): " + ", ".join(inst.unconfirmed()) + "\n")
    return 0


def cmd_measures_fhir(args: argparse.Namespace, out: IO[str]) -> int:
    _print_json(questionnaire(measures.get(args.id)), out)
    return 0


def _score_line(line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"not valid JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(record, dict):
        return {"error": "each line must be a JSON object"}
    instrument, answers = record.get("instrument"), record.get("answers")
    if not isinstance(instrument, str):
        return {"error": "'instrument' must be an instrument id string"}
    if not isinstance(answers, dict):
        return {"error": "'answers' must be an object of item id to value"}
    try:
        return measures.score(instrument, answers).to_dict()
    except measures.MeasuresError as exc:
        return {"instrument": instrument, "error": str(exc)}


def cmd_score(args: argparse.Namespace, out: IO[str]) -> int:
    if args.jsonl:
        if args.id or args.answers is not None:
            raise UsageError("--jsonl reads instruments and answers from its input; give no ID or --answers")
        source = open(args.input, encoding="utf-8") if args.input else sys.stdin  # noqa: SIM115 (closed below)
        failed = False
        try:
            for line in source:
                if not line.strip():
                    continue
                result = _score_line(line)
                failed = failed or "error" in result
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
        finally:
            if source is not sys.stdin:
                source.close()
        return 1 if failed else 0
    if not args.id or args.answers is None:
        raise UsageError("give an instrument ID and --answers ITEM=VALUE,... (or --jsonl)")
    scored = measures.score(args.id, parse_answers(args.answers, args.id))
    if args.json:
        _print_json(scored.to_dict(), out)
    else:
        out.write(_score_text(scored) + "\n")
    return 0


def cmd_change(args: argparse.Namespace, out: IO[str]) -> int:
    result = measures.change(args.id, parse_answers(args.before, args.id), parse_answers(args.after, args.id))
    if args.json:
        _print_json(result.to_dict(), out)
        return 0
    w = out.write
    w(f"before: {_score_text(result.before)}\nafter:  {_score_text(result.after)}\n")
    if result.difference is None:
        w("change: not computed (a score is missing)\n")
        return 0
    w(f"change: {result.difference:+}\n")
    w(f"  reliable change: {_fmt(result.reliable_change)}\n")
    w(f"  Jacobson-Truax: RCI {_fmt(result.rci)}, {_fmt(result.jacobson_truax)}\n")
    w(f"  response (>=50% reduction): {_fmt(result.response)}\n")
    w(f"  remission: {_fmt(result.remission)}\n")
    return 0


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


REPORT_SECTIONS = ("overall", "by_therapy", "by_therapist", "by_provider", "by_month")
"""The sections of a report that hold metrics (the others: standards, rules, no_match)."""


def _metric_cell(metric: str, value: object) -> str:
    if metric.endswith("_met") and isinstance(value, bool):
        return "met" if value else "not met"
    return _cell(value)


def _report_text(result: dict[str, Any]) -> str:
    """The report as one table per section: a row per metric, a column per group; then the
    standards it was judged against and the settings it used that are unconfirmed. A report whose
    filters match nothing says so instead of printing zeros."""
    if result.get("no_match"):
        return str(result["no_match"])
    blocks = []
    for section in (s for s in REPORT_SECTIONS if s in result):
        groups = result[section]
        columns = {"overall": groups} if section == "overall" else groups
        if not columns:
            blocks.append(f"{section}: (no groups)")
            continue
        metrics = list(next(iter(columns.values())))
        table = [["metric", *columns], *([m, *(_metric_cell(m, g.get(m)) for g in columns.values())] for m in metrics)]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines = [f"{section}:"] + [
            "  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
            for row in table
        ]
        blocks.append("\n".join(lines))
    standards = result.get("standards")
    if standards:
        lines = [f"standards in force on {standards['as_of']}:"]
        for s in standards["in_force"]:
            flag = "" if s["confirmed"] else " [unconfirmed: a service setting]"
            lines.append(f"  {s['rate']} >= {s['target']:.2f}: {s['label']}{flag}")
        blocks.append("\n".join(lines))
    rules = result.get("rules")
    if rules:
        lines = [f"anxiety-disorder-specific measures: {'used where the problem descriptor names one' if rules['use_adsm'] else 'off (GAD-7 only)'}"]
        if rules["unconfirmed"]:
            lines.append("  unconfirmed settings (service-configurable): " + ", ".join(rules["unconfirmed"]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: object) -> str:
    """A cell for a spreadsheet: text that a spreadsheet would run as a formula is quoted with a
    leading apostrophe (OWASP CSV injection); numbers are written as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _report_csv(result: dict[str, Any], grouping: str, out: IO[str]) -> None:
    """One row for the whole report ("overall") and one per group of ``grouping``: the columns
    ``section``, ``group`` and every metric of the report's JSON, in its order."""
    sections = [("overall", "", result["overall"])]
    sections += [(f"by_{grouping}", key, group) for key, group in result.get(f"by_{grouping}", {}).items()]
    metrics = list(result["overall"])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "group", *metrics])
    for section, key, group in sections:
        writer.writerow([section, _csv_text(key), *(_csv_text(group.get(m)) for m in metrics)])


def _known_therapies(data: Any) -> list[str]:
    """Therapies the report knows: the protocol catalogue's, and any in the data set."""
    import polars as pl

    from interpersonal.core import protocols

    known = {p.id for p in protocols.catalogue()}
    for table in ("referrals", "courses"):
        if data.has(table, "therapy"):
            frame = getattr(data, table).select(pl.col("therapy").drop_nulls().unique()).collect()
            known.update(frame["therapy"].to_list())
    return sorted(known)


def cmd_report(args: argparse.Namespace, out: IO[str]) -> int:
    from interpersonal.core.outcomes import dataset, service, standards

    if args.json and args.csv:
        raise UsageError("give --json or --csv, not both")
    try:
        data = dataset.read(args.data)
    except dataset.DatasetError as exc:
        raise UsageError(str(exc)) from None
    if args.therapy is not None:
        known = _known_therapies(data)
        if args.therapy not in known:
            raise UsageError(f"unknown --therapy {args.therapy!r}; known therapies: {', '.join(known)}")
    chosen = standards.load(Path(args.standards)) if args.standards else None
    result = service.report(data, by=args.by, since=args.since, until=args.until,
                            provider=args.provider, therapy=args.therapy, therapist=args.therapist,
                            use_adsm=False if args.no_adsm else None, standards=chosen)
    if args.json:
        _print_json(result, out)
    elif args.csv:
        if result["no_match"]:
            sys.stderr.write(f"interpersonal: {result['no_match']}\n")
        _report_csv(result, args.by or "therapy", out)
    else:
        out.write(_report_text(result) + "\n")
    return 0


def _progress_bar(stream: IO[str], width: int = 30) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        frac = done / total if total else 1.0
        filled = int(frac * width)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} courses")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return progress


def cmd_synth(args: argparse.Namespace, out: IO[str]) -> int:
    if args.courses < 0:
        raise UsageError("--courses must be 0 or more")
    synth = importlib.import_module("interpersonal.core.outcomes.synth")  # written separately; imported on use
    synth.generate(courses=args.courses, seed=args.seed, out=Path(args.out), progress=_progress_bar(sys.stderr))
    out.write(f"wrote {args.courses} synthetic courses to {args.out}\n")
    return 0


RATING_COLUMNS = ("target", "rater", "rating")


def read_ratings(path: str) -> list[Any]:
    """The rows of a ratings CSV (header ``target,rater,rating``, in any order, spaces around the
    names tolerated; no other column) as :class:`~interpersonal.core.fidelity.icc.Rating` values.
    A malformed file raises :class:`UsageError` naming the line."""
    from interpersonal.core.fidelity.icc import Rating

    rows: list[Any] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise UsageError(f"{path}: the file is empty; expected a header row: {', '.join(RATING_COLUMNS)}")
        names = [h.strip() for h in header]
        missing = [c for c in RATING_COLUMNS if c not in names]
        extra = [n or "(blank)" for n in names if n not in RATING_COLUMNS]
        repeated = sorted({n for n in names if names.count(n) > 1 and n in RATING_COLUMNS})
        if missing or extra or repeated:
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(extra)}"] if extra else []) + (
                [f"repeated {', '.join(repeated)}"] if repeated else [])
            raise UsageError(f"{path}: the columns must be exactly {', '.join(RATING_COLUMNS)} ({'; '.join(problems)})")
        where = {name: names.index(name) for name in RATING_COLUMNS}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                raise UsageError(f"{path} line {line}: {len(cells)} fields, expected {len(names)}")
            target, rater, text = (cells[where[c]].strip() for c in RATING_COLUMNS)
            try:
                value = float(text)
            except ValueError:
                raise UsageError(f"{path} line {line}: target {target}, rater {rater}: the rating {text!r} is not a number") from None
            rows.append(Rating(target, rater, value))
    return rows


def _num(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def cmd_fidelity_icc(args: argparse.Namespace, out: IO[str]) -> int:
    from interpersonal.core.fidelity import icc

    result = icc.compute(read_ratings(args.ratings))
    if args.json:
        _print_json(result.to_dict(), out)
        return 0
    rows = [["type", "Shrout-Fleiss", "McGraw-Wong", "model", "unit", "definition", "ICC", "95% CI", "F", "df1", "df2",
             "p", "band (Koo & Li)"]]
    for i in result.iccs:
        k = i.kind
        rows.append([i.type, k.shrout_fleiss, k.mcgraw_wong, k.model, k.unit, k.definition, _num(i.icc),
                     f"{_num(i.ci95[0])} to {_num(i.ci95[1])}", _num(i.f), str(i.df1), str(i.df2), _p(i.p), i.band_text()])
    w = out.write
    w(f"Intraclass correlations (Shrout & Fleiss 1979): {result.n_targets} targets, {result.n_raters} raters\n\n")
    w("\n".join(_table(rows)) + "\n\n")
    w("F tests ICC = 0. Bands: poor < 0.5 <= moderate < 0.75 <= good <= 0.9 < excellent (Koo & Li 2016),\n"
      "for the estimate and each end of its 95% CI. Raters drawn from a pool, single ratings used: report ICC2.\n")
    return 0


def cmd_fidelity_drift(args: argparse.Namespace, out: IO[str]) -> int:
    from interpersonal.core.fidelity import drift

    settings = drift.DriftSettings(min_shared=args.min_shared, threshold_sd=args.threshold_sd,
                                   threshold_points=args.threshold_points)
    results = drift.assess(read_ratings(args.ratings), settings)
    threshold = results[0].threshold if results else 0.0
    panel_sd = results[0].panel_sd if results else 0.0
    if args.json:
        _print_json({"drift": [{"rater": d.rater, "n_shared": d.n_shared, "difference": d.difference,
                                "ci95": list(d.ci95) if d.ci95 else None, "difference_sd": d.difference_sd,
                                "status": d.status} for d in results],
                     "threshold": threshold, "panel_sd": panel_sd, "min_shared": settings.min_shared}, out)
        return 0
    rows = [["rater", "shared targets", "difference", "95% CI", "in panel SDs", "status"]]
    rows += [[d.rater, str(d.n_shared), _num(d.difference), f"{_num(d.ci95[0])} to {_num(d.ci95[1])}" if d.ci95 else "-",
              _num(d.difference_sd, 2), d.status] for d in results]
    basis = (f"{settings.threshold_points:g} points" if settings.threshold_points is not None
             else f"{settings.threshold_sd:g} x panel SD {panel_sd:.3f} = {threshold:.3f} points")
    out.write("\n".join(_table(rows)) + "\n\n")
    out.write(f"Difference: the rater's rating minus the other raters' mean on the same target. Drift: 95% CI excludes 0\n"
              f"and |difference| >= {basis}; at least {settings.min_shared} shared targets (service settings, docs/fidelity.md).\n")
    return 0


def cmd_fidelity_routes(args: argparse.Namespace, out: IO[str]) -> int:
    from interpersonal.core.fidelity import accreditation

    routes = accreditation.catalogue()
    if args.json:
        _print_json([{"id": r.id, "name": r.name, "therapies": list(r.therapies), "source": r.source,
                      "rules": [{"key": x.key, "kind": x.kind, "text": x.text, "confirmed": x.confirmed,
                                 "source": x.source, "note": x.note} for x in r.rules]} for r in routes], out)
        return 0
    for r in routes:
        out.write(f"{r.id}: {r.name} ({', '.join(r.therapies)})\n  source: {r.source}\n")
        for x in r.rules:
            status = "confirmed" if x.confirmed else "service setting (unconfirmed)"
            out.write(f"  - {x.text} [{status}]\n    {x.source}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interpersonal",
        description="Measures, scoring and change on the command line; any other command is a Django management command (see 'interpersonal help').",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    m = sub.add_parser("measures", help="the instrument catalogue")
    msub = m.add_subparsers(dest="action", required=True)
    p = msub.add_parser("list", help="list instruments")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_measures_list)
    p = msub.add_parser("show", help="show one instrument's definition")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_measures_show)
    p = msub.add_parser("fhir", help="one instrument as a FHIR R4 Questionnaire (JSON)")
    p.add_argument("id")
    p.set_defaults(func=cmd_measures_fhir)

    p = sub.add_parser("score", help="score one answer set, or JSON lines with --jsonl")
    p.add_argument("id", nargs="?")
    p.add_argument("--answers", help="ITEM=VALUE,... (an empty VALUE or an absent item is missing)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--jsonl", action="store_true", help='read lines {"instrument": ID, "answers": {...}}; write one result per line')
    p.add_argument("--input", help="with --jsonl: read this file instead of standard input")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("change", help="change between two answer sets of one instrument")
    p.add_argument("id")
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_change)

    p = sub.add_parser("report", help="NHS Talking Therapies outcome metrics of a data set (docs/outcomes.md)")
    p.add_argument("--data", required=True, help="directory of referrals, contacts, scores and optionally courses (.parquet or .csv)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", action="store_true",
                   help="one CSV row overall and one per group of --by (default: therapy), a column per metric")
    p.add_argument("--by", choices=["therapy", "therapist", "provider", "month"])
    p.add_argument("--since", type=_parse_date, help="first day of the period (YYYY-MM-DD)")
    p.add_argument("--until", type=_parse_date, help="last day of the period (YYYY-MM-DD)")
    p.add_argument("--provider")
    p.add_argument("--therapy")
    p.add_argument("--therapist")
    p.add_argument("--standards", help="a TOML file of [[standards]] to judge the rates against, instead of the national ones")
    p.add_argument("--no-adsm", action="store_true",
                   help="use GAD-7 as the anxiety measure for every referral, whatever its problem descriptor")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("synth", help="write a synthetic outcomes data set (Parquet)")
    p.add_argument("--courses", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True, help="directory to write")
    p.set_defaults(func=cmd_synth)

    fid = sub.add_parser("fidelity", help="inter-rater reliability, rater drift and accreditation routes (docs/fidelity.md)")
    fsub = fid.add_subparsers(dest="action", required=True)
    p = fsub.add_parser("icc", help="the six Shrout & Fleiss ICCs of a complete, balanced ratings file")
    p.add_argument("--ratings", required=True, help="CSV with the columns target, rater, rating (a header row)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fidelity_icc)
    p = fsub.add_parser("drift", help="each rater's mean difference from the rest of the panel")
    p.add_argument("--ratings", required=True, help="CSV with the columns target, rater, rating (a header row)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--min-shared", type=int, default=5, help="fewest shared targets to judge a rater (default 5)")
    limit = p.add_mutually_exclusive_group()
    limit.add_argument("--threshold-sd", type=float, default=0.5,
                       help="drift threshold in panel standard deviations (default 0.5)")
    limit.add_argument("--threshold-points", type=float, help="drift threshold in rating points (instead of --threshold-sd)")
    p.set_defaults(func=cmd_fidelity_drift)
    p = fsub.add_parser("routes", help="the accreditation routes in force, with each rule's source and status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fidelity_routes)
    return parser


def _django(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interpersonal.web.settings")
    management = importlib.import_module("django.core.management")
    management.execute_from_command_line(["interpersonal", *argv])
    return 0


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in CORE_COMMANDS and not args_list[0].startswith("-"):
        return _django(args_list)
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        code: int = args.func(args, out)
    except (UsageError, measures.MeasuresError, FidelityError) as exc:
        sys.stderr.write(f"interpersonal: error: {exc}\n")
        return 2
    except BrokenPipeError:
        # The reader went away (``... | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        sys.stderr.write(f"interpersonal: error: {exc}\n")
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
