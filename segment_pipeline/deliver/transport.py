"""The webhook's HTTP side on httpx: one client per delivery run, and how each POST ended.

Every way a POST can end (a status, a refused or dropped connection, a timeout) becomes a
`PostOutcome` instead of an exception, so every attempt is recorded the same way and the
retry policy (webhook.py, tenacity) judges outcomes, not exception types.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

#: How much of a receiver's error body is kept in the deliveries table and the message.
ERROR_BODY_CHARS = 200


@dataclass(frozen=True)
class PostOutcome:
    """How a POST ended: a 2xx status, or an HTTP status and/or a reason it failed."""

    http_status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        """The receiver answered 2xx."""
        return self.error is None

    @property
    def retryable(self) -> bool:
        """Worth trying again: no answer, 429 or 5xx. Any other status will not change."""
        status = self.http_status
        return status is None or status == 429 or status >= 500


def open_client(timeout_seconds: float) -> httpx.Client:
    """A client for one delivery run: its connections are reused across batches and days.

    Redirects are not followed: a receiver that moved must be reconfigured, not guessed at
    (a 3xx is a rejection like a 4xx). The timeout bounds connecting and each read.
    """
    return httpx.Client(timeout=httpx.Timeout(timeout_seconds), follow_redirects=False)


def _error_body(response: httpx.Response) -> str:
    """The start of the receiver's error body on one line, or nothing."""
    return " ".join(response.text[:ERROR_BODY_CHARS].split())


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> PostOutcome:
    """POST `body` to `url` and report how it ended; never raises for network trouble."""
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return PostOutcome(http_status=None, error=f"no response within {client.timeout.read:g} s")
    except httpx.ConnectError as error:
        return PostOutcome(http_status=None, error=f"connection failed: {error}")
    except httpx.TransportError as error:
        reason = str(error) or type(error).__name__
        return PostOutcome(http_status=None, error=f"connection lost: {reason}")
    if response.is_success:
        return PostOutcome(http_status=response.status_code, error=None)
    detail = _error_body(response)
    message = f"HTTP {response.status_code} {response.reason_phrase}"
    return PostOutcome(
        http_status=response.status_code, error=message + (f" ({detail})" if detail else "")
    )
