"""One HTTP POST with the standard library, reduced to an outcome the retry loop can judge.

Every way a POST can end (a status, a refused or dropped connection, a timeout) becomes a
`PostOutcome` instead of an exception, so the caller records each attempt the same way.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO

#: How much of a receiver's error body is kept in the deliveries table and the message.
ERROR_BODY_CHARS = 200


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would turn a redirected POST into a GET and drop the body."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        """Return no new request, so the 3xx surfaces as an HTTPError."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


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


def _error_body(error: urllib.error.HTTPError) -> str:
    """The start of the receiver's error body on one line, or nothing."""
    try:
        text = error.read(ERROR_BODY_CHARS).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException):
        return ""
    return " ".join(text.split())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> PostOutcome:
    """POST `body` to `url` and report how it ended; never raises for network trouble."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return PostOutcome(http_status=response.status, error=None)
    except urllib.error.HTTPError as error:
        detail = _error_body(error)
        message = f"HTTP {error.code} {error.reason}" + (f" ({detail})" if detail else "")
        return PostOutcome(http_status=error.code, error=message)
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return PostOutcome(http_status=None, error=f"no response within {timeout:g} s")
        return PostOutcome(http_status=None, error=f"connection failed: {error.reason}")
    except TimeoutError:
        return PostOutcome(http_status=None, error=f"no response within {timeout:g} s")
    except (OSError, http.client.HTTPException) as error:
        reason = str(error) or type(error).__name__
        return PostOutcome(http_status=None, error=f"connection lost: {reason}")
