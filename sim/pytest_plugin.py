"""pytest plugin: every ``*.toml`` under a ``scenarios`` folder is a test file; each of its seeds is a test item.

Registered as a ``pytest11`` entry point. It imports nothing heavy until a scenario is collected. A failing item
prints the invariants and expectations that failed, then the whole report. Options: ``--sim-backend`` (memory or
moto) and ``--sim-out DIR`` (write every run's output folder there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rp2 scenarios")
    group.addoption("--sim-backend", default="memory", choices=("memory", "moto"), help="backend scenario items run on")
    group.addoption("--sim-out", default=None, help="write each scenario run's output folder under this directory")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".toml" and "scenarios" in file_path.parent.parts:
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(f"{result.scenario.name} seed {result.seed} failed")
        self.result = result


class ScenarioFile(pytest.File):
    def collect(self):
        from sim.scenario import load_scenario

        scenario = load_scenario(self.path)
        for seed in scenario.seeds:
            item = ScenarioItem.from_parent(self, name=f"seed={seed}", scenario=scenario, seed=seed)
            if scenario.slow:
                item.add_marker(pytest.mark.slow)
            yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        from sim.schema import ScenarioError

        if isinstance(excinfo.value, ScenarioError):
            return f"invalid scenario file: {excinfo.value}"
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.seed = seed

    def runtest(self) -> None:
        from sim.simulate import run

        backend = self.config.getoption("--sim-backend")
        result = run(self.scenario, seed=self.seed, backend=backend)
        out = self.config.getoption("--sim-out")
        if out:
            result.write(Path(out) / self.scenario.name / f"seed-{self.seed}-{backend}")
        self.add_report_section("call", "report", result.report_text)
        if not result.ok:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            result = excinfo.value.result
            failed = "\n".join(f"  {v.line()}" for v in result.failures)
            return f"scenario {result.scenario.name} (seed {result.seed}) failed:\n{failed}\n\n{result.report_text}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.scenario.name} [seed={self.seed}]"
