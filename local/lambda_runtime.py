"""The Lambda runtime stand-in: import a handler by its dotted name and invoke it with a
context object that behaves like AWS's (function name, request id, remaining time)."""

from __future__ import annotations

import importlib
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
LOCAL_REGION = "us-east-1"

# What Lambda puts on sys.path: the function's code asset, here the source tree it is built from.
LAMBDA_CODE_DIR = Path(__file__).resolve().parents[1] / "lambdas"


def ensure_lambda_path() -> None:
    if str(LAMBDA_CODE_DIR) not in sys.path:
        sys.path.insert(0, str(LAMBDA_CODE_DIR))


Handler = Callable[[dict[str, Any], Any], Any]


class LambdaContext:
    """What handlers and powertools read from the Lambda context object."""

    def __init__(self, function: LocalFunction) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{self.aws_request_id[:8]}"
        self._deadline = time.monotonic() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One AWS::Lambda::Function of the template, runnable in this process."""

    logical_id: str
    name: str
    handler_path: str  # "ads_connect.handlers.consent.handler"
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    memory_mb: int = 256
    _handler: Handler | None = field(default=None, repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{self.name}"

    def load(self) -> Handler:
        if self._handler is None:
            ensure_lambda_path()
            module_name, _, attribute = self.handler_path.rpartition(".")
            if not module_name:
                raise ValueError(
                    f"function {self.logical_id}: handler {self.handler_path!r} is not module.attr"
                )
            handler = getattr(importlib.import_module(module_name), attribute)
            if not callable(handler):
                raise TypeError(f"function {self.logical_id}: {self.handler_path} is not callable")
            self._handler = handler
        return self._handler

    def invoke(self, event: dict[str, Any]) -> tuple[Any, LambdaContext]:
        context = LambdaContext(self)
        return self.load()(event, context), context
