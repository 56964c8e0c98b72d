"""The ports a deployed function runs with, built once per container from the RP2_* environment, and the
structured (JSON) logger every engine module's log lines go through."""

from __future__ import annotations

import logging
import sys
from functools import lru_cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from engine.settings import Settings
from engine.wiring import Ports

logger = Logger(service="rp2", level=Settings.from_env().log_level, logger_handler=logging.StreamHandler(sys.stderr))
copy_config_to_registered_loggers(source_logger=logger, include={"engine"})


@lru_cache(maxsize=1)
def deployed_ports() -> Ports:
    from engine.adapters.aws import aws_ports

    return aws_ports(Settings.from_env())
