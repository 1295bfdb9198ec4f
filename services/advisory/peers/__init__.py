"""What advisory asks the other services over NATS request-reply; no answer is a 503.

Others use `ask` (ask, Unavailable), `audience.audience_of` (the matcher's estimate) and
`reach` (the mailer's report of an advisory, in five series).
"""
