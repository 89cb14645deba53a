"""``noc-console metrics``: MTTA, MTTR, SLA compliance, FCR, reopen rate, CSAT and volume.

Computed over the local cache (sync it first with ``noc-console sync --once``),
so it works with any backend, Request Tracker included, and offline. The JSON
has the shape of the server's ``GET /v1/metrics``; CSV has one row per group
and a last ``TOTAL`` row, for a spreadsheet; ``table`` is for reading. The
definitions are in docs/metrics.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime, time, timedelta
from typing import Any, TextIO

from console.config import paths
from console.config.settings import SettingsError, load_settings, settings_path
from console.domain import metrics as m
from console.domain import text
from console.domain.calendar import DEFAULT_CALENDAR
from console.store import Cache, CacheError
from console.store import metrics as cache_metrics

EXIT_OK = 0
EXIT_USAGE = 2

# CSV columns: the group, then every figure flattened (durations in seconds).
CSV_FIELDS: tuple[str, ...] = (
    "key",
    "count",
    "acknowledged",
    "resolved",
    "mtta_mean_s",
    "mtta_median_s",
    "mtta_p90_s",
    "mttr_mean_s",
    "mttr_median_s",
    "mttr_p90_s",
    "mttr_business_mean_s",
    "mttr_business_median_s",
    "mttr_business_p90_s",
    "response_sla_met",
    "resolution_sla_met",
    "fcr",
    "reopen_rate",
    "csat",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``noc-console metrics``."""
    parser.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        help="window start, inclusive: YYYY-MM-DD (UTC) or an ISO timestamp "
        "(default: 30 days before --to)",
    )
    parser.add_argument(
        "--to",
        dest="end",
        metavar="DATE",
        help="window end, exclusive (default: tomorrow, so today is included)",
    )
    parser.add_argument(
        "--by",
        default="severity",
        metavar="GROUP",
        help="group by: " + ", ".join(m.GROUP_BYS) + " (default severity)",
    )
    parser.add_argument(
        "--period",
        default="week",
        metavar="PERIOD",
        help="with --by period: day, week (default) or month",
    )
    parser.add_argument(
        "--format",
        choices=["json", "csv", "table"],
        default="table",
        help="output format (default table)",
    )
    parser.add_argument(
        "--sev1-threshold",
        type=float,
        default=m.DEFAULT_SEV1_THRESHOLD,
        metavar="SHARE",
        help="warn when more than this share of incidents are SEV-1 (default 0.10)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the local cache (default: the user data folder)",
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="folder of settings.toml, for the SLA calendar of the business-hours MTTR "
        "(default: the user config folder)",
    )


def _default_window(start: str | None, end: str | None) -> tuple[datetime | str, datetime | str]:
    tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(), UTC)
    last: datetime | str = end if end is not None else tomorrow
    if start is not None:
        return start, last
    anchor = m.parse_instant("to", last) if isinstance(last, str) else last
    return anchor - timedelta(days=30), last


def flat(key: str | None, figures: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: the group and its figures, durations flattened."""
    row: dict[str, Any] = {"key": key}
    for name, value in figures.items():
        if name in ("mtta_s", "mttr_s", "mttr_business_s"):
            short = name.removesuffix("_s")
            for stat in ("mean", "median", "p90"):
                row[f"{short}_{stat}_s"] = value[stat]
        elif name != "key":
            row[name] = value
    return row


def rows_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every group's row, then the ``TOTAL`` row."""
    return [flat(g["key"], g) for g in report["groups"]] + [flat("TOTAL", report["total"])]


def duration_text(seconds: float | None) -> str:
    """``95`` → ``1m 35s``; ``None`` → ``—``."""
    if seconds is None:
        return "—"
    return text.duration_text(timedelta(seconds=round(seconds)), form="compact")


def share_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def table_lines(report: dict[str, Any]) -> list[str]:
    """The report as aligned text, for a terminal."""
    head = ("group", "count", "ack", "res", "MTTA mean", "MTTA p90", "MTTR mean", "MTTR p90",
            "MTTR bh mean", "resp SLA", "res SLA", "FCR", "reopen", "CSAT")  # fmt: skip
    body = []
    for key, g in [(g["key"], g) for g in report["groups"]] + [("TOTAL", report["total"])]:
        body.append(
            (
                "(none)" if key is None else str(key),
                str(g["count"]),
                str(g["acknowledged"]),
                str(g["resolved"]),
                duration_text(g["mtta_s"]["mean"]),
                duration_text(g["mtta_s"]["p90"]),
                duration_text(g["mttr_s"]["mean"]),
                duration_text(g["mttr_s"]["p90"]),
                duration_text(g["mttr_business_s"]["mean"]),
                share_text(g["response_sla_met"]),
                share_text(g["resolution_sla_met"]),
                share_text(g["fcr"]),
                share_text(g["reopen_rate"]),
                "—" if g["csat"] is None else f"{g['csat']:.2f}",
            )
        )
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    lines = [
        f"Incidents opened {report['from']} – {report['to']} (to exclusive), "
        f"by {report['group_by']}"
        + (f" ({report['period']})" if report["group_by"] == "period" else ""),
        "",
    ]
    for r in (head, *body):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                               enumerate(zip(r, widths, strict=True))))  # fmt: skip
    src = report["sources"]
    lines += [
        "",
        f"User-reported {src['user_reported']} · monitoring-detected {src['monitoring']}"
        + (f" · ratio {src['ratio']:.2f}" if src["ratio"] is not None else ""),
        "Open backlog by age: "
        + ", ".join(f"{b['bucket']}: {b['count']}" for b in report["backlog"]),
    ]
    lines += [f"WARNING: {w['message']}" for w in report["warnings"]]
    return lines


def write(report: dict[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(report, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows_of(report))
    else:
        out.write("\n".join(table_lines(report)) + "\n")


def run(args: argparse.Namespace) -> int:
    """Print the metrics; 0 on success, 2 on bad options or an unusable cache."""
    if not 0 <= args.sev1_threshold <= 1:
        print("noc-console metrics: --sev1-threshold is a share from 0 to 1 (e.g. 0.1)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        start, end = _default_window(args.start, args.end)
        window = m.make_window(start, end, args.by, args.period)
    except m.MetricsInputError as exc:
        print(f"noc-console metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        business = load_settings(settings_path(args.config_dir)).sla_calendar
    except SettingsError as exc:
        print(f"noc-console metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    path = paths.data_dir(args.data_dir) / "cache.db"
    if not path.exists():
        print(
            f"noc-console metrics: there is no local cache at {path} yet; "
            "run `noc-console sync --once` (or the console) first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        with Cache.open(path) as cache:
            report = cache_metrics.compute(
                cache,
                window,
                sev1_threshold=args.sev1_threshold,
                business=business or DEFAULT_CALENDAR,
            )
    except CacheError as exc:
        print(f"noc-console metrics: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        write(report, args.format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_OK
