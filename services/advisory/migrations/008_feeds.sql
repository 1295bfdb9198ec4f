-- The feed reader's memory (disasters/feedreader/): the validators of each feed's last full
-- read, and every entry taken, so that a restart neither fetches nor declares one again.
CREATE TABLE feed_state (
    feed text PRIMARY KEY,
    etag text,
    last_modified text,
    read_at timestamptz NOT NULL
);

CREATE TABLE feed_entries (
    feed text NOT NULL,
    entry text NOT NULL,
    outcome text NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (feed, entry)
);

-- Entries are forgotten once older than any feed keeps them (store.forget).
CREATE INDEX feed_entries_seen_at ON feed_entries (seen_at);
