"""The mail of an advisory as a customer would get it, made by the renderer of every mail."""

from __future__ import annotations

from services.advisory.lifecycle.advisory import Advisory
from shared.config import Settings
from shared.mail.preview import Advice, Preview, preview


def mail_preview(advisory: Advisory, lang: str, settings: Settings) -> Preview:
    """The mail in `lang` for a stand-in customer and purchase; embargoed ones too, since
    it never leaves the service (shared/mail renders it here, not in the mailer)."""
    advice = Advice(
        advisory_id=advisory.id,
        agency_name=advisory.agency_name,
        kind=advisory.kind,
        title=advisory.title,
        body=advisory.body,
        source_url=advisory.source_url,
    )
    # The stand-in's own link: a customer's is signed by the mailer, for their address.
    unsubscribe_url = f"{settings.mailer_public_url}/u/preview"
    return preview(
        advice,
        lang,
        sender=settings.mail_from,
        public_url=settings.public_url,
        unsubscribe_url=unsubscribe_url,
        mailer_url=settings.mailer_public_url,
    )
