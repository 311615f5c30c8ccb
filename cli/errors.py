"""Exit codes the CLI promises to scripts, and the one error type that carries them."""

from __future__ import annotations

from enum import IntEnum

from cli.text import inert


class ExitCode(IntEnum):
    OK = 0
    # The API answered with an error (5xx, 502 from Amazon...), or a check came back negative.
    API_ERROR = 1
    # Bad command line, or the API rejected the input (400).
    USAGE = 2
    # Unknown tenant or connection (404).
    NOT_FOUND = 3
    # No AWS credentials, or IAM denied the call (401/403).
    AUTH = 4
    # The API could not be reached: network error, timeout, stack or output not found.
    UNREACHABLE = 5
    # The connection is busy or in the wrong state (409): refresh running, disconnected...
    CONFLICT = 6
    INTERRUPTED = 130


class CliError(Exception):
    """Printed as ``error: <message>`` on stderr; the process exits with ``exit_code``."""

    def __init__(
        self, exit_code: ExitCode, message: str, *, code: str | None = None, reference: str | None = None
    ):
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.code = code
        self.reference = reference

    def render(self) -> str:
        extra = [f"code {self.code}"] if self.code else []
        if self.reference:
            extra.append(f"reference {self.reference}")
        # The message, code and reference may come from the server: never a control character.
        return inert(f"error: {self.message}" + (f" ({', '.join(extra)})" if extra else ""))
