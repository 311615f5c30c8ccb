"""What a log line may say about an exception behind an error answer: types, codes and where
it happened, never a message.

botocore's messages can quote request parameters (``ParamValidationError`` repeats their values,
and a Secrets Manager write carries a refresh token), AWS's own text is free-form, and Amazon's
``error_description`` is not even kept on ``AmazonError``. Every handler's last-resort logging
goes through here instead of ``logger.exception``.
"""

from __future__ import annotations

import traceback
from typing import Any

from botocore.exceptions import ClientError

from ads_connect.logic.ports import AmazonError


def failure_cause(exc: BaseException) -> dict[str, Any]:
    """What the log line says about the failure behind an error answer: types and codes only.

    Never a message: botocore's can quote request parameters (``ParamValidationError`` repeats
    their values, and a Secrets Manager write carries the secret), AWS's own text is free-form,
    and Amazon's ``error_description`` is not even kept on ``AmazonError``."""
    cause: dict[str, Any] = {"error_type": type(exc).__name__}
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        metadata = exc.response.get("ResponseMetadata", {})
        cause["aws_operation"] = exc.operation_name
        cause["aws_error_code"] = error.get("Code")
        cause["aws_http_status"] = metadata.get("HTTPStatusCode")
        cause["aws_request_id"] = metadata.get("RequestId")
    elif isinstance(exc, AmazonError):
        cause["amazon_error_code"] = exc.error_code
        cause["amazon_status"] = exc.status
    return cause


def failure_stack(exc: BaseException) -> list[str]:
    """``file:line in function`` for each frame of the traceback, innermost last, and the types of
    the exceptions it was raised from: a traceback without the exception messages (or locals)."""
    frames = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__)]
    chained = exc.__cause__ or exc.__context__
    if chained is not None:
        frames.append(f"raised while handling {type(chained).__name__}")
    return frames
