"""`make bench`: run every benchmark against fresh embedded servers and print the figures."""

from __future__ import annotations

from bench import ingest, mailbox, mailer, matcher, outbox, quakes
from bench.servers import servers
from shared.service import run


async def main() -> None:
    """Run the benchmarks one after another."""
    with servers() as (nats_url, database_url):
        figures = await outbox.run(nats_url, database_url)
        mail = await mailer.run(database_url)
    with servers() as (nats_url, database_url):
        ingest_figures = await ingest.run(nats_url, database_url)
    raw, ours = figures["raw_publish_per_s"], figures["outbox_per_s"]
    print(f"outbox relay: {outbox.N} events")
    print(f"  raw JetStream publish (baseline) {raw:10,.0f} msg/s")
    print(f"  write to outbox + relay          {ours:10,.0f} msg/s   ratio {ours / raw:.2f}")
    mailer.report(mail)
    ingest.report(ingest_figures)
    with servers() as (nats_url, database_url):
        matcher.report(await matcher.run(nats_url, database_url))
    # The quake benches before the mailbox's: it creates and deletes 100,000 files, and on
    # this VM's ext4 (no journal) the files created next pay for inodes freed minutes before.
    quakes.report(await quakes.run())
    mailbox.report(await mailbox.run())


if __name__ == "__main__":
    run(main())  # on the services' event loop: the in-process parts run as they do
