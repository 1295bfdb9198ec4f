"""Returned mail: the VERP return path, and the intakes of bounces and complaints.

verp.py       the envelope sender of every mail: bounce+<signed token>@<domain>
reports.py    what a returned mail says (DSN, ARF, auto-reply), pure
providers.py  what a relay's webhook event says (SES, SendGrid, Postmark), pure
intake.py     what a report does: the ledger row, soft-bounce counts, suppressions
smtpd.py      the SMTP endpoint (aiosmtpd) that takes returned mail
sns.py        Amazon SNS message signatures and subscription confirmation
webhooks.py   the HTTP webhooks of SES (through SNS), SendGrid and Postmark
"""
