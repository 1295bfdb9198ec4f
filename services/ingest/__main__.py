"""Start the ingest service: `python -m services.ingest`."""

from services.ingest.app import SECRETS, build
from shared.service import main

main("ingest", build, lambda s: s.ingest_port, SECRETS)
