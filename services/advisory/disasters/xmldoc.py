"""XML event documents parsed safely (no DTD, no entities, no external references)."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from shared.errors import Invalid, field_error


def parse(data: bytes) -> Element:
    """The root element of an XML document; Invalid where it is unsafe or malformed."""
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Invalid("XML with a DTD or entities is refused", [bad("$", exc)]) from exc
    except (ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown encoding
        raise Invalid("malformed XML", [bad("$", exc)]) from exc


def namespace(element: Element) -> str:
    """The namespace URI of an element's tag ('' when it has none)."""
    return element.tag[1:].partition("}")[0] if element.tag.startswith("{") else ""


def bad(field: str, exc: Exception) -> dict[str, str]:
    """A field error from an exception, its text bounded."""
    return field_error(field, str(exc)[:200] or type(exc).__name__)


def time(text: str, field: str, what: str) -> datetime:
    """An ISO 8601 time with its offset, in UTC; Invalid naming the field otherwise."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise Invalid(f"invalid {what}", [field_error(field, "not a time")]) from exc
    if value.tzinfo is None:
        raise Invalid(f"invalid {what}", [field_error(field, "a time needs its UTC offset")])
    return value.astimezone(UTC)
