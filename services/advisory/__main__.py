"""Start the advisory service: `python -m services.advisory`."""

from services.advisory.app import SECRETS, build
from shared.service import main

main("advisory", build, lambda s: s.advisory_port, SECRETS)
