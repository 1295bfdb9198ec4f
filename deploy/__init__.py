"""Running Anshin: the local launcher, embedded servers and the local mailbox."""
