"""The mail of an advisory as a customer would get it, made by the mailer's own renderer."""

from __future__ import annotations

from typing import Any

from services.advisory.api.schemas import Preview
from shared.config import Settings
from shared.mail.preview import Advice, preview


def mail_preview(advisory: dict[str, Any], lang: str, settings: Settings) -> Preview:
    """Subject, text and HTML of the mail in `lang`, for a stand-in customer and purchase."""
    advice = Advice(
        advisory_id=advisory["id"],
        agency_name=advisory["agency_name"],
        kind=advisory["kind"],
        title=advisory["title"],
        body=advisory["body"],
        source_url=advisory["source_url"],
    )
    # The stand-in's own link: a customer's is signed by the mailer, for their address.
    unsubscribe_url = f"{settings.mailer_public_url}/u/preview"
    mail = preview(
        advice,
        lang,
        sender=settings.mail_from,
        public_url=settings.public_url,
        unsubscribe_url=unsubscribe_url,
    )
    return Preview(
        advisory_id=advisory["id"], lang=lang, subject=mail.subject, text=mail.text, html=mail.html
    )
