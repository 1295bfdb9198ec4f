"""An advisory as stored, typed from the store to the templates, and its versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import msgspec

from shared.languages import FALLBACK
from shared.messages import AdvisoryRule, Concerns, Kind

State = Literal["embargoed", "published", "withdrawn"]
STATES: tuple[State, ...] = get_args(State)


class Advisory(msgspec.Struct, frozen=True, kw_only=True):
    """One advisory: what its agency wrote, who it concerns, and where it is in its life."""

    id: str
    agency_id: str
    agency_name: str
    version: int
    state: State
    kind: Kind
    rule: AdvisoryRule
    concerns: Concerns  # as recorded with the rule: what product pages read
    title: dict[str, str]
    body: dict[str, str]
    source_url: str
    embargo_until: datetime
    expires_at: datetime | None
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    deliver_by: datetime | None = None  # when its agency needs every mail sent
    corrected_at: datetime | None = None  # when its latest correction went public
    pending_until: datetime | None = None  # a correction waits unseen for its embargo

    @property
    def headline(self) -> str:
        """Its title as the desks show it: in the fallback language, else any it has."""
        return self.title.get(FALLBACK) or next(iter(self.title.values()), "")


class Version(msgspec.Struct, frozen=True, kw_only=True):
    """One version of an advisory: its content as submitted or amended (JSON), and when."""

    version: int
    content: dict[str, Any]
    created_at: datetime
