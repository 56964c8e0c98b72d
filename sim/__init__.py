"""rp2's simulator: the real engine steps in a deterministic SimPy world of AWS regions, with faults and latency.

    import sim
    result = sim.run("scenarios/baseline.toml", seed=1)          # or a parsed sim.Scenario
    result.transactions, result.timeline                          # pandas DataFrames
    print(result.report_text); result.ok; result.invariants
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Result", "Scenario", "ScenarioError", "load_scenario", "parse_scenario", "run"]

if TYPE_CHECKING:
    from sim.simulate import Result, run
    from sim.scenario import Scenario, load_scenario, parse_scenario
    from sim.schema import ScenarioError


def __getattr__(name: str) -> Any:
    # lazy, so that the pytest plugin and the CLI import quickly
    if name in ("run", "Result"):
        import importlib

        return getattr(importlib.import_module("sim.simulate"), name)
    if name in ("Scenario", "load_scenario", "parse_scenario"):
        from sim import scenario

        return getattr(scenario, name)
    if name == "ScenarioError":
        from sim.schema import ScenarioError

        return ScenarioError
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
