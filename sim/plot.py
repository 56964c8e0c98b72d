"""status_counts.png: transactions by status over virtual time, with arrivals and queue depths."""

from __future__ import annotations

from pathlib import Path


def status_counts(result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timeline = result.timeline.groupby("bucket_start_s", sort=True).sum(numeric_only=True)
    t = timeline.index.to_numpy()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, height_ratios=(2, 1))
    for status, colour in (("ACSC", "tab:green"), ("RJCT", "tab:red"), ("CANC", "tab:orange"), ("FAIL", "tab:purple")):
        column = f"terminal_{status}"
        if column in timeline and timeline[column].sum():
            top.plot(t, timeline[column].cumsum(), label=f"{status} (cumulative)", color=colour)
    top.plot(t, timeline["in_flight"], label="in flight", color="tab:blue")
    top.set_ylabel("transactions")
    for fault in result.faults.itertuples():
        top.axvspan(fault.start_s, fault.start_s + fault.duration_s, color="grey", alpha=0.15)
        top.text(fault.start_s, top.get_ylim()[1] * 0.97, f"#{fault.index}", fontsize=7, va="top")
    top.legend(loc="upper left", fontsize=8)
    top.set_title(f"{result.scenario.name}: seed {result.seed}, backend {result.backend}")
    bucket = result.scenario.bucket_s
    bottom.plot(t, timeline["arrivals"] / bucket, label="arrivals/s", color="black", linewidth=0.8)
    for step in ("inbox", "process", "release"):
        bottom.plot(t, timeline[f"queue_visible_{step}"], label=f"{step} queue", linewidth=0.8)
    dlq = sum(timeline[f"dlq_{step}"] for step in ("inbox", "process", "release"))
    if dlq.sum():
        bottom.plot(t, dlq, label="dead letters", color="tab:red", linewidth=0.8)
    bottom.set_xlabel("virtual time (s)")
    bottom.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
