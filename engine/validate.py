"""``rp2 validate FILE...``: what the engine would answer to each file, without running the workflow.

Per file: the detected message type and version (by the Document's namespace), the business application
header and its cross-checks with the Document, every rule's result (reason code, element path, narrative;
rules that found nothing are listed as passed), the per-payment statuses and the verdict. Inbound messages
(pacs.008, camt.056) are judged under a scheme profile; other shipped messages (pacs.002, camt.029, pacs.004
replies) are checked against their XSD. Exit status 0 only when every file is accepted.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from engine.iso20022 import PROFILES, MessageError, evaluate, family_of, profile_named
from engine.iso20022.errors import SchemaInvalid
from engine.iso20022.evaluation import Evaluation, rules_for
from engine.iso20022.header import header_warnings, read_header
from engine.iso20022.reading import INBOUND_FAMILIES, read_other
from engine.iso20022.rules import header_matches_document

CROSS_CHECKS = ("MsgDefIdr = Document version", "BizMsgIdr = MsgId", "Fr/To = InstgAgt/InstdAgt (unless a copy)")


def _header(message) -> dict[str, Any] | None:
    header = message.header
    if header is None:
        return None
    problems = [f.narrative for f in header_matches_document(message)]
    return {
        "definition": header.definition,
        "from": header.sender,
        "to": header.receiver,
        "business_message_id": header.business_message_id,
        "message_definition": header.message_definition,
        "copy_duplicate": header.copy_duplicate,
        "possible_duplicate": header.possible_duplicate,
        "schema_problems": list(header.schema_problems),
        "cross_checks": "passed" if not problems else problems,
    }


def _schema_rule(errors: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {"rule": "schema", "result": "passed" if not errors else "failed",
            "findings": [{"severity": "reject", "reason_code": "FF01", "narrative": e} for e in errors]}


def _inbound_report(path: Path, evaluation: Evaluation) -> dict[str, Any]:
    message = evaluation.message
    report: dict[str, Any] = {"file": str(path), "profile": evaluation.profile}
    error = evaluation.error
    if isinstance(error, SchemaInvalid):
        report.update(message_type=family_of(error.definition), definition=error.definition, verdict="rejected",
                      reason_code=error.reason_code, reason=error.narrative, rules=[_schema_rule(error.errors)], warnings=[])
        return report
    if message is None:
        report.update(message_type=None, verdict="rejected", reason_code=error.reason_code, reason=error.narrative,
                      rules=[], warnings=[])
        return report
    found: dict[str, list[dict[str, Any]]] = {}
    for result in evaluation.results:
        f = result.finding
        found.setdefault(result.rule, []).append(
            {"severity": result.severity, "reason_code": f.reason_code, "path": f.path, "narrative": f.narrative,
             "payment": None if f.payment_index is None else f.payment_index + 1}
        )
    profile = profile_named(evaluation.profile)
    rules = []
    for rule in rules_for(message):
        severity = profile.severity_of(rule.__name__)
        rules.append({"rule": rule.__name__, "severity": severity,
                      "result": "off" if severity == "off" else ("passed" if rule.__name__ not in found else "failed"),
                      "findings": found.get(rule.__name__, [])})
    reason = evaluation.reason
    report.update(
        message_type=family_of(message.definition),
        definition=message.definition,
        namespace_inferred=message.namespace_inferred,
        message_id=message.msg_id,
        header=_header(message),
        rules=rules,
        payments=[{"payment": i + 1, "status": s, "reason_code": c, "reason": n} for i, (s, c, n) in enumerate(evaluation.payment_status)],
        cancellation_items=len(getattr(message, "items", ())) or None,
        warnings=list(evaluation.warnings),
        verdict="accepted" if evaluation.accepted else ("partially accepted" if any(s == "ACSP" for s, _, _ in evaluation.payment_status) else "rejected"),
        reason_code=None if reason is None else reason[0],
        reason=None if reason is None else reason[1],
    )
    return report


def check_file(path: Path, profile_name: str, now: datetime, max_bytes: int) -> dict[str, Any]:
    raw = path.read_bytes()
    profile = profile_named(profile_name)
    evaluation = evaluate(raw, profile=profile, now=now, max_bytes=max_bytes, families=INBOUND_FAMILIES)
    if evaluation.error is None or "is not accepted on this route" not in evaluation.error.narrative:
        return _inbound_report(path, evaluation)
    try:
        located, errors = read_other(raw, max_bytes=max_bytes)
    except MessageError as error:  # pragma: no cover - read_inbound already read it
        return _inbound_report(path, Evaluation(profile.name, None, error, (), None, ()))
    header = read_header(located.app_hdr)
    return {
        "file": str(path),
        "profile": profile.name,
        "message_type": family_of(located.definition),
        "definition": located.definition,
        "namespace_inferred": located.namespace_inferred,
        "header": None if header is None else {"definition": header.definition, "schema_problems": list(header.schema_problems)},
        "rules": [_schema_rule(errors)],
        "warnings": list(located.interpretation_notes + header_warnings(header)),
        "note": f"{family_of(located.definition)} is not an inbound message: checked against its XSD only",
        "verdict": "accepted" if not errors else "rejected",
        "reason_code": None if not errors else "FF01",
        "reason": None if not errors else errors[0],
    }


def _print(report: dict[str, Any]) -> None:
    echo = click.echo
    echo(f"== {report['file']}  (profile {report['profile']})")
    if report.get("message_type") is None:
        echo("   message      unreadable")
    else:
        inferred = ", namespace inferred" if report.get("namespace_inferred") else ""
        schema_failed = any(rule["rule"] == "schema" and rule["result"] == "failed" for rule in report["rules"])
        verdict = ": failed schema validation" if schema_failed else ""
        echo(f"   message      {report['message_type']} version {report['definition']}{inferred}{verdict}")
    if report.get("note"):
        echo(f"   note         {report['note']}")
    header = report.get("header")
    if header is not None and "from" in header:
        echo(f"   header       {header['definition']} Fr {header['from']} To {header['to']} "
             f"BizMsgIdr {header['business_message_id']} MsgDefIdr {header['message_definition']}"
             + (" PssblDplct" if header["possible_duplicate"] else "") + (f" CpyDplct {header['copy_duplicate']}" if header["copy_duplicate"] else ""))
        checks = header["cross_checks"]
        echo(f"   cross-checks {'; '.join(CROSS_CHECKS)}: " + ("passed" if checks == "passed" else "; ".join(checks)))
    elif "header" in report and header is None:
        echo("   header       none")
    for rule in report.get("rules", []):
        if not rule["findings"]:
            echo(f"   rule         {rule['rule']}: {rule['result']}")
        for finding in rule["findings"]:
            where = f" payment {finding['payment']}" if finding.get("payment") else ""
            echo(f"   rule         {rule['rule']}: {finding['severity']} {finding['reason_code']}{where} {finding['narrative']}")
    for payment in report.get("payments", []) or []:
        reason = f" {payment['reason_code']}" if payment["reason_code"] else ""
        echo(f"   payment {payment['payment']:<4} {payment['status']}{reason}")
    for warning in report.get("warnings", []):
        echo(f"   warning      {warning}")
    reason = f" {report['reason_code']}: {report['reason']}" if report.get("reason_code") else ""
    echo(f"   verdict      {report['verdict'].upper()}{reason}")


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--profile", "profile_name", type=click.Choice(sorted(PROFILES)), default=None,
              help="Scheme profile of the rules (default: RP2_PROFILE, else generic).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document with a report per file.")
@click.option("--at", "at", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]), default=None,
              help="Judge dates as of this time (UTC when no offset); default: now.")
def validate(files: tuple[Path, ...], profile_name: str | None, as_json: bool, at: datetime | None) -> None:
    """Validate ISO 20022 FILEs as the engine would: type and version, header, rules, verdict."""
    from engine.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None
    now = datetime.now(timezone.utc) if at is None else (at if at.tzinfo else at.replace(tzinfo=timezone.utc))
    reports = [check_file(path, profile_name or settings.profile, now, settings.max_message_bytes) for path in files]
    if as_json:
        click.echo(json.dumps({"files": reports, "accepted": all(r["verdict"] == "accepted" for r in reports)}, indent=2))
    else:
        for report in reports:
            _print(report)
    sys.exit(0 if all(r["verdict"] == "accepted" for r in reports) else 1)
