"""The Lambda artifact: what it ships, what it leaves out, and that its handlers import from it alone."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine.deploy.package import Artifact, build, engine_imports, pip_install_command, runtime_requirements

HANDLER_MODULES = ("engine.lambdas.api", "engine.lambdas.workers", "engine.lambdas.schedules")


@pytest.fixture(scope="module")
def local_artifact(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """Built from this environment's installed dependencies: offline, same layout as the wheel build."""
    return build(tmp_path_factory.mktemp("dist"), "x86_64", from_environment=True, compresslevel=1)


def top_level(artifact: Path) -> set[str]:
    with zipfile.ZipFile(artifact) as archive:
        return {name.split("/", 1)[0] for name in archive.namelist()}


def test_artifact_ships_the_engine_and_its_runtime_dependencies_only(local_artifact: Artifact) -> None:
    shipped = top_level(local_artifact.path)
    assert {"engine", "lxml", "boto3", "botocore", "aws_lambda_powertools"} <= shipped
    assert not shipped & {"sim", "moto", "simpy", "click", "tests", "cfnlint", "samtranslator", "jwt", "pytest", "hypothesis"}
    with zipfile.ZipFile(local_artifact.path) as archive:
        names = set(archive.namelist())
    assert {"engine/lambdas/api.py", "engine/lambdas/workers.py", "engine/lambdas/schedules.py"} <= names
    assert any(name.startswith("engine/iso20022/schemas/") and name.endswith(".xsd") for name in names)
    assert not {n for n in names if n.startswith(("engine/api/", "engine/deploy/")) or n in ("engine/cli.py", "engine/local_runtime.py")}
    tag = sys.implementation.cache_tag  # bytecode precompiled by the interpreter of the target version
    assert local_artifact.bytecode == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"engine/lambdas/__pycache__/api.{tag}.pyc" in names
    assert all(f".{tag}." in name for name in names if name.endswith(".pyc"))
    assert local_artifact.zipped_bytes == local_artifact.path.stat().st_size
    assert local_artifact.unpacked_bytes > local_artifact.zipped_bytes


def test_handlers_import_from_the_artifact_alone(local_artifact: Artifact, tmp_path: Path) -> None:
    """A fresh interpreter without site-packages (-S -I): every import must come from the unpacked zip."""
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(local_artifact.path) as archive:
        archive.extractall(unpacked)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        + "".join(f"import {module};" for module in HANDLER_MODULES)
        + "from engine.lambdas.api import handler; from engine.lambdas.workers import inbox_handler, process_handler, release_handler;"
        + "from engine.lambdas.schedules import timeout_handler, recover_handler;"
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'moto', 'simpy', 'click', 'sim', 'jwt', 'samtranslator'});"
        + "outside = sorted(m for m, mod in sys.modules.items() if m.split('.')[0] in {'boto3', 'botocore', 'lxml', 'aws_lambda_powertools', 'engine'}"
        + " and getattr(mod, '__file__', None) and not mod.__file__.startswith(sys.argv[1]));"
        + "print(bad, outside)"
    )
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(unpacked)], capture_output=True, text=True, timeout=60,
                            env={"RP2_LOG_LEVEL": "WARNING", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


def test_wheels_are_python_312_manylinux_binaries_for_the_architecture(tmp_path: Path) -> None:
    command = pip_install_command(runtime_requirements(), "arm64", tmp_path)
    joined = " ".join(command)
    assert "--only-binary=:all:" in command
    assert "--python-version 3.12" in joined and "--implementation cp" in joined
    assert "--platform manylinux2014_aarch64" in joined and "--platform manylinux_2_28_aarch64" in joined
    assert "x86_64" not in joined
    requirements = runtime_requirements()
    assert command[-len(requirements):] == requirements
    names = {r.split(">=")[0].split("[")[0].lower() for r in requirements}
    assert {"boto3", "lxml", "aws-lambda-powertools"} <= names
    assert not names & {"click", "moto", "simpy", "aws-sam-translator", "pyjwt", "cfn-lint"}


def test_requirements_are_what_the_handlers_can_reach(tmp_path: Path) -> None:
    """The import closure of the handler modules decides what ships, not pyproject's full dependency list."""
    root = tmp_path / "engine"
    (root / "lambdas").mkdir(parents=True)
    (root / "iso").mkdir()
    (root / "__init__.py").write_text("")
    (root / "lambdas" / "__init__.py").write_text("")
    (root / "lambdas" / "api.py").write_text("import json\nfrom engine.iso import rules\nfrom ..iso.data import TABLE\n")
    (root / "iso" / "__init__.py").write_text("from .rules import check\n")
    (root / "iso" / "rules.py").write_text("import lxml.etree\ndef check():\n    import schwifty\n")
    (root / "iso" / "data.py").write_text("from zoneinfo import ZoneInfo\nTABLE = 1\n")
    (root / "cli.py").write_text("import click\nimport pandas\n")  # not reachable from a handler
    assert engine_imports(root, ("engine.lambdas.api",)) == {"json", "lxml", "schwifty", "zoneinfo"}


@pytest.mark.slow
@pytest.mark.parametrize("architecture, machine", [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_wheel_build_for_lambda(tmp_path: Path, architecture: str, machine: str) -> None:
    """Downloads wheels from PyPI: the real artifact for python3.12 on that architecture."""
    artifact = build(tmp_path, architecture)
    with zipfile.ZipFile(artifact.path) as archive:
        names = archive.namelist()
    extensions = [n for n in names if n.startswith("lxml/") and n.endswith(".so")]
    assert extensions and all(f"cpython-312-{machine}-linux-gnu" in n for n in extensions)
    assert not top_level(artifact.path) & {"sim", "moto", "simpy", "click", "tests"}
