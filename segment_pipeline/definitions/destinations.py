"""`destinations.yml`: where each day's changes are handed to consumers (SPEC 4.3).

`segments:` unset means every segment; `journeys:` unset means none. A journey's entrants
are messages to people, so a destination starts sending them only when it names the journey.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class WebhookDestination(BaseModel):
    """Signed JSON batches POSTed to a receiver."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field(min_length=1)
    segments: tuple[str, ...] | None = None
    journeys: tuple[str, ...] = ()
    batch_size: int = Field(default=1000, ge=1, le=1000)

    def wants(self, segment: str) -> bool:
        """Whether this destination receives the changes of `segment` (all when unset)."""
        return self.segments is None or segment in self.segments


class CsvDestination(BaseModel):
    """One CSV file per segment and day under `path` (relative paths: to the working dir)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    type: Literal["csv"]
    path: str = Field(min_length=1)
    segments: tuple[str, ...] | None = None
    journeys: tuple[str, ...] = ()

    def wants(self, segment: str) -> bool:
        """Whether this destination receives the changes of `segment` (all when unset)."""
        return self.segments is None or segment in self.segments


Destination = Annotated[WebhookDestination | CsvDestination, Field(discriminator="type")]
