"""Exit codes and the one error type every command raises: a message and what to do about it."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The documented exit codes (docs/cli.md). Scripts may rely on them."""

    OK = 0
    ERROR = 1  # the store refused the request, or anything not listed below
    USAGE = 2  # bad command line (argparse's own code)
    AUTH = 3  # not signed in, sign-in expired or revoked, or the credential lacks a scope
    INVALID_PACKAGE = 4  # the package or manifest is invalid (checked locally, or the store's validation)
    SIGNATURE = 5  # no signing key, a key the store does not know or revoked, or a signature that fails
    REJECTED = 6  # a reviewer rejected the version
    UNAVAILABLE = 7  # the store cannot be reached or answered with a server error
    TIMEOUT = 8  # --timeout passed while waiting
    INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    """A failure the user can act on: ``message`` says what happened, ``fix`` what to do next."""

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        exit_code: ExitCode = ExitCode.ERROR,
        details: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.exit_code = ExitCode(exit_code)
        self.details = details or {}

    def as_dict(self) -> dict:
        return {
            "code": self.exit_code.name,
            "exit_code": int(self.exit_code),
            "message": self.message,
            "fix": self.fix,
            "details": self.details,
        }


class ApiError(CliError):
    """The store answered with an error body (SPEC §3): its HTTP status and error code are kept so a
    command can react to one case (a 409, a 404) and let the others through."""

    def __init__(self, message: str, *, status: int, code: str, request_id: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.status = status
        self.code = code
        self.request_id = request_id

    def as_dict(self) -> dict:
        body = super().as_dict()
        body.update(http_status=self.status, store_code=self.code, request_id=self.request_id)
        return body
