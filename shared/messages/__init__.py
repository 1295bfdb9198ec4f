"""Every message on the bus, as msgspec Structs: one tagged union per subject family.

Each Struct carries `v`, its schema version. New fields get defaults and go last, so an
older reader tolerates a newer writer (unknown fields are ignored on the wire).
"""

from shared.messages.advisories import (
    AdvisoryEvent,
    AdvisoryPublished,
    AdvisoryRule,
    AdvisoryWithdrawn,
    Area,
    Circle,
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
from shared.messages.orders import (
    Location,
    OrderBatch,
    OrderCancelled,
    OrderEvent,
    OrderLine,
    OrderPlaced,
    OrderReturned,
)
from shared.messages.privacy import (
    ERASERS,
    ErasureConfirmed,
    ErasureRequested,
    ExportPart,
    ExportRequest,
    PrivacyEvent,
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
)

__all__ = [
    "ERASERS",
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
    "CustomerBatch",
    "CustomerEvent",
    "CustomerUpserted",
    "DeliveryBatch",
    "DeliveryEvent",
    "DisasterDeclared",
    "DisasterEvent",
    "ErasureConfirmed",
    "ErasureRequested",
    "ExportPart",
    "ExportRequest",
    "FanoutShard",
    "Location",
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
    "PrivacyEvent",
    "Purchase",
    "ReachReport",
    "Recipient",
    "Regions",
    "ReportRequest",
    "Suppression",
    "SuppressionLift",
    "SuppressionLifted",
    "SuppressionList",
    "SuppressionQuery",
    "decoder",
    "encode",
]
