"""Returned mail, pure: the VERP token, and what each published report format says."""

from __future__ import annotations

import base64
from pathlib import Path

import msgspec
import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.mailer.bounces import providers, reports, sns, verp
from services.mailer.bounces.reports import Kind
from shared.config import Settings
from shared.errors import Forbidden, Invalid

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bounces"
SECRET = "s3cret"
MID = "<adv-1.0123456789abcdef0123456789abcdef@anshin.example>"


def test_a_return_path_names_its_mail_and_address_and_fits_a_local_part() -> None:
    path = verp.return_path(SECRET, "bounces.example", MID, "hanako@example.jp")
    local, _, domain = path.partition("@")
    assert domain == "bounces.example" and len(local) <= 64
    assert "hanako" not in path and "adv-1" not in path
    named = verp.parse(SECRET, "bounces.example", f"<{path.upper()}>")  # a relay may fold case
    assert named == verp.Named(verp.mail_ref(MID), verp.address_hash(SECRET, "hanako@example.jp"))
    assert verp.same_address(SECRET, named, "hanako@example.jp")
    assert not verp.same_address(SECRET, named, "taro@example.jp")


def test_a_forged_or_foreign_return_path_names_nothing() -> None:
    path = verp.return_path(SECRET, "bounces.example", MID, "hanako@example.jp")
    token = path.partition("+")[2].partition("@")[0]
    raw = bytearray(base64.b32decode(token.upper()))
    raw[0] ^= 1  # another mail, the signature kept
    forged = base64.b32encode(bytes(raw)).decode().lower()
    assert verp.parse(SECRET, "bounces.example", f"bounce+{forged}@bounces.example") is None
    assert verp.parse("another secret", "bounces.example", path) is None
    assert verp.parse(SECRET, "elsewhere.example", path) is None  # not our domain
    assert verp.parse(SECRET, "bounces.example", path.replace("bounce+", "bounces+")) is None
    for junk in ("", "bounce+@bounces.example", "bounce+!!!@bounces.example", "x" * 300):
        assert verp.parse(SECRET, "bounces.example", junk) is None


@pytest.mark.parametrize(
    ("name", "kind", "address"),
    [
        ("flufl-dsn_12.eml", Kind.HARD, "userx@example.jp"),  # failed 5.1.1
        ("sisimai-rfc3464-01.eml", Kind.HARD, "userunknown@bouncehammer.jp"),
        ("flufl-dsn_01.eml", Kind.HARD, "userx@sims-ms-daemon"),  # failed 5.0.0
        ("flufl-dsn_02.eml", Kind.SOFT, "/s=zzzzz/ou=example/prmd=uk.ac/admd= /c=gb/"),  # 4.4.7
        ("flufl-dsn_05.eml", Kind.IGNORED, "userx@example.cz"),  # delayed: a warning
        ("flufl-postfix_01.eml", Kind.HARD, "xxxxx@local.ie"),  # no DSN: flufl.bounce reads it
        ("flufl-qmail_01.eml", Kind.HARD, "userx@example.de"),
        ("sisimai-arf-01.eml", Kind.COMPLAINT, ""),
        ("sisimai-arf-02.eml", Kind.COMPLAINT, "this-local-part-does-not-exist-on-yahoo@yahoo.com"),
        ("sisimai-arf-12.eml", Kind.COMPLAINT, ""),  # opt-out
    ],
)
def test_published_returned_mail_reads_as_its_kind(name: str, kind: Kind, address: str) -> None:
    report = reports.read((FIXTURES / "smtp" / name).read_bytes())
    assert report is not None
    assert (report.kind, report.address) == (kind, address)
    assert report.detail


def test_auto_replies_say_nothing_and_other_mail_is_unreadable() -> None:
    for name in ("sisimai-rfc3834-01.eml", "sisimai-rfc3834-02.eml"):
        assert reports.read((FIXTURES / "smtp" / name).read_bytes()) is None
    for junk in (b"", b"Subject: hello\r\n\r\nHi there", b"\xff\xfe" * 100):
        with pytest.raises(reports.Unreadable):
            reports.read(junk)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("5.1.1", Kind.HARD),
        ("5.0.0", Kind.HARD),
        ("550 5.1.10 null MX", Kind.HARD),
        ("5.2.2", Kind.SOFT),  # mailbox full
        ("4.4.7", Kind.SOFT),
        ("5.7.1", Kind.IGNORED),  # policy: the path's problem
        ("4.7.0", Kind.IGNORED),
    ],
)
def test_a_failure_status_decides_the_kind(status: str, kind: Kind) -> None:
    assert reports.by_status(status) is kind


def test_ses_notifications_from_the_aws_documentation() -> None:
    def read(name: str) -> list[tuple[Kind, str]]:
        text = (FIXTURES / "ses" / f"{name}.json").read_text()
        return [(r.kind, r.address) for _, r in providers.ses(text, "n-1")]

    assert read("bounce-with-dsn") == [(Kind.HARD, "jane@example.com")]
    assert read("bounce-without-dsn") == [
        (Kind.HARD, "jane@example.com"),
        (Kind.HARD, "richard@example.com"),
    ]
    assert read("complaint-with-feedback") == [(Kind.COMPLAINT, "richard@example.com")]
    assert read("complaint-without-feedback") == [(Kind.COMPLAINT, "richard@example.com")]
    assert read("delivery") == []


def test_sendgrid_events_from_its_documentation() -> None:
    events = providers.sendgrid((FIXTURES / "sendgrid" / "events.json").read_bytes())
    # processed, deferred, delivered, open, click, dropped, unsubscribe say nothing.
    assert [(r.kind, r.address) for _, r in events] == [
        (Kind.HARD, "example@test.com"),
        (Kind.COMPLAINT, "example@test.com"),
    ]
    assert len({name for name, _ in events}) == 2


def test_postmark_webhooks_from_its_documentation() -> None:
    bounce = providers.postmark((FIXTURES / "postmark" / "bounce.json").read_bytes())
    spam = providers.postmark((FIXTURES / "postmark" / "spam-complaint.json").read_bytes())
    assert [(n, r.kind, r.address) for n, r in bounce] == [
        ("postmark:4323372036854775807", Kind.HARD, "john@example.com")
    ]
    assert [(r.kind, r.address) for _, r in spam] == [(Kind.COMPLAINT, "john@example.com")]


def test_a_malformed_event_names_its_field() -> None:
    with pytest.raises(Invalid) as bad:
        providers.sendgrid(b'[{"event": "bounce"}]')
    assert bad.value.details[0]["field"] == "[0].email"
    with pytest.raises(Invalid) as bad:
        providers.ses('{"notificationType": "Bounce"}', "n")
    assert bad.value.details[0]["field"] == "Message.mail"
    with pytest.raises(Invalid):
        providers.postmark(b"not json")


SNS = FIXTURES / "sns"


def test_real_sns_messages_verify_against_the_sns_certificate_and_altered_ones_do_not() -> None:
    cert = x509.load_pem_x509_certificate(
        (SNS / "SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem").read_bytes()
    )
    names = ("notification-signature-v2", "notification-with-subject", "subscription-confirmation")
    for name in names:
        message = sns.decode((SNS / f"{name}.json").read_bytes())
        sns.check_signature(cert, message)  # signed by SNS itself: SHA1 (v1) and SHA256 (v2)
        for change in ({"Message": message.Message + " "}, {"TopicArn": "arn:aws:sns:x:1:t"}):
            with pytest.raises(Forbidden):
                sns.check_signature(cert, msgspec.structs.replace(message, **change))
    subject = sns.decode((SNS / "notification-with-subject.json").read_bytes())
    with pytest.raises(Forbidden):  # the Subject is signed too
        sns.check_signature(cert, msgspec.structs.replace(subject, Subject=None))


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://sns.us-west-2.amazonaws.com/SimpleNotificationService-x.pem", True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem", True),
        ("http://sns.us-west-2.amazonaws.com/SimpleNotificationService-x.pem", False),
        ("https://my-bucket.s3.amazonaws.com/SimpleNotificationService-x.pem", False),
        ("https://sns.us-west-2.amazonaws.com.evil.example/x.pem", False),
        ("https://evil.example/sns.us-west-2.amazonaws.com/x.pem", False),
        ("https://sns.us-west-2.amazonaws.com@evil.example/x.pem", False),
        ("https://sns.a.b.amazonaws.com/x.pem", False),  # `*` is one label
    ],
)
def test_signing_certificates_come_only_from_sns_hosts(url: str, ok: bool) -> None:
    hosts = sns.host_pattern(Settings().bounce_sns_cert_hosts)
    assert sns.allowed(hosts, url) is ok


SAMPLES = sorted((FIXTURES / "smtp").glob("*.eml"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(min_value=0, max_value=8000),
    flips=st.lists(st.tuples(st.integers(0, 8000), st.binary(min_size=1, max_size=8)), max_size=6),
)
def test_mangled_returned_mail_is_read_or_refused_never_a_crash(
    sample: Path, cut: int, flips: list[tuple[int, bytes]]
) -> None:
    raw = bytearray(sample.read_bytes()[: cut or None])
    for at, junk in flips:
        raw[at % (len(raw) + 1) : at % (len(raw) + 1)] = junk
    try:
        report = reports.read(bytes(raw))
    except reports.Unreadable:
        return
    assert report is None or (isinstance(report.kind, Kind) and len(report.detail) <= 500)
