"""The bus: every stream, subject and durable consumer, publishing and the consumer loop."""

from shared.bus.connect import connect, declare
from shared.bus.consumer import Consumer, PermanentError
from shared.bus.publish import msg_id_header, publish, publish_many
from shared.bus.topology import (
    CONSUMERS,
    DEAD_LETTER_SUBJECT,
    EXHAUSTED_BY,
    STREAMS,
    ConsumerSpec,
    StreamSpec,
    Subjects,
)

__all__ = [
    "CONSUMERS",
    "DEAD_LETTER_SUBJECT",
    "EXHAUSTED_BY",
    "STREAMS",
    "Consumer",
    "ConsumerSpec",
    "PermanentError",
    "StreamSpec",
    "Subjects",
    "connect",
    "declare",
    "msg_id_header",
    "publish",
    "publish_many",
]
