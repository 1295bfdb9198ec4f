"""Every message on the bus, as msgspec Structs: one tagged union per subject family.

Each Struct carries `v`, its schema version. New fields get defaults and go last, so an
older reader tolerates a newer writer (unknown fields are ignored on the wire).
"""

from shared.messages.advisories import (
    AdvisoryEvent,
    AdvisoryPublished,
    AdvisoryWithdrawn,
    Area,
    Circle,
    Codes,
    DisasterDeclared,
    DisasterEvent,
    Polygon,
    Regions,
)
from shared.messages.base import Message, decoder, encode
from shared.messages.customers import CustomerBatch, CustomerEvent, CustomerUpserted
from shared.messages.dead import OutboxDead
from shared.messages.deliveries import (
    DeliveryBatch,
    DeliveryEvent,
    FanoutShard,
    Priority,
    Purchase,
    Recipient,
)
from shared.messages.evidence import EvidenceEvent, EvidencePage, EvidenceRequest
from shared.messages.orders import (
    Location,
    OrderBatch,
    OrderCancelled,
    OrderEvent,
    OrderLine,
    OrderPlaced,
    OrderReturned,
)
from shared.messages.requests import (
    AudienceEstimate,
    AudienceRequest,
    CatalogEntry,
    CatalogLookup,
    ReachReport,
    ReportRequest,
    Suppression,
    SuppressionLift,
    SuppressionLifted,
    SuppressionList,
    SuppressionQuery,
    Wait,
)
from shared.messages.rules import (
    AdvisoryRule,
    Combination,
    Concerns,
    Disaster,
    Kind,
    LongTerm,
    Recall,
    ShortTerm,
)

__all__ = [
    "AdvisoryEvent",
    "AdvisoryPublished",
    "AdvisoryRule",
    "AdvisoryWithdrawn",
    "Area",
    "AudienceEstimate",
    "AudienceRequest",
    "CatalogEntry",
    "CatalogLookup",
    "Circle",
    "Codes",
    "Combination",
    "Concerns",
    "CustomerBatch",
    "CustomerEvent",
    "CustomerUpserted",
    "DeliveryBatch",
    "DeliveryEvent",
    "Disaster",
    "DisasterDeclared",
    "DisasterEvent",
    "EvidenceEvent",
    "EvidencePage",
    "EvidenceRequest",
    "FanoutShard",
    "Kind",
    "Location",
    "LongTerm",
    "Message",
    "OrderBatch",
    "OrderCancelled",
    "OrderEvent",
    "OrderLine",
    "OrderPlaced",
    "OrderReturned",
    "OutboxDead",
    "Polygon",
    "Priority",
    "Purchase",
    "ReachReport",
    "Recall",
    "Recipient",
    "Regions",
    "ReportRequest",
    "ShortTerm",
    "Suppression",
    "SuppressionLift",
    "SuppressionLifted",
    "SuppressionList",
    "SuppressionQuery",
    "Wait",
    "decoder",
    "encode",
]
