"""The SAM template in iac/: load it, choose its parameters, and translate it to plain CloudFormation offline."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "iac" / "template.yaml"
CONSISTENCY_MODES = ("eventual", "strong")
FUNCTION_TYPE = "AWS::Serverless::Function"


class TemplateError(ValueError):
    """The template cannot be read or translated."""


def load_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a dict, with the YAML short forms (!Ref, !Sub, ...) turned into their Fn:: forms."""
    from samtranslator.yaml_helper import yaml_parse

    if not path.is_file():
        raise TemplateError(f"no SAM template at {path}; pass --template")
    return yaml_parse(path.read_text(encoding="utf-8"))


def function_names(sam_template: Mapping[str, Any], deployment_id: str) -> dict[str, str]:
    """The deployed name of every function in the template, by its short name (ProcessFunction: process)."""
    names = {}
    for logical_id, resource in sam_template["Resources"].items():
        if resource.get("Type") == FUNCTION_TYPE:
            pattern = resource["Properties"]["FunctionName"]["Fn::Sub"]
            names[logical_id.removesuffix("Function").lower()] = pattern.replace("${DeploymentId}", deployment_id)
    return names


def translate(sam_template: Mapping[str, Any], parameters: Mapping[str, str], region: str) -> dict[str, Any]:
    """Plain CloudFormation from the SAM template, with aws-sam-translator and no AWS call.

    The template names no managed policy (every role is written out inline), so the translator's
    managed-policy lookup, which would list IAM policies, is given an empty map.
    """
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    try:
        return translator.translate(copy.deepcopy(dict(sam_template)), dict(parameters), get_managed_policy_map=dict)
    except InvalidDocumentException as error:
        problems = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"SAM translation failed: {problems}") from None


@dataclass(frozen=True)
class StackParameters:
    deployment_id: str
    primary_region: str
    secondary_region: str
    artifact_bucket: str
    artifact_key: str
    architecture: str = "arm64"
    consistency: str = "eventual"
    witness_region: str = "us-east-2"
    sla_seconds: int = 30
    retention_days: int = 30
    max_message_bytes: int = 184_320
    log_level: str = "INFO"
    peer_health_url: str = ""
    probe_timeout_seconds: int = 2
    down_after_probes: int = 3
    up_after_probes: int = 2

    def __post_init__(self) -> None:
        if self.consistency not in CONSISTENCY_MODES:
            raise TemplateError(f"consistency must be one of {', '.join(CONSISTENCY_MODES)}, got {self.consistency!r}")
        if self.primary_region == self.secondary_region:
            raise TemplateError(f"the region pair needs two regions, got {self.primary_region} twice")

    def as_cloudformation(self) -> dict[str, str]:
        return {
            "DeploymentId": self.deployment_id,
            "PrimaryRegion": self.primary_region,
            "SecondaryRegion": self.secondary_region,
            "WitnessRegion": self.witness_region,
            "ConsistencyMode": self.consistency,
            "SlaSeconds": str(self.sla_seconds),
            "RetentionDays": str(self.retention_days),
            "MaxMessageBytes": str(self.max_message_bytes),
            "LogLevel": self.log_level,
            "PeerHealthUrl": self.peer_health_url,
            "ProbeTimeoutSeconds": str(self.probe_timeout_seconds),
            "DownAfterProbes": str(self.down_after_probes),
            "UpAfterProbes": str(self.up_after_probes),
            "Architecture": self.architecture,
            "ArtifactBucket": self.artifact_bucket,
            "ArtifactKey": self.artifact_key,
        }

