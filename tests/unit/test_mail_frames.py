"""Mails of one advisory come from a frame rendered once: they must be the full render."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from shared.mail import bodies, render
from shared.mail.render import Delivery, compose

_DATE = datetime(2026, 12, 1, tzinfo=UTC)


def _delivery(n: int, **changes: Any) -> Delivery:
    base = Delivery(
        advisory_id="adv_1",
        customer_id=f"c-{n}",
        email=f"c{n}@example.org",
        # No control characters: a name holding one is refused by compose (test_mail_mime).
        name=["", "花子", 'Jean <b>"&amp;"</b>', "O'Brien, Jr"][n % 4],
        locale=["ja-JP", "en-GB", "fr-FR", "de-DE"][n % 4],
        agency_name="Institut <Sécurité> & Co",
        title={"ja": "電池の注意", "en": "Power banks <now>", "fr": "Batteries & vous"},
        body={"ja": "充電中は離れない。\n\n二段落目", "en": "Never *charge* it\n\n- a\n- b"},
        source_url="https://agency.example/pb?a=1&b=<2>",
        purchases=[
            {"order_id": f"A-{n}", "sku": "PB-1", "title": "Power <bank> & co"},
            {"sku": "X-2", "placed_at": "2026-11-01T00:00:00Z"},
        ][: n % 3],
        kind=["short_term", "long_term", "recall", ""][n % 4],
        # Each delivery's own signed links; some mails have none (no public page).
        page_url=f"https://mail.example/r/r.{n}?x=<&>" if n % 2 else "",
        checked_url=f"https://mail.example/a/c.{n}" if n % 3 else "",
        gone_url=f"https://mail.example/a/g.{n}" if n % 3 else "",
    )
    return msgspec.structs.replace(base, **changes)


def _mail(deliveries: list[Delivery], n: int) -> tuple[str, bytes]:
    url = f'https://shop.example/u/t{n}?x="<&>"'
    sender = "s@shop.example"
    return compose(deliveries, sender=sender, unsubscribe_url=url, list_id="l", date=_DATE)


def test_a_mail_from_the_frame_is_byte_for_byte_the_mail_rendered_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cases = [[_delivery(n)] for n in range(24)]
    cases += [[_delivery(n), _delivery(n, advisory_id="adv_2", kind="long_term")] for n in (1, 2)]
    # Corrections and withdrawal notices, alone and in a digest.
    cases += [[_delivery(n, notice=["correction", "withdrawal"][n % 2])] for n in range(8)]
    cases += [[_delivery(3, notice="correction"), _delivery(3, advisory_id="adv_2")]]
    framed = [_mail(case, n) for n, case in enumerate(cases)]
    monkeypatch.setattr(bodies, "_frame", lambda *args: None)
    assert [_mail(case, n) for n, case in enumerate(cases)] == framed


def test_each_customer_reads_only_their_own_name_purchases_and_link() -> None:
    first = render.parse(_mail([_delivery(1, name="Aiko Tanaka")], 1)[1])
    second = render.parse(_mail([_delivery(5, locale="en-GB", name="Ben Lee")], 5)[1])
    for mail, own, other in [(first, 1, 5), (second, 5, 1)]:
        for kind in ("plain", "html"):
            part = mail.get_body((kind,))
            assert part is not None
            content = part.get_content()
            assert ("Aiko Tanaka" in content) == (own == 1)
            assert ("Ben Lee" in content) == (own == 5)
            assert f"A-{own}" in content and f"A-{other}" not in content
            assert f"/u/t{own}" in content and f"/u/t{other}" not in content
            for link in ("r/r", "a/c", "a/g"):
                assert f"/{link}.{own}" in content and f"/{link}.{other}" not in content


def test_content_holding_the_frame_marker_is_rendered_in_full() -> None:
    odd = _delivery(1, body={"en": "x \0greeting\0 y"}, locale="en-GB", name="Ana")
    mail = render.parse(_mail([odd], 1)[1])
    text = mail.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert content.count("Ana") == 1  # the greeting, not also in the advisory's body
    assert "x \0greeting\0 y" in content
