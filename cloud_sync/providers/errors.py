"""Typed errors of the provider contract.

Every provider translates its SDK's exceptions into exactly one of these, so the
retry policy, the queue and the Odoo side decide on the type, never on a message.
"""

from __future__ import annotations


class CloudError(Exception):
    """Base class of every provider error."""

    retryable = False

    def __init__(self, message: str = "", *, status: int | None = None):
        super().__init__(message or self.__class__.__name__)
        self.status = status


class RetryLater(CloudError):
    """Throttled, 5xx or a timeout: try again, after ``retry_after`` seconds if known."""

    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, status=None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ReauthRequired(CloudError):
    """The access token expired or the grant was revoked."""


class NotFound(CloudError):
    """The item does not exist (any more)."""


class NameTaken(CloudError):
    """A sibling already has that name (where the provider enforces unique names)."""

    def __init__(self, message: str = "", *, existing_id: str | None = None, status=None):
        super().__init__(message, status=status)
        self.existing_id = existing_id


class QuotaExceeded(CloudError):
    """The account or drive is full."""


class CursorExpired(CloudError):
    """The change-feed cursor is no longer valid: list everything again."""


class Unsupported(CloudError):
    """The provider, or this account or bucket, has no such feature (versions on plain
    WebDAV or on an S3 bucket without versioning, search by name on S3): say so to the
    user, never retry."""


class Fatal(CloudError):
    """Anything else: a bug, a refused request, a misconfiguration."""
