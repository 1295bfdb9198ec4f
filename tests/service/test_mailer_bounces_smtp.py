"""Returned mail through the mailer's own SMTP endpoint: every mail carries a signed VERP
return path; published DSNs and ARF reports sent to it suppress, count or are recorded;
forged, foreign, oversized or unreadable mail is refused and changes nothing."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import aiosmtplib
import asyncpg
import msgspec
from prometheus_client import REGISTRY

from deploy.servers import free_port
from services.mailer.app import build
from services.mailer.bounces import verp
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, eventually, nats, wait_states
from tests.support.smtp import SmtpSink

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bounces" / "smtp"
RETURN_PATH = re.compile(r"bounce\+[a-z2-7]{40}@anshin\.example")


async def returned(port: int, rcpt: str, raw: bytes) -> tuple[int, str]:
    """Send returned mail as a relay does (null sender) and give the last answer."""
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    await smtp.connect()
    try:
        await smtp.mail("")
        await smtp.rcpt(rcpt)
        answer = await smtp.data(raw)
        return answer.code, answer.message
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    finally:
        await smtp.quit()


async def suppressions(database_url: str) -> dict[str, tuple[str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT email, reason, detail FROM mailer.suppressions")
    finally:
        await conn.close()
    return {r["email"]: (r["reason"], r["detail"]) for r in rows}


async def feedback(database_url: str) -> dict[tuple[str, str], str | None]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT advisory_id, customer_id, feedback FROM mailer.deliveries")
    finally:
        await conn.close()
    return {(r["advisory_id"], r["customer_id"]): r["feedback"] for r in rows}


def paths(sink: SmtpSink) -> dict[str, list[str]]:
    """The return paths each recipient's mails carried, in order."""
    found: dict[str, list[str]] = defaultdict(list)
    for sender, rcpts in sink.envelopes:
        for rcpt in rcpts:
            found[rcpt].append(sender)
    return found


def counted(outcome: str) -> float:
    labels = {"intake": "smtp", "outcome": outcome}
    return REGISTRY.get_sample_value("anshin_mailer_feedback_total", labels) or 0.0


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


PEOPLE = [
    ("c-hard", "userx@example.jp", "en", "UTC"),  # flufl-dsn_12: failed 5.1.1
    ("c-arf", "this-local-part-does-not-exist-on-yahoo@yahoo.com", "en", "UTC"),  # arf-02
    ("c-delay", "userx@example.cz", "en", "UTC"),  # flufl-dsn_05: delayed
    ("c-soft", "zzzzz@example.uk", "en", "UTC"),  # flufl-dsn_02: failed 4.4.7
    ("c-auto", "calvin@example.com", "en", "UTC"),
]


async def test_returned_mail_suppresses_counts_and_records_through_the_smtp_endpoint(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, bounce_smtp_port=free_port(), bounce_soft_limit=2)
    port = settings.bounce_smtp_port
    suppressed_before = counted("suppressed")
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *PEOPLE)
        await advisory(nc, "adv-1")
        await advisory(nc, "adv-2")
        await deliveries(nc, "adv-1", [c for c, *_ in PEOPLE])
        await deliveries(nc, "adv-2", ["c-soft"])
        await wait_states(settings.database_url, {"sent": 6})
        sent = paths(smtp_sink)
        # Every mail's envelope sender is its own signed return path, naming no address.
        every = [p for ps in sent.values() for p in ps]
        assert len(set(every)) == 6 and all(RETURN_PATH.fullmatch(p) for p in every)
        for rcpt, ps in sent.items():
            for p in ps:
                named = verp.parse(settings.secret_key, "anshin.example", p)
                assert named is not None and verp.same_address(settings.secret_key, named, rcpt)

        hard = sent["userx@example.jp"][0]
        assert await returned(port, hard, fixture("flufl-dsn_12.eml")) == (
            250,
            "2.0.0 hard report suppressed",
        )
        code, _ = await returned(port, sent[PEOPLE[1][1]][0], fixture("sisimai-arf-02.eml"))
        assert code == 250
        assert (await returned(port, sent["userx@example.cz"][0], fixture("flufl-dsn_05.eml")))[
            1
        ] == "2.0.0 ignored report recorded"
        auto = await returned(
            port, sent["calvin@example.com"][0], fixture("sisimai-rfc3834-01.eml")
        )
        assert auto == (250, "2.0.0 auto-reply ignored")
        # One soft bounce counts; the second within the window suppresses.
        first, second = sent["zzzzz@example.uk"]
        assert (await returned(port, first, fixture("flufl-dsn_02.eml")))[1].endswith("counted")
        assert "zzzzz@example.uk" not in await suppressions(settings.database_url)
        assert (await returned(port, second, fixture("flufl-dsn_02.eml")))[1].endswith("suppressed")
        # The relay sending the same report again changes nothing more.
        again = await returned(port, hard, fixture("flufl-dsn_12.eml"))
        assert again == (250, "2.0.0 hard report duplicate")

        found = await suppressions(settings.database_url)
        assert found.keys() == {
            "userx@example.jp",
            "this-local-part-does-not-exist-on-yahoo@yahoo.com",
            "zzzzz@example.uk",
        }
        assert found["userx@example.jp"][0] == "bounce" and "5.1.1" in found["userx@example.jp"][1]
        assert found[PEOPLE[1][1]] == ("complaint", "feedback report: abuse")
        assert found["zzzzz@example.uk"][1].startswith("2 soft bounces within 7 days")
        assert await feedback(settings.database_url) == {
            ("adv-1", "c-hard"): "hard",
            ("adv-1", "c-arf"): "complaint",
            ("adv-1", "c-delay"): "ignored",
            ("adv-1", "c-soft"): "soft",
            ("adv-2", "c-soft"): "soft",
            ("adv-1", "c-auto"): None,
        }
        assert counted("suppressed") == suppressed_before + 3
        # What a bounce suppressed is never mailed again.
        await advisory(nc, "adv-3")
        await deliveries(nc, "adv-3", ["c-hard", "c-delay"])
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 1}, "adv-3")


async def test_forged_foreign_oversized_and_unreadable_mail_is_refused_and_changes_nothing(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(
        settings, bounce_smtp_port=free_port(), bounce_max_bytes=8192
    )
    port = settings.bounce_smtp_port
    refused_before = counted("refused")
    people = [("c-1", "userx@example.jp", "en", "UTC"), ("c-2", "moved@example.jp", "en", "UTC")]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-1", "c-2"])
        await wait_states(settings.database_url, {"sent": 2})
        genuine = paths(smtp_sink)["userx@example.jp"][0]
        token = genuine.partition("+")[2].partition("@")[0]
        forged = genuine.replace(token, token[:-1] + ("a" if token[-1] != "a" else "b"))
        dsn = fixture("flufl-dsn_12.eml")
        code, text = await returned(port, forged, dsn)
        assert (code, text) == (550, "5.1.1 not a return path of this sender")
        assert (await returned(port, genuine.replace("anshin.example", "x.example"), dsn))[0] == 550
        assert (await returned(port, "postmaster@anshin.example", dsn))[0] == 550
        code, text = await returned(port, genuine, b"Subject: hello\r\n\r\nPlease call me.\r\n")
        assert code == 554 and "neither a delivery status notification" in text
        assert (await returned(port, genuine, dsn + (b"X" * 70 + b"\r\n") * 150))[0] == 552
        assert await suppressions(settings.database_url) == {}
        # Counted: the four the endpoint refused (the server refuses an oversized one itself).
        assert counted("refused") == refused_before + 4
        # A customer who moved since: the report is recorded, the new address not suppressed.
        await customers(nc, ("c-2", "new@example.jp", "en", "UTC"))

        async def moved() -> bool:
            conn = await asyncpg.connect(settings.database_url)
            try:
                email = await conn.fetchval(
                    "SELECT email FROM mailer.contacts WHERE customer_id = 'c-2'"
                )
            finally:
                await conn.close()
            return bool(email == "new@example.jp")

        await eventually(moved)
        old = paths(smtp_sink)["moved@example.jp"][0]
        assert (await returned(port, old, dsn))[1] == "2.0.0 hard report recorded"
        # After all that, a genuine report is still taken.
        assert (await returned(port, genuine, dsn))[1] == "2.0.0 hard report suppressed"
        assert (await suppressions(settings.database_url)).keys() == {"userx@example.jp"}


async def test_a_feedback_loop_complaint_to_the_plain_address_acts_on_the_mail_it_quotes(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, bounce_smtp_port=free_port())
    port, feedback_address = settings.bounce_smtp_port, "bounce@anshin.example"
    people = [("c-1", "this-local-part-does-not-exist-on-yahoo@yahoo.com", "en", "UTC")]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-1"])
        await wait_states(settings.database_url, {"sent": 1})
        [ours] = paths(smtp_sink)[people[0][1]]
        # Yahoo's published report (arf-02) of a mail from shironeko@example.com, as it would
        # read about ours: the original's sender (Original-Mail-From, Return-Path, From) is ours.
        report = fixture("sisimai-arf-02.eml")
        assert report.count(b"shironeko@example.com") == 3  # Original-Mail-From, Return-Path, From
        quoting = report.replace(b"shironeko@example.com", ours.encode())
        # Not quoting a return path of ours, the report names no mail: refused.
        code, text = await returned(port, feedback_address, report)
        assert (code, text) == (554, "5.6.0 the report quotes no return path of this sender")
        forged = quoting.replace(ours.encode()[8:20], b"a" * 12)
        assert (await returned(port, feedback_address, forged))[0] == 554
        assert await suppressions(settings.database_url) == {}
        # An auto-reply to the plain address is taken and ignored, as anywhere.
        auto = await returned(port, feedback_address, fixture("sisimai-rfc3834-02.eml"))
        assert auto == (250, "2.0.0 auto-reply ignored")
        answer = await returned(port, feedback_address, quoting)
        assert answer == (250, "2.0.0 complaint report suppressed")
    assert await suppressions(settings.database_url) == {
        people[0][1]: ("complaint", "feedback report: abuse")
    }
