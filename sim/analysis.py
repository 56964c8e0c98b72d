"""Helpers for the SLA notebooks: scenario variants built in code, sweeps through ``sim.run``, a summary row per
run, CDFs and the plots the notebooks show.

    from sim import analysis
    base = analysis.load_raw("scenarios/baseline.toml")
    axes = [analysis.outage_axis([0, 60], start_s=30), analysis.cadence_axis([10, 60])]
    sweep = analysis.sweep(base, axes, seeds=[1, 2], changes={"duration_s": 180})
    sweep.runs                     # one row per setting and seed: rates, percentiles, requests, cost
    analysis.plot_cdfs(sweep.transactions, hue="outage_s", facet="timeout_cadence_s")

Scenarios are changed as data: the TOML table of a scenario file, changed by dotted keys
(``{"engine.timeout_cadence_s": 10}``) and parsed again by ``sim.parse_scenario``, so a variant is validated
exactly as a scenario file is.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DELETE = object()  # a value of ``with_settings`` that removes the key
TERMINAL = ("ACSC", "RJCT", "CANC", "FAIL")
OUTCOMES = ("ACSC", "RJCT", "CANC", "FAIL", "not terminal", "no transaction")
STATUS_COLOURS = {"ACCP": "tab:blue", "ACTC": "tab:cyan", "ACSP": "tab:olive", "ACSC": "tab:green", "RJCT": "tab:red",
                  "CANC": "tab:orange", "FAIL": "tab:purple"}
SLIM_COLUMNS = ["region", "kind", "final_status", "reason_code", "opened_s", "terminal_s", "time_to_terminal_s"]


# -- scenarios as data ----------------------------------------------------------------------------------------
def repo_path(relative: str | Path) -> Path:
    """A file of the project (``scenarios/baseline.toml``), found from the working directory (a notebook runs in
    notebooks/) or its parents, else from the project's root."""
    path = Path(relative)
    if path.is_absolute():
        return path
    here = Path.cwd()
    for base in (here, *here.parents, ROOT):
        if (base / path).exists():
            return base / path
    raise FileNotFoundError(f"{relative}: not found from {here} or its parents, nor in {ROOT}")


class ScenarioTable(dict):
    """The TOML table of a scenario, remembering the file it came from (``source``; None for a table made in code)."""

    source: str | None = None


def load_raw(source: str | Path | Mapping[str, Any]) -> ScenarioTable:
    """The TOML table of a scenario file (a path, found with ``repo_path``), or a copy of a table."""
    if isinstance(source, Mapping):
        return with_settings(source)
    path = repo_path(source)
    table = ScenarioTable(tomllib.loads(path.read_text(encoding="utf-8")))
    table.setdefault("name", path.stem)
    table.source = str(path)
    return table


def with_settings(raw: Mapping[str, Any], changes: Mapping[str, Any] | None = None) -> ScenarioTable:
    """A copy of ``raw`` with ``changes`` applied: dotted keys reach into sub-tables (created when missing);
    the value ``DELETE`` removes a key."""
    out = ScenarioTable(copy.deepcopy(dict(raw)))
    out.source = getattr(raw, "source", None)
    for dotted, value in (changes or {}).items():
        *parents, key = dotted.split(".")
        table = out
        for part in parents:
            child = table.get(part)
            if not isinstance(child, dict):
                child = table[part] = {}
            table = child
        if value is DELETE:
            table.pop(key, None)
        else:
            table[key] = copy.deepcopy(value)
    return out


def scenario(source: str | Path | Mapping[str, Any], changes: Mapping[str, Any] | None = None):
    """A ``sim.Scenario`` from a file or a table, with ``changes`` (see ``with_settings``), validated as a file is:
    a mistake raises ``sim.ScenarioError`` naming the key and what was expected."""
    from sim.scenario import parse_scenario

    raw = with_settings(load_raw(source), changes)
    label = raw.source or "<notebook>"
    if changes:
        label += " with " + ", ".join(f"{k}={_short(v)}" for k, v in changes.items())
    return parse_scenario(dict(raw), source=label, default_name=raw.get("name") or "scenario")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def find_setting(name: str):
    """``(dotted path, schema Field)`` of the scenario setting called ``name`` (a last key such as ``consistency``
    or a full dotted path), or None while the scenario schema has no such setting."""
    from sim.scenario import SPEC
    from sim.schema import Field

    def walk(spec: Mapping[str, Any], prefix: str):
        for key, entry in spec.items():
            path = f"{prefix}{key}"
            if isinstance(entry, Field):
                yield path, entry
            elif isinstance(entry, Mapping):
                yield from walk(entry, path + ".")

    for path, entry in walk(SPEC, ""):
        if path == name or path.rsplit(".", 1)[-1] == name:
            return path, entry
    return None


# -- sweep axes ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One dimension of a sweep: its values, and the scenario changes each value makes."""

    name: str
    values: tuple[Any, ...]
    changes: Callable[[Any], dict[str, Any]]


def cadence_changes(cadence_s: float) -> dict[str, Any]:
    """The timeout job's schedule for a cadence: EventBridge Scheduler for whole minutes, else the sub-minute loop."""
    schedule = "eventbridge" if cadence_s >= 60 and cadence_s % 60 == 0 else "loop"
    return {"engine.timeout_schedule": schedule, "engine.timeout_cadence_s": float(cadence_s)}


def fault_changes(fault: Mapping[str, Any], start_s: float, duration_s: float) -> dict[str, Any]:
    """The scenario's faults replaced by ``fault`` (an action and its parameters) from ``start_s`` for
    ``duration_s``; a duration of 0 means no fault at all."""
    if duration_s <= 0:
        return {"faults": []}
    return {"faults": [{**dict(fault), "start_s": float(start_s), "duration_s": float(duration_s)}]}


def outage_axis(lengths_s: Iterable[float], *, start_s: float, fault: Mapping[str, Any] | None = None,
                name: str = "outage_s") -> Axis:
    """Fault length: a region outage by default, or any fault action with its parameters
    (``{"action": "aws:fis:inject-api-unavailable-error", "service": "dynamodb", "percentage": 50}``)."""
    fault = dict(fault or {"action": "rp2:region-outage"})
    return Axis(name, tuple(lengths_s), lambda length: fault_changes(fault, start_s, length))


def cadence_axis(cadences_s: Iterable[float], name: str = "timeout_cadence_s") -> Axis:
    return Axis(name, tuple(cadences_s), cadence_changes)


def setting_axis(name: str, values: Iterable[Any], path: str | None = None) -> Axis:
    """Any scenario setting by its dotted path (or its last key, looked up in the schema)."""
    if path is None:
        found = find_setting(name)
        if found is None:
            raise KeyError(f"the scenario schema has no setting {name!r}")
        path = found[0]
    return Axis(name, tuple(values), lambda value: {path: value})


def consistency_axis(modes: Iterable[str] | None = None) -> Axis | None:
    """The ledger's consistency mode, once the scenario schema has a ``consistency`` setting: ``modes`` None means
    every choice the schema offers. While the schema has none, None (modes None or empty) or an error (modes given)."""
    found = find_setting("consistency")
    if found is None:
        if modes:
            raise KeyError("the scenario schema has no consistency setting yet (it comes with multi-region)")
        return None
    path, field = found
    values = tuple(modes) if modes is not None else tuple(field.choices or ())
    return Axis("consistency", values, lambda mode: {path: mode}) if values else None


def grid(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, as ``{axis name: value}``, in order."""
    return [dict(zip((a.name for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]


def changes_for(axes: Sequence[Axis], setting: Mapping[str, Any], changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The scenario changes of one setting of the axes (``{axis name: value}``) on top of ``changes``; the
    scenario's expectations are dropped (a sweep asks how it behaves, not whether it meets a bound)."""
    merged: dict[str, Any] = {"expect": {}, **dict(changes or {})}
    for axis in axes:
        merged.update(axis.changes(setting[axis.name]))
    return merged


def setting_value(raw: Mapping[str, Any], dotted: str) -> Any:
    """A setting of a scenario table by its dotted key; the schema's default when the table does not set it."""
    table: Any = raw
    for part in dotted.split("."):
        if not isinstance(table, Mapping) or part not in table:
            found = find_setting(dotted)
            return None if found is None else found[1].default
        table = table[part]
    return table


# -- one run's figures -----------------------------------------------------------------------------------------
def message_outcomes(result) -> pd.DataFrame:
    """One row per client arrival (message) with what became of it: the final status of its transaction,
    ``not terminal``, or ``no transaction`` (the client never opened one: region down, retries exhausted)."""
    messages = result.messages
    tx = result.transactions[["transaction_id", "final_status", "reason_code", "time_to_terminal_s"]]
    merged = messages.merge(tx, on="transaction_id", how="left")
    status = merged["final_status"].astype(object)
    outcome = np.where(merged["transaction_id"].isna(), "no transaction",
                       np.where(status.isin(TERMINAL), status, "not terminal"))
    merged["outcome"] = pd.Categorical(outcome, categories=OUTCOMES)
    merged["client_wait_s"] = merged["reply_s"] - merged["arrived_s"]
    return merged


def summarize(result, *, wall_s: float | None = None) -> dict[str, Any]:
    """One run as a flat row: outcomes of valid messages (counts and shares), time-to-terminal percentiles and the
    share over the SLA, AWS requests per transaction by service, estimated cost per million by service, verdicts."""
    m = result.metrics
    outcomes = message_outcomes(result)
    valid = outcomes[outcomes["kind"] == "valid"]
    counts = valid["outcome"].value_counts()
    n_valid = len(valid)
    tx = result.transactions
    count = len(tx)
    times = tx["time_to_terminal_s"].dropna()
    sla = result.scenario.engine.sla_seconds
    row: dict[str, Any] = {
        "transactions": count,
        "messages": len(outcomes),
        "valid_messages": n_valid,
        "settled": int(counts.get("ACSC", 0)),
        "rejected": int(counts.get("RJCT", 0)),
        "cancelled": int(counts.get("CANC", 0)),
        "failed": int(counts.get("FAIL", 0)),
        "not_terminal": int(counts.get("not terminal", 0)),
        "unserved": int(counts.get("no transaction", 0)),
        "timeouts": m["timeouts"],
    }
    for key in ("settled", "rejected", "cancelled", "failed", "not_terminal", "unserved"):
        row[f"{key}_rate"] = row[key] / n_valid if n_valid else math.nan
    row["rejected_or_cancelled_rate"] = (row["rejected"] + row["cancelled"]) / n_valid if n_valid else math.nan
    for q in (50, 95, 99):
        row[f"p{q}_s"] = float(np.percentile(times, q)) if len(times) else math.nan
    row["max_s"] = float(times.max()) if len(times) else math.nan
    row["sla_s"] = sla
    row["over_sla"] = int((times > sla).sum())
    row["over_sla_rate"] = row["over_sla"] / len(times) if len(times) else math.nan
    by_service: dict[str, int] = {}
    for key, n in m["aws_requests"].items():
        service = key.split(".", 1)[0]
        by_service[service] = by_service.get(service, 0) + n
    row["aws_requests"] = sum(by_service.values())
    row["aws_requests_per_tx"] = row["aws_requests"] / count if count else math.nan
    for service, n in sorted(by_service.items()):
        row[f"requests_per_tx_{service}"] = n / count if count else math.nan
    row["lambda_invocations_per_tx"] = m["lambda_invocations"] / count if count else math.nan
    row["api_requests_per_tx"] = m["api_requests"] / count if count else math.nan
    row["cost_per_million_usd"] = m["cost_per_million_usd"] if m["cost_per_million_usd"] is not None else math.nan
    for service, dollars in sorted(m["cost_usd"].items()):
        row[f"cost_per_million_{service}"] = dollars / count * 1e6 if count else math.nan
    row["faults_fired"] = int(result.faults["fired"].sum()) if len(result.faults) else 0
    row["fault_touched_transactions"] = int(result.faults["transactions_touched"].sum()) if len(result.faults) else 0
    row["drained"] = bool(result.drained)
    row["end_s"] = float(result.end_s)
    row["ok"] = bool(result.ok)
    row["failures"] = "; ".join(v.name for v in result.failures)
    if wall_s is not None:
        row["wall_s"] = wall_s
    return row


# -- sweeps ----------------------------------------------------------------------------------------------------
@dataclass
class Sweep:
    axes: list[str]
    runs: pd.DataFrame  # one row per setting and seed (see summarize)
    transactions: pd.DataFrame  # every run's transactions (SLIM_COLUMNS), with the axis values and the seed
    messages: pd.DataFrame  # every run's valid messages: outcome and client wait, with the axis values and the seed

    def by_setting(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The median over seeds of each setting (numeric columns, or ``columns``)."""
        numeric = self.runs.drop(columns=[*self.axes, "seed"]).select_dtypes("number").columns
        chosen = list(columns) if columns is not None else list(numeric)
        if not self.axes:
            return self.runs[chosen].median().to_frame().T
        return self.runs.groupby(self.axes, sort=False)[chosen].median().reset_index()


def sweep(base: str | Path | Mapping[str, Any], axes: Sequence[Axis], seeds: Iterable[int], *, backend: str = "memory",
          changes: Mapping[str, Any] | None = None, progress: Callable[[str], None] | None = None) -> Sweep:
    """Run ``base`` (a scenario file or table) with ``changes``, for every combination of the axes and every seed
    (the scenario's expectations dropped, see ``changes_for``)."""
    import sim

    seeds = list(seeds)
    names = [a.name for a in axes]
    if len(set(names)) != len(names) or {"seed"} & set(names):
        raise ValueError(f"axis names must be distinct and not 'seed': {names}")
    rows, tx_frames, message_frames = [], [], []
    settings = grid(axes)
    total = len(settings) * len(seeds)
    started = time.perf_counter()
    for setting in settings:
        variant = scenario(base, changes_for(axes, setting, changes))
        for seed in seeds:
            t0 = time.perf_counter()
            result = sim.run(variant, seed=seed, backend=backend)
            wall = time.perf_counter() - t0
            labels = {**setting, "seed": seed}
            rows.append({**labels, **summarize(result, wall_s=wall)})
            tx_frames.append(result.transactions[SLIM_COLUMNS].assign(**labels))
            outcomes = message_outcomes(result)
            valid = outcomes.loc[outcomes["kind"] == "valid", ["arrived_s", "outcome", "client_wait_s"]]
            message_frames.append(valid.assign(**labels))
            if progress is not None:
                shown = ", ".join(f"{k}={v}" for k, v in labels.items())
                progress(f"[{len(rows)}/{total}] {shown}: {result.metrics['transactions']} transactions in {wall:.1f} s")
            del result
    if progress is not None:
        progress(f"{total} runs in {time.perf_counter() - started:.0f} s")
    runs = pd.DataFrame(rows)
    transactions = pd.concat(tx_frames, ignore_index=True) if tx_frames else pd.DataFrame(columns=SLIM_COLUMNS + names + ["seed"])
    messages = pd.concat(message_frames, ignore_index=True) if message_frames else pd.DataFrame()
    return Sweep(names, runs, transactions, messages)


# -- CDFs ------------------------------------------------------------------------------------------------------
def ecdf(values: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF: sorted values (NaN dropped) and the share of values at or below each."""
    x = np.sort(np.asarray(pd.Series(values, dtype=float).dropna(), dtype=float))
    y = np.arange(1, len(x) + 1, dtype=float) / len(x) if len(x) else np.array([], dtype=float)
    return x, y


def _groups(frame: pd.DataFrame, columns: Sequence[str]):
    if not columns:
        yield (), frame
        return
    for key, group in frame.groupby(list(columns), sort=True):
        yield (key if isinstance(key, tuple) else (key,)), group


def _as_list(columns: str | Sequence[str] | None) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _label(columns: Sequence[str], key: tuple) -> str:
    return ", ".join(f"{c}={v:g}" if isinstance(v, (int, float, np.number)) else f"{c}={v}" for c, v in zip(columns, key))


def plot_cdfs(frame: pd.DataFrame, *, hue: str | Sequence[str] | None = None, facet: str | Sequence[str] | None = None,
              column: str = "time_to_terminal_s", sla_s: float | None = None, logx: bool = True, title: str | None = None):
    """One panel per ``facet`` value, one CDF line per ``hue`` value (all seeds pooled)."""
    import matplotlib.pyplot as plt

    hue, facet = _as_list(hue), _as_list(facet)
    panels = list(_groups(frame, facet))
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), sharey=True, squeeze=False)
    for ax, (key, panel) in zip(axes[0], panels):
        for hue_key, group in _groups(panel, hue):
            x, y = ecdf(group[column])
            if len(x):
                ax.step(x, y, where="post", label=_label(hue, hue_key) or f"{len(x)} values")
        if sla_s is not None:
            ax.axvline(sla_s, color="black", linestyle=":", linewidth=1, label=f"SLA {sla_s:g} s")
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(column.replace("_", " "))
        ax.set_title(_label(facet, key) if facet else (title or ""), fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("share of transactions")
    if title and facet:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


# -- plots over a sweep ------------------------------------------------------------------------------------------
RATES = {"unserved_rate": "no transaction (could not open)", "rejected_rate": "rejected (RJCT)",
         "cancelled_rate": "cancelled (CANC)", "over_sla_rate": "terminal after the SLA"}


def plot_rates(runs: pd.DataFrame, *, x: str = "outage_s", hue: str | Sequence[str] | None = None,
               rates: Mapping[str, str] = RATES):
    """Each rate against ``x``: the median over seeds, and its min-max band, one line per ``hue`` value."""
    import matplotlib.pyplot as plt

    hue = _as_list(hue)
    figure, axes = plt.subplots(1, len(rates), figsize=(4.2 * len(rates), 3.6), squeeze=False)
    for ax, (rate, title) in zip(axes[0], rates.items()):
        for key, group in _groups(runs, hue):
            stats = group.groupby(x, sort=True)[rate].agg(["median", "min", "max"])
            xs = stats.index.to_numpy(dtype=float)
            line, = ax.plot(xs, stats["median"] * 100, marker="o", label=_label(hue, key) or None)
            ax.fill_between(xs, stats["min"] * 100, stats["max"] * 100, color=line.get_color(), alpha=0.15)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel("% of valid messages" if rate != "over_sla_rate" else "% of terminal transactions")
        ax.grid(True, alpha=0.3)
    if hue:
        axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def plot_cost(runs: pd.DataFrame, axes_names: Sequence[str]):
    """Per setting (median over seeds): AWS requests per transaction and estimated cost per million, by service."""
    import matplotlib.pyplot as plt

    names = list(axes_names)
    request_columns = sorted(c for c in runs.columns if c.startswith("requests_per_tx_"))
    cost_columns = sorted(c for c in runs.columns if c.startswith("cost_per_million_") and c != "cost_per_million_usd")
    table = runs.groupby(names, sort=True)[request_columns + cost_columns].median() if names else runs[request_columns + cost_columns].median().to_frame().T
    labels = ["\n".join(f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v) for v in (key if isinstance(key, tuple) else (key,)))
              for key in table.index] if names else ["run"]
    figure, (upper, lower) = plt.subplots(2, 1, figsize=(min(16.0, max(8.0, 0.8 * len(labels))), 7.5))
    for ax, columns, prefix, unit in ((upper, request_columns, "requests_per_tx_", "AWS requests per transaction"),
                                      (lower, cost_columns, "cost_per_million_", "estimated USD per million transactions")):
        bottom = np.zeros(len(table))
        for column in columns:
            values = table[column].to_numpy(dtype=float)
            ax.bar(range(len(table)), values, bottom=bottom, label=column.removeprefix(prefix))
            bottom += np.nan_to_num(values)
        ax.set_xticks(range(len(table)), labels, fontsize=7)
        ax.set_xlabel(" / ".join(names))
        ax.set_ylabel(unit)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


# -- one run over time -----------------------------------------------------------------------------------------
MARK_WORDS = ("detect", "declared", "take_over", "takeover", "took_over", "failover")


def failover_marks(result) -> pd.DataFrame:
    """Failover events of a run (detection, declaration, take-over), when its tables carry them: any column of
    the result's DataFrames whose name speaks of one of MARK_WORDS and ends in ``_s`` (a virtual time), and
    job runs whose outcome does. Empty for a single-region run."""
    rows = []
    for name, frame in vars(result).items():
        if not isinstance(frame, pd.DataFrame) or name in ("transactions", "messages", "timeline"):
            continue
        regions = frame["region"] if "region" in frame else pd.Series([""] * len(frame), index=frame.index)
        for column in frame.columns:
            lowered = column.lower()
            if lowered.endswith("_s") and any(word in lowered for word in MARK_WORDS):
                for at, region in zip(frame[column], regions):
                    if pd.notna(at):
                        rows.append({"t_s": float(at), "region": region, "label": column.removesuffix("_s").replace("_", " ")})
        if name == "job_runs" and "outcome" in frame:
            for run in frame.itertuples():
                if any(word in str(run.outcome).lower() for word in MARK_WORDS):
                    rows.append({"t_s": float(run.started_s), "region": run.region, "label": str(run.outcome)})
    marks = pd.DataFrame(rows, columns=["t_s", "region", "label"])
    return marks.drop_duplicates().sort_values("t_s", kind="stable").reset_index(drop=True)


def _shade_faults(ax, faults: pd.DataFrame, *, labels: bool) -> None:
    for fault in faults.itertuples():
        ax.axvspan(fault.start_s, fault.start_s + fault.duration_s, color="grey", alpha=0.15)
        if labels:
            ax.annotate(f"#{fault.index} {fault.action} {fault.region}", (fault.start_s, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", fontsize=7, va="top")


def plot_timeline(result, *, title: str | None = None):
    """Traffic per region (arrivals and terminal answers per second), in-flight transactions per region, fault
    windows shaded, failover marks as vertical lines."""
    import matplotlib.pyplot as plt

    timeline = result.timeline
    bucket = result.scenario.bucket_s
    marks = failover_marks(result)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True, height_ratios=(3, 2))
    for region, frame in timeline.groupby("region", sort=True):
        t = frame["bucket_start_s"].to_numpy(dtype=float)
        terminal = sum(frame[c] for c in frame.columns if c.startswith("terminal_"))
        line, = top.plot(t, frame["arrivals"] / bucket, linewidth=0.9, label=f"{region} arrivals/s")
        top.plot(t, frame["opened"] / bucket, linewidth=0.9, linestyle="--", color=line.get_color(), label=f"{region} opened/s")
        top.plot(t, terminal / bucket, linewidth=0.9, linestyle=":", color=line.get_color(), label=f"{region} terminal/s")
        bottom.plot(t, frame["in_flight"], color=line.get_color(), label=f"{region} in flight")
    for ax in (top, bottom):
        _shade_faults(ax, result.faults, labels=ax is top)
        for mark in marks.itertuples():
            ax.axvline(mark.t_s, color="black", linestyle="-.", linewidth=0.8)
            if ax is top:
                ax.annotate(f"{mark.label} {mark.region}".strip(), (mark.t_s, 0.85), xycoords=("data", "axes fraction"),
                            rotation=90, fontsize=7, va="top", ha="right")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    top.set_ylabel("per second")
    bottom.set_ylabel("transactions in flight")
    bottom.set_xlabel("virtual time (s)")
    top.set_title(title or f"{result.scenario.name}: seed {result.seed}, backend {result.backend}", fontsize=10)
    figure.tight_layout()
    return figure


def pick_transactions(result, count: int = 8) -> list[str]:
    """Transactions worth a look: one of each final status and reason first, then the slowest to terminal."""
    tx = result.transactions
    chosen: list[str] = []
    keys = tx["final_status"].astype(object).fillna("-") + " " + tx["reason_code"].astype(object).fillna("")
    for _, group in tx.groupby(keys, sort=True):
        chosen.append(group["transaction_id"].iloc[0])
    for transaction_id in tx.sort_values("time_to_terminal_s", ascending=False, na_position="first")["transaction_id"]:
        if len(chosen) >= count:
            break
        if transaction_id not in chosen:
            chosen.append(transaction_id)
    return chosen[:count]


def status_segments(result, transaction_ids: Sequence[str]) -> pd.DataFrame:
    """Per transaction, each status it held and from when to when (the next status, or the end of the run)."""
    from sim.metrics import STATUSES

    tx = result.transactions.set_index("transaction_id")
    rows = []
    for transaction_id in transaction_ids:
        record = tx.loc[transaction_id]
        held = sorted((float(record[f"t_{s}"]), s) for s in STATUSES if pd.notna(record[f"t_{s}"]))
        for n, (at, status) in enumerate(held):
            until = held[n + 1][0] if n + 1 < len(held) else (at if status in TERMINAL else float(result.end_s))
            rows.append({"transaction_id": transaction_id, "status": status, "from_s": at, "to_s": until})
    return pd.DataFrame(rows, columns=["transaction_id", "status", "from_s", "to_s"])


def plot_status_timeline(result, transaction_ids: Sequence[str]):
    """One row per transaction: the statuses it went through over virtual time (a dot where it became terminal),
    the client's arrival (|) and the moment it read its answer (x); fault windows shaded."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    segments = status_segments(result, transaction_ids)
    tx = result.transactions.set_index("transaction_id")
    messages = result.messages.set_index("message_index")
    figure, ax = plt.subplots(figsize=(11, 0.45 * len(transaction_ids) + 1.6))
    for row, transaction_id in enumerate(transaction_ids):
        for segment in segments[segments["transaction_id"] == transaction_id].itertuples():
            colour = STATUS_COLOURS.get(segment.status, "grey")
            if segment.to_s > segment.from_s:
                ax.plot([segment.from_s, segment.to_s], [row, row], color=colour, linewidth=6, solid_capstyle="butt")
            if segment.status in TERMINAL:
                ax.plot([segment.from_s], [row], marker="o", color=colour)
        record = tx.loc[transaction_id]
        if pd.notna(record["message_index"]):
            message = messages.loc[int(record["message_index"])]
            ax.plot([message["arrived_s"]], [row], marker="|", markersize=12, color="black")
            if pd.notna(message["reply_s"]):
                ax.plot([message["reply_s"]], [row], marker="x", color="black")
    _shade_faults(ax, result.faults, labels=False)
    def text(value: Any) -> str:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else str(value)

    tx_labels = [f"{tid[:8]} {text(tx.loc[tid, 'final_status']) or 'open'} {text(tx.loc[tid, 'reason_code'])}".strip()
                 for tid in transaction_ids]
    ax.set_yticks(range(len(transaction_ids)), tx_labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("virtual time (s)")
    shown = [s for s in STATUS_COLOURS if s in set(segments["status"])]
    ax.legend(handles=[Patch(color=STATUS_COLOURS[s], label=s) for s in shown], fontsize=7, loc="lower right", ncol=len(shown) or 1)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(f"{result.scenario.name}: status of {len(transaction_ids)} transactions (| arrival, x answer read)", fontsize=10)
    figure.tight_layout()
    return figure


# -- comparing runs --------------------------------------------------------------------------------------------
COMPARED = ("transactions", "valid_messages", "settled_rate", "rejected_rate", "cancelled_rate", "unserved_rate", "timeouts",
            "p50_s", "p95_s", "p99_s", "max_s", "over_sla", "aws_requests_per_tx", "cost_per_million_usd", "ok")


def compare(runs: Mapping[str, Any], metrics: Sequence[str] = COMPARED) -> pd.DataFrame:
    """Runs side by side (``{label: sim.Result}``), one row per figure, with the change from the first to each."""
    summaries = {label: summarize(result) for label, result in runs.items()}
    table = pd.DataFrame({label: [s.get(m) for m in metrics] for label, s in summaries.items()}, index=list(metrics))
    first = next(iter(summaries))
    for label in list(summaries)[1:]:
        change = []
        for metric in metrics:
            a, b = summaries[first].get(metric), summaries[label].get(metric)
            numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in (a, b))
            change.append(b - a if numeric else ("same" if a == b else "changed"))
        table[f"change ({label})"] = change
    return table


def status_counts(runs: Mapping[str, Any]) -> pd.DataFrame:
    """Final status and reason code of every transaction, counted, for each run (``{label: sim.Result}``)."""
    columns = {}
    for label, result in runs.items():
        tx = result.transactions
        key = tx["final_status"].astype(object).fillna("not terminal") + " " + tx["reason_code"].astype(object).fillna("")
        columns[label] = key.str.strip().value_counts()
    return pd.DataFrame(columns).fillna(0).astype(int).sort_index()


def change_summary(raw: Mapping[str, Any], change: Mapping[str, Any], before, after) -> str:
    """Markdown: what changing ``change`` (dotted keys of ``raw``) did between the ``before`` and ``after`` runs,
    every number taken from the runs."""
    a, b = summarize(before), summarize(after)
    what = ", ".join(f"`{key}` from {_short(setting_value(raw, key))} to {_short(value)}" for key, value in change.items())

    def pair(metric: str, fmt: Callable[[Any], str]) -> str:
        return f"{fmt(a[metric])} → {fmt(b[metric])}"

    lines = [
        f"Changing {what} (seed {after.seed}, backend {after.backend}):",
        "",
        f"- time to terminal: p50 {pair('p50_s', _s)}, p99 {pair('p99_s', _s)}, slowest {pair('max_s', _s)}; "
        f"after the {int(b['sla_s'])} s SLA: {a['over_sla']} → {b['over_sla']}",
        f"- valid messages settled {pair('settled_rate', _pct)}, rejected {pair('rejected_rate', _pct)}, "
        f"cancelled {pair('cancelled_rate', _pct)}, never opened {pair('unserved_rate', _pct)}; timeouts {a['timeouts']} → {b['timeouts']}",
        f"- redeliveries {before.metrics['redeliveries']} → {after.metrics['redeliveries']}, dead letters "
        f"{before.metrics['dlq_messages']} → {after.metrics['dlq_messages']}",
        f"- AWS requests per transaction {a['aws_requests_per_tx']:.2f} → {b['aws_requests_per_tx']:.2f}, estimated cost "
        f"${a['cost_per_million_usd']:.2f} → ${b['cost_per_million_usd']:.2f} per million transactions",
        f"- verdict {'PASS' if a['ok'] else 'FAIL'} → {'PASS' if b['ok'] else 'FAIL'}"
        + (f" (failed: {b['failures']})" if b["failures"] else ""),
    ]
    return "\n".join(lines)


# -- the written conclusion ------------------------------------------------------------------------------------
def _pct(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value * 100:.2f}%"


def _s(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f} s"


def conclusions(result: Sweep, *, outage: str = "outage_s", cadence: str = "timeout_cadence_s") -> str:
    """A few sentences of Markdown, every number taken from the sweep: the reference setting, what the longest
    fault costs, the trend per unit of fault length, what the timeout cadence changes, the cost, the verdicts."""
    runs = result.runs
    lines: list[str] = []
    if runs.empty:
        return "No run in this sweep."
    has_outage, has_cadence = outage in runs, cadence in runs
    shortest = runs[outage].min() if has_outage else None
    longest = runs[outage].max() if has_outage else None
    base = runs[runs[outage] == shortest] if has_outage else runs
    lines.append(
        f"- **Reference** ({outage} = {shortest:g} s; median over {len(base)} run(s)): p99 time to terminal {_s(base['p99_s'].median())}, "
        f"{_pct(base['settled_rate'].median())} of valid messages settled, {int(base['over_sla'].sum())} transaction(s) terminal after "
        f"the {int(base['sla_s'].iloc[0])} s SLA, estimated ${base['cost_per_million_usd'].median():.2f} per million transactions."
        if has_outage else
        f"- **All runs** (median over {len(base)}): p99 time to terminal {_s(base['p99_s'].median())}, "
        f"{_pct(base['settled_rate'].median())} of valid messages settled."
    )
    if has_outage and longest != shortest:
        worst = runs[runs[outage] == longest]
        lines.append(
            f"- **Longest fault** ({longest:g} s): {_pct(worst['unserved_rate'].median())} of valid messages never got a transaction, "
            f"{_pct(worst['rejected_rate'].median())} were rejected and {_pct(worst['cancelled_rate'].median())} cancelled "
            f"(reference: {_pct(base['unserved_rate'].median())}, {_pct(base['rejected_rate'].median())}, {_pct(base['cancelled_rate'].median())}); "
            f"the slowest transaction took {_s(worst['max_s'].max())} and {int(worst['over_sla'].sum())} finished after the SLA."
        )
        unsettled = (1 - runs["settled_rate"]).groupby(runs[outage]).median()
        if len(unsettled) >= 2:
            slope = float(np.polyfit(unsettled.index.to_numpy(dtype=float), unsettled.to_numpy(dtype=float), 1)[0])
            lines.append(
                f"- **Trend**: each further 10 s of fault leaves about {_pct(slope * 10)} more of the valid messages unsettled "
                f"(never opened, rejected, cancelled or still open; least-squares slope over {len(unsettled)} fault lengths)."
            )
    if has_cadence and runs[cadence].nunique() > 1:
        scope = runs[runs[outage] == longest] if has_outage else runs
        per = scope.groupby(cadence).agg(max_s=("max_s", "max"), over=("over_sla", "median"), timeouts=("timeouts", "median"))
        parts = [f"{c:g} s: slowest {_s(r.max_s)}, {r.timeouts:g} timeout(s) and {r.over:g} after the SLA (medians per run)"
                 for c, r in per.iterrows()]
        where = f" at the longest fault ({longest:g} s)" if has_outage else ""
        spread = per["max_s"].max() - per["max_s"].min()
        verdict = (f"The {per['max_s'].idxmin():g} s cadence bounds the slowest payment best, {_s(spread)} sooner than the worst."
                   if spread > 0 else "The cadence made no difference to the slowest payment here.")
        lines.append(f"- **Timeout cadence**{where}: " + "; ".join(parts) + f". {verdict}")
    if "consistency" in runs:
        per = runs.groupby("consistency")[["rejected_or_cancelled_rate", "unserved_rate", "p99_s", "cost_per_million_usd"]].median()
        parts = [f"{mode}: {_pct(r.rejected_or_cancelled_rate)} rejected or cancelled, {_pct(r.unserved_rate)} unserved, p99 {_s(r.p99_s)}, "
                 f"${r.cost_per_million_usd:.2f}/M" for mode, r in per.iterrows()]
        lines.append("- **Consistency mode**: " + "; ".join(parts) + ".")
    if has_outage and longest != shortest:
        worst = runs[runs[outage] == longest]
        before, after = base["cost_per_million_usd"].median(), worst["cost_per_million_usd"].median()
        services = [c for c in runs.columns if c.startswith("cost_per_million_") and c != "cost_per_million_usd"]
        rises = {c.removeprefix("cost_per_million_"): worst[c].median() - base[c].median() for c in services}
        top = max(rises, key=lambda k: abs(rises[k])) if rises else None
        moved = (f"; the largest change is {top} ({rises[top]:+.2f} USD per million)" if top is not None and rises[top] else "")
        lines.append(
            f"- **Cost**: ${before:.2f} per million transactions at {shortest:g} s of fault, ${after:.2f} at {longest:g} s{moved}. "
            f"Per transaction: {base['aws_requests_per_tx'].median():.1f} vs {worst['aws_requests_per_tx'].median():.1f} AWS requests, "
            f"{base['api_requests_per_tx'].median():.1f} vs {worst['api_requests_per_tx'].median():.1f} API Gateway requests (client retries "
            f"and polls included)."
        )
    failing = runs[~runs["ok"]]
    if failing.empty:
        lines.append(f"- **Verdicts**: all {len(runs)} runs kept the simulator's invariants.")
    else:
        shown = "; ".join(f"{_label(result.axes + ['seed'], tuple(r[a] for a in result.axes + ['seed']))}: {r['failures']}"
                          for _, r in failing.head(5).iterrows())
        lines.append(f"- **Verdicts**: {len(failing)} of {len(runs)} runs broke an invariant ({shown}).")
    return "\n".join(lines)
