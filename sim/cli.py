"""``rp2 simulate SCENARIO``: run a scenario, write its tables, report and plot, print the report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sim.backends import BACKENDS


@click.command("simulate")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="The run's seed (0 or more); default: the scenario's first seed.")
@click.option("--backend", type=click.Choice(BACKENDS), default="memory", show_default=True,
              help="memory: the in-process adapters (fast); moto: the AWS adapters over moto in-process (fidelity, small runs).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder; default: out/<scenario>/seed-<N>-<backend>.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="A progress bar in virtual time on stderr.")
def simulate(scenario_file: Path, seed: int | None, backend: str, out: Path | None, progress: bool) -> None:
    """Run SCENARIO (a scenarios/*.toml file) in the simulator and report what happened to every payment.

    Writes transactions.csv, messages.csv, timeline.csv, faults.csv, fault_touches.csv, requests.csv,
    functions.csv, job_runs.csv, dead_letters.csv, manifest.json, report.txt, report.json and
    status_counts.png; exits 1 when an invariant or an expectation of the scenario fails.
    """
    from sim.scenario import load_scenario
    from sim.schema import ScenarioError
    from sim.simulate import run

    try:
        scenario = load_scenario(scenario_file)
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None
    seed = scenario.seeds[0] if seed is None else seed
    folder = out or Path("out") / scenario.name / f"seed-{seed}-{backend}"
    length = max(1, int(round(scenario.duration_s)))
    with click.progressbar(length=length, label=f"{scenario.name} seed {seed}, virtual s", file=sys.stderr,
                           show_pos=True, hidden=not progress) as bar:
        shown = [0]

        def advance(now: float, duration: float) -> None:
            target = min(length, int(now))
            if target > shown[0]:
                bar.update(target - shown[0])
                shown[0] = target

        result = run(scenario, seed=seed, backend=backend, progress=advance)
        bar.update(length - shown[0])
    result.write(folder)
    click.echo(result.report_text, nl=False)
    click.echo(f"output: {folder}")
    sys.exit(0 if result.ok else 1)
