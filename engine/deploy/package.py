"""``rp2 package``: the Lambda artifact, a zip of the ``engine`` package and its runtime dependencies.

Dependencies come from binary wheels for CPython 3.12 on manylinux (the python3.12 Lambda runtime, Amazon
Linux 2023) for the chosen architecture, installed by pip with ``--only-binary=:all:``, so no compiler is
needed and lxml's C extension matches the target, whatever machine builds the artifact.

boto3 (with botocore) is shipped although the Lambda runtime has one: the runtime's copy is not pinned and
changes under the function whenever AWS updates it, while the engine's writes into the archive bucket rely on
botocore >= 1.36 sending a checksum header with every PutObject (the bucket's Object Lock default retention
makes S3 refuse a PutObject without Content-MD5 or an x-amz-checksum header). It costs about 20 MB unpacked
and no import time: the handlers import boto3 either way.

Bytecode: /var/task is read-only, so Python cannot cache what it compiles and a cold start compiles every
module it imports (bench/coldstart.py measures it: about three times slower). The artifact therefore ships
precompiled ``unchecked-hash`` .pyc files (PEP 552: valid without comparing source timestamps) when an
interpreter of the target version is at hand: this one for --from-environment, a ``python3.12`` on PATH
(or --python) for the Lambda build; without one it ships source only and says so.

The artifact leaves out what only the operator's machine uses: the simulator, moto, click, the CLI, the
local runtime, the local HTTP server (engine/api) and this package (engine/deploy).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# what only the operator's machine uses: a shipped module importing one of these is a packaging error
OPERATOR_ONLY = frozenset({"click", "moto", "simpy", "aws-sam-translator", "pyjwt", "cfn-lint", "pandas", "matplotlib", "jupyter"})
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
# glibc of Amazon Linux 2023 is 2.34: any manylinux wheel up to that runs there
MANYLINUX_TAGS = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
LAMBDA_PYTHON = "3.12"
LEFT_OUT_OF_ENGINE = ("cli.py", "local_runtime.py", "api", "deploy")
NEVER_SHIPPED = ("sim", "moto", "simpy", "click", "tests", "cfnlint", "samtranslator", "jwt", "pytest", "hypothesis")
STRIPPED_SUFFIXES = (".pyc", ".pyx", ".pxd", ".pxi", ".h", ".c")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class PackagingError(RuntimeError):
    """The artifact could not be built, or would contain what it must not."""


@dataclass(frozen=True)
class Artifact:
    path: Path
    architecture: str
    source: str
    zipped_bytes: int
    unpacked_bytes: int
    files: int
    sha256: str
    bytecode: str | None = None

    def describe(self) -> str:
        compiled = f"bytecode for Python {self.bytecode}" if self.bytecode else "source only, no bytecode (cold starts compile every module)"
        return (
            f"{self.path} ({self.architecture}, dependencies from {self.source}, {compiled}): "
            f"{self.zipped_bytes / 1e6:.1f} MB zipped, {self.unpacked_bytes / 1e6:.1f} MB unpacked, "
            f"{self.files} files, sha256 {self.sha256[:16]}"
        )


HANDLER_MODULES = ("engine.lambdas.api", "engine.lambdas.workers", "engine.lambdas.schedules")


def engine_imports(engine_root: Path | None = None, roots: tuple[str, ...] = HANDLER_MODULES) -> set[str]:
    """Top-level modules outside ``engine`` that the handlers can reach: the import closure of the handler
    modules through the engine's own modules (module-level and lazy imports alike), read from their source."""
    import ast

    if engine_root is None:
        import engine

        engine_root = Path(engine.__file__).resolve().parent

    def source_of(module: str) -> Path | None:
        parts = module.split(".")[1:]
        candidates = [engine_root.joinpath(*parts).with_suffix(".py")] if parts else []
        candidates.append(engine_root.joinpath(*parts, "__init__.py"))
        return next((candidate for candidate in candidates if candidate.is_file()), None)

    outside: set[str] = set()
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending.extend(".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1))  # parent packages run first
        source = source_of(module)
        if source is None:
            continue
        package = module if source.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(source.read_bytes(), filename=str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "engine":
                    pending.append(name)
                elif name:
                    outside.add(name.split(".")[0])
    return outside


def runtime_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The distributions the deployed engine imports, with the lower bounds pyproject.toml gives them.

    Found from the shipped modules' imports rather than from pyproject's list, which also holds what only the
    operator's machine needs (simulator, notebooks, CLI): the artifact gets exactly what the handlers can reach.
    """
    imported = engine_imports()
    third_party = {name for name in imported if name not in sys.stdlib_module_names}
    providers = metadata.packages_distributions()
    wanted: dict[str, None] = {}
    for module in sorted(third_party):
        distributions = providers.get(module)
        if not distributions:
            raise PackagingError(f"the engine imports {module}, which no installed distribution provides")
        for distribution in distributions:
            wanted[_canonical(distribution)] = None
    if "zoneinfo" in imported:
        wanted["tzdata"] = None  # zoneinfo's time zone data where the OS has none (Lambda's image has no tzdata)
    shipped_by_mistake = sorted(set(wanted) & OPERATOR_ONLY)
    if shipped_by_mistake:
        raise PackagingError(f"modules the artifact ships import {', '.join(shipped_by_mistake)}, which the deployed engine must not need")
    bounds = {}
    if pyproject.is_file():
        import tomllib

        for line in tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]:
            requirement = line.split(";", 1)[0].strip()
            bounds[_canonical(_requirement_name(requirement))] = requirement
    return [bounds.get(name, name) for name in wanted]


def build(
    out_dir: Path, architecture: str = "arm64", *, from_environment: bool = False, python: str | None = None, compresslevel: int = 6
) -> Artifact:
    """Build the zip into ``out_dir``. ``from_environment`` copies the dependencies installed in this
    interpreter instead of downloading wheels: quick and offline, but only right for this machine's
    platform and Python (for tests, never for a deployment)."""
    if architecture not in ARCHITECTURES:
        raise PackagingError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rp2-package-") as staging_name:
        staging = Path(staging_name)
        if from_environment:
            copy_installed(tuple(_requirement_name(r) for r in runtime_requirements()), staging)
            source = f"this environment (Python {sys.version_info.major}.{sys.version_info.minor})"
            name = "rp2-lambda-local.zip"
        else:
            install_wheels(runtime_requirements(), architecture, staging)
            source = f"manylinux wheels for CPython {LAMBDA_PYTHON}"
            name = f"rp2-lambda-{architecture}.zip"
        copy_engine(staging)
        strip(staging)
        check_contents(staging)
        target = f"{sys.version_info.major}.{sys.version_info.minor}" if from_environment else LAMBDA_PYTHON
        interpreter = sys.executable if from_environment else (python or _working_python(LAMBDA_PYTHON))
        bytecode = compile_bytecode(staging, interpreter, target) if interpreter else None
        path = out_dir / name
        unpacked, files = write_zip(staging, path, compresslevel)
    if unpacked > LAMBDA_UNZIPPED_LIMIT:
        raise PackagingError(f"{path} unpacks to {unpacked} bytes, over Lambda's {LAMBDA_UNZIPPED_LIMIT}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Artifact(path, architecture, source, path.stat().st_size, unpacked, files, digest, bytecode)


def _working_python(version: str) -> str | None:
    """``python<version>`` from PATH when it runs and is that version (a pyenv shim may be neither)."""
    found = shutil.which(f"python{version}")
    if found is None:
        return None
    probe = subprocess.run([found, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
                           capture_output=True, text=True)
    return found if probe.returncode == 0 and probe.stdout.strip() == version else None


def compile_bytecode(staging: Path, interpreter: str, target: str) -> str:
    """Compile every module with ``interpreter``, which must be Python ``target``; returns that version."""
    probe = subprocess.run([interpreter, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
                           capture_output=True, text=True)
    version = probe.stdout.strip()
    if probe.returncode != 0 or version != target:
        raise PackagingError(f"{interpreter} is Python {version or '?'}, the artifact's bytecode must be for {target}")
    result = subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(staging)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise PackagingError(f"compiling the artifact's modules failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return version


def pip_install_command(requirements: list[str], architecture: str, target: Path) -> list[str]:
    machine = ARCHITECTURES[architecture]
    platforms = [arg for tag in MANYLINUX_TAGS for arg in ("--platform", f"{tag}_{machine}")]
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target), "--implementation", "cp", "--python-version", LAMBDA_PYTHON,
        "--only-binary=:all:", *platforms, *requirements,
    ]


def install_wheels(requirements: list[str], architecture: str, target: Path) -> None:
    command = pip_install_command(requirements, architecture, target)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"pip could not install {' '.join(requirements)} for {architecture}:\n{result.stderr.strip()}")


def copy_installed(distributions: tuple[str, ...], target: Path) -> None:
    """Copy the installed files of the distributions and of everything they require (markers evaluated here)."""
    from packaging.requirements import Requirement

    pending, seen = list(distributions), set()
    while pending:
        name = _canonical(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise PackagingError(f"{name} is not installed in this environment") from None
        for file in distribution.files or []:
            source = Path(distribution.locate_file(file))
            relative = Path(os.path.normpath(file))
            if relative.parts[0] == ".." or "__pycache__" in relative.parts or not source.is_file():
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)


def copy_engine(target: Path) -> None:
    import engine

    source = Path(engine.__file__).resolve().parent

    def ignore(folder: str, names: list[str]) -> set[str]:
        left_out = {name for name in names if name == "__pycache__"}
        if Path(folder).resolve() == source:
            left_out |= {name for name in names if name in LEFT_OUT_OF_ENGINE}
        return left_out

    shutil.copytree(source, target / "engine", ignore=ignore)


def strip(staging: Path) -> None:
    shutil.rmtree(staging / "bin", ignore_errors=True)
    for path in sorted(staging.rglob("*"), reverse=True):
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in STRIPPED_SUFFIXES:
            path.unlink()


def check_contents(staging: Path) -> None:
    shipped = {path.name.split(".")[0] for path in staging.iterdir()}
    forbidden = sorted(shipped & set(NEVER_SHIPPED))
    if forbidden:
        raise PackagingError(f"the artifact would contain {', '.join(forbidden)}, which the deployed engine must not ship")
    for handler_module in ("engine/lambdas/api.py", "engine/lambdas/workers.py", "engine/lambdas/schedules.py"):
        if not (staging / handler_module).is_file():
            raise PackagingError(f"the artifact lacks {handler_module}")


def write_zip(staging: Path, path: Path, compresslevel: int = 6) -> tuple[int, int]:
    """A reproducible zip: sorted entries, fixed timestamps, fixed permissions. Returns (unpacked bytes, files)."""
    unpacked = files = 0
    temporary = path.with_suffix(".zip.partial")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            relative = file.relative_to(staging).as_posix()
            info = zipfile.ZipInfo(relative, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(file, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            data = file.read_bytes()
            archive.writestr(info, data, compresslevel=compresslevel)
            unpacked += len(data)
            files += 1
    temporary.replace(path)
    return unpacked, files


def _requirement_name(requirement: str) -> str:
    for index, character in enumerate(requirement):
        if not (character.isalnum() or character in "-_."):
            return requirement[:index]
    return requirement


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
