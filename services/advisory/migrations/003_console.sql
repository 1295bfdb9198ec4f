-- Dead letters that an operator replayed from the console: one replay per dead letter.
CREATE TABLE dead_letter_replays (
    dead_seq bigint PRIMARY KEY,
    dead_msg_id text NOT NULL,
    consumer text NOT NULL,
    subject text NOT NULL,
    replay_msg_id text NOT NULL,
    replayed_at timestamptz NOT NULL
);
