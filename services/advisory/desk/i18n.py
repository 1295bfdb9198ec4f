"""The desks' words in Japanese and English, and which of them a reader reads.

The words are gettext catalogues: English msgids in the templates and the desk's modules,
their Japanese in locale/ja/LC_MESSAGES/desk.po, read through Babel and compiled in memory
once, at the first page (no build step; `pybabel` keeps the catalogue, docs/console.md).
A reader's own pick (the cookie the language switch sets) wins; else `Accept-Language` (read
by q-value in shared/languages.py, as the public pages and the mailer's pages read it); else
English.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from shared.languages import N_, from_accept_language

# The desks' languages, the first the fallback: the msgids are English.
DESK_LANGS = ("en", "ja")
COOKIE = "anshin_desk_lang"
LOCALE = Path(__file__).parent / "locale"
DOMAIN = "desk"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of `lang`; English is the msgids themselves."""
    if lang == DESK_LANGS[0]:
        return gettext.NullTranslations()
    with (LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: they are not yet checked
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def reader_language(cookie: str, accept_language: str) -> str:
    """The language of a desk's page: the reader's pick, else their browser's, else English."""
    if cookie in DESK_LANGS:
        return cookie
    return from_accept_language(accept_language, DESK_LANGS) or DESK_LANGS[0]


# Short names of the rule kinds and of the states, as the desks' tables show them.
KIND_NAMES = {
    "short_term": N_("Short term"),
    "long_term": N_("Long term"),
    "combination": N_("Combination"),
    "disaster": N_("Disaster playbook"),
    "recall": N_("Recall"),
}
STATE_NAMES = {
    "embargoed": N_("embargoed"),
    "published": N_("published"),
    "withdrawn": N_("withdrawn"),
}
# The API's own problems with a form's field most often named (lifecycle/submission.py):
# the form shows them translated where the catalogue has them, in English otherwise.
API_PROBLEMS = (
    N_("must not be in the past"),
    N_("must be after embargo_until"),
    N_("must be an http or https URL"),
    N_("a combination needs at least two groups"),
    N_("every group names at least one category"),
    N_("a recall names at least one SKU or GTIN"),
)
# Why an address is suppressed (the mailer's words), as the console's suppressions page shows it.
SUPPRESSION_REASONS = (N_("bounce"), N_("unsubscribe"), N_("complaint"))
SERIES_NAMES = {
    "matched": N_("Matched"),
    "sent": N_("Sent"),
    "waiting": N_("Waiting"),
    "suppressed": N_("Suppressed"),
    "failed": N_("Failed"),
}
STEP_NAMES = {
    "bought": N_("Bought"),
    "contactable": N_("Contactable"),
    "delivered": N_("Delivered"),
    "read": N_("Read"),
    "acted": N_("Acted"),
}


def share_text(share: float) -> str:
    """A share as the funnel writes it: `95.0 %`."""
    return f"{share * 100:.1f} %"
