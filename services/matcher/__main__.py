"""Start the matcher service: `python -m services.matcher`."""

from services.matcher.app import SECRETS, build
from shared.service import main

main("matcher", build, lambda s: s.matcher_port, SECRETS)
