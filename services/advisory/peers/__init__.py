"""What advisory asks the other services over NATS: the matcher's audience, the mailer's reach."""
