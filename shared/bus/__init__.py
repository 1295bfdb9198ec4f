"""The bus: every stream, subject and durable consumer, publishing and the consumer loop."""

from shared.bus.connect import connect, connect_as, declare
from shared.bus.consumer import Consumer, PermanentError
from shared.bus.publish import (
    PayloadTooLarge,
    jetstream,
    msg_id_header,
    publish,
    publish_each,
    publish_many,
)
from shared.bus.size import batch_bytes, split, wire_size
from shared.bus.topology import (
    CONSUMERS,
    DEAD_LETTER_SUBJECT,
    EXHAUSTED_BY,
    OUTBOX_DEAD_SUBJECT,
    STREAMS,
    ConsumerSpec,
    StreamSpec,
    Subjects,
)

__all__ = [
    "CONSUMERS",
    "DEAD_LETTER_SUBJECT",
    "EXHAUSTED_BY",
    "OUTBOX_DEAD_SUBJECT",
    "STREAMS",
    "Consumer",
    "ConsumerSpec",
    "PayloadTooLarge",
    "PermanentError",
    "StreamSpec",
    "Subjects",
    "batch_bytes",
    "connect",
    "connect_as",
    "declare",
    "jetstream",
    "msg_id_header",
    "publish",
    "publish_each",
    "publish_many",
    "split",
    "wire_size",
]
