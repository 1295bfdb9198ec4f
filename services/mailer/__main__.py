"""Start the mailer service: `python -m services.mailer`."""

from services.mailer.app import SECRETS, build
from shared.service import main

main("mailer", build, lambda s: s.mailer_port, SECRETS)
