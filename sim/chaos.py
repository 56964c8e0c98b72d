"""Chaos search: random fault schedules over a short two-region world, checked against the invariants.

A schedule is a tuple of ``Fault`` values; ``scenario_toml`` turns one into a scenario file that ``rp2 simulate`` replays
exactly (the seed goes on the command line). The hypothesis strategies live in tests/sim/test_chaos_search.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGIONS = ("us-east-1", "us-west-2")
WITNESS = "us-east-2"
DURATION_S = 40
RATE_TPS = 8
CADENCE_S = 5  # recover and timeout loops: detection bound 3 x 5 + 2 = 17 s

# the invariants a chaos run must keep; faults_fired is left out (a random fault may well touch nothing)
CHECKED = frozenset({
    "one_terminal_status", "terminal_never_changes", "payload_archived", "reply_available", "decisions_match_messages",
    "no_double_settlement", "dlq_explained", "drained", "no_split_brain", "terminal_within_bound", "failures_detected",
    "in_flight_taken_over", "no_overdue_in_flight",
})


@dataclass(frozen=True)
class Fault:
    action: str
    region: str
    start_s: float
    duration_s: float
    params: tuple[tuple[str, Any], ...] = ()

    def toml(self) -> str:
        lines = ["[[faults]]", f'action = "{self.action}"', f'region = "{self.region}"', f"start_s = {self.start_s:g}",
                 f"duration_s = {self.duration_s:g}"]
        for key, value in self.params:
            lines.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value:g}")
        return "\n".join(lines) + "\n"


def scenario_toml(faults: tuple[Fault, ...], consistency: str = "strong", name: str = "chaos") -> str:
    world = f'regions = ["{REGIONS[0]}", "{REGIONS[1]}"]\n' + (f'witness = "{WITNESS}"\n' if consistency == "strong" else "")
    head = (
        f'# found by the chaos search (tests/sim/test_chaos_search.py)\nname = "{name}"\nduration_s = {DURATION_S}\n\n'
        f"[world]\n{world}\n[replication]\nconsistency = \"{consistency}\"\n\n"
        f'[engine]\ntimeout_schedule = "loop"\ntimeout_cadence_s = {CADENCE_S}\n\n'
        f'[failover]\nrecover_schedule = "loop"\nrecover_cadence_s = {CADENCE_S}\n\n'
        f"[load]\nrate_tps = {RATE_TPS}\n"
    )
    return head + "".join("\n" + fault.toml() for fault in faults)


def violations(result) -> list[str]:
    return [verdict.line() for verdict in result.invariants if verdict.name in CHECKED and not verdict.ok]


def run_schedule(faults: tuple[Fault, ...], seed: int, consistency: str = "strong"):
    import tomllib

    from sim.scenario import parse_scenario
    from sim.simulate import run

    scenario = parse_scenario(tomllib.loads(scenario_toml(faults, consistency)), source="<chaos>", default_name="chaos")
    return run(scenario, seed=seed)


def write_replay(folder: Path, faults: tuple[Fault, ...], seed: int, problems: list[str], consistency: str = "strong") -> tuple[Path, str]:
    """The failing schedule as a scenario file, and the one command that replays it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"chaos_{consistency}_seed{seed}.toml"
    notes = "".join(f"# {line[:300]}\n" for line in problems)
    path.write_text(notes + scenario_toml(faults, consistency, name=f"chaos_{consistency}_seed{seed}"), encoding="utf-8")
    return path, f"rp2 simulate {path} --seed {seed}"
