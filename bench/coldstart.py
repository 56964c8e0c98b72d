"""Cold-start import time of each Lambda handler module, and the size of the artifact they ship in.

Each run is a fresh interpreter without site-packages (-I -S) whose only extra path is the unpacked
artifact, as in Lambda's /var/task; it times ``import <module>`` with the handler object built at import.
Every run uses -B, as Lambda's read-only /var/task allows no bytecode cache. Two cases: "source only" (the
artifact's __pycache__ removed: every module compiled on import, as a zip without bytecode behaves) and
"as shipped" (with the bytecode `rp2 package` precompiled, when it found an interpreter of the target version).
The artifact is built from this environment's installed dependencies unless --artifact names a zip (a zip
from `rp2 package` for another architecture or Python cannot be imported here).

    .venv/bin/python bench/coldstart.py [--runs 7] [--artifact ZIP --python INTERPRETER] [--json]

With --artifact dist/rp2-lambda-x86_64.zip --python python3.12 on an x86_64 machine, the Lambda artifact itself
is measured with the Lambda runtime's Python version.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.deploy.package import build  # noqa: E402

HANDLERS = {
    "engine.lambdas.api": "handler",
    "engine.lambdas.workers": "inbox_handler",
    "engine.lambdas.schedules": "timeout_handler",
}
AIM_MS = 300
_PROBE = """
import sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
module = __import__(sys.argv[2], fromlist=[sys.argv[3]])
getattr(module, sys.argv[3])
print((time.perf_counter() - start) * 1000)
"""


def import_ms(task_root: Path, module: str, attribute: str, python: str = sys.executable) -> float:
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", _PROBE, str(task_root), module, attribute],
        capture_output=True, text=True, env={"RP2_LOG_LEVEL": "WARNING", "AWS_REGION": "us-east-1"}, timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(f"importing {module} from the artifact failed:\n{result.stderr}")
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--python", default=sys.executable, help="interpreter that imports the handlers (the artifact's Python)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (every run's figure) instead of the text")
    args = parser.parse_args()
    say = (lambda *_: None) if args.json else print

    with tempfile.TemporaryDirectory(prefix="rp2-coldstart-") as folder:
        if args.artifact is None:
            artifact = build(Path(folder) / "dist", "x86_64", from_environment=True)
            path, zipped, unpacked = artifact.path, artifact.zipped_bytes, artifact.unpacked_bytes
            say(f"artifact  {artifact.describe()}")
        else:
            path = args.artifact
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
            zipped = path.stat().st_size
            say(f"artifact  {path}: {zipped / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB unpacked")
        source_root, shipped_root = Path(folder) / "task-source", Path(folder) / "task-shipped"
        with zipfile.ZipFile(path) as archive:
            archive.extractall(source_root)
            archive.extractall(shipped_root)
        for cache in list(source_root.rglob("__pycache__")):
            shutil.rmtree(cache)

        version = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True).stdout.strip()
        say(f"Python {version}, {args.runs} fresh interpreters per module and case (-I -S, only the artifact on sys.path)")
        say(f"{'handler module':<28}{'source only: median':>20}{'min-max':>16}{'as shipped: median':>20}{'min-max':>16}")
        worst = {"source only": 0.0, "as shipped": 0.0}
        handlers = {}
        for module, attribute in HANDLERS.items():
            source = [import_ms(source_root, module, attribute, args.python) for _ in range(args.runs)]
            shipped = [import_ms(shipped_root, module, attribute, args.python) for _ in range(args.runs)]
            handlers[module] = {"source_only_ms": source, "as_shipped_ms": shipped}
            worst["source only"] = max(worst["source only"], statistics.median(source))
            worst["as shipped"] = max(worst["as shipped"], statistics.median(shipped))
            say(f"{module:<28}{statistics.median(source):>17.0f} ms{min(source):>8.0f}-{max(source):<4.0f} ms"
                f"{statistics.median(shipped):>17.0f} ms{min(shipped):>8.0f}-{max(shipped):<4.0f} ms")
        for case, median in worst.items():
            verdict = "under" if median < AIM_MS else "OVER"
            say(f"slowest median, {case}: {median:.0f} ms, {verdict} the {AIM_MS} ms aim")
        say(f"artifact {zipped / 1e6:.1f} MB zipped, {unpacked / 1e6:.1f} MB unpacked")
        if args.json:
            print(json.dumps({"python": version, "runs": args.runs, "artifact": str(args.artifact) if args.artifact else "built from this environment",
                              "zipped_bytes": zipped, "unpacked_bytes": unpacked, "aim_ms": AIM_MS, "handlers": handlers}, sort_keys=True))

if __name__ == "__main__":
    main()
