"""The evidence chain: any changed, dropped or re-chained row, or another key, fails."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from services.advisory.evidence import chain, keys
from shared import messages as m
from shared.config import Settings, refusals

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
KEY = keys.signing_key(Settings(evidence_key="a-strong-secret"))


def _export(*events: str) -> bytes:
    made = chain.Chain("adv_1")
    rows = [made.row(m.EvidenceEvent(event=e, at=AT, customer="p1")) for e in events]
    return b"".join(rows) + made.head(KEY, AT)


def _rechained(export: bytes) -> bytes:
    """The first row changed and every hash after it made again, the old signature kept:
    what someone without the key could forge."""
    *rows, head = export.splitlines()
    prev, out = chain.genesis("adv_1"), []
    for n, line in enumerate(rows):
        row = json.loads(line) | {"prev": prev} | ({"event": "acted"} if n == 0 else {})
        encoded = json.dumps(row, sort_keys=True, separators=(",", ":")).encode()
        prev = hashlib.sha256(encoded).hexdigest()
        out.append(encoded)
    return b"\n".join([*out, json.dumps(json.loads(head) | {"head": prev}).encode()]) + b"\n"


def test_an_intact_export_verifies_and_says_what_it_holds() -> None:
    verdict = chain.verify(_export("matched", "queued", "sent"), KEY.public_key())
    assert verdict == chain.Verdict(3, "adv_1", "")
    assert chain.verify(_export(), KEY.public_key()) == chain.Verdict(0, "adv_1", "")


def test_each_kind_of_change_is_named() -> None:
    export = _export("matched", "queued", "sent")
    lines = export.splitlines(keepends=True)
    public = KEY.public_key()
    changed = export.replace(b'"event":"queued"', b'"event":"read"')
    assert chain.verify(changed, public).problem.startswith("line 3 does not follow")
    last_changed = export.replace(b'"event":"sent"', b'"event":"read"')
    assert "head does not match" in chain.verify(last_changed, public).problem
    assert "head does not match" in chain.verify(b"".join([*lines[:2], lines[3]]), public).problem
    assert chain.verify(b"".join(lines[1:]), public).problem.startswith("line 1 does not follow")
    forged = chain.verify(_rechained(export), public)
    assert forged.problem == "the signature of the head does not verify"
    other = keys.signing_key(Settings(evidence_key="another-secret")).public_key()
    assert re.match(r"signed by key [0-9a-f]{16}, not by", chain.verify(export, other).problem)
    assert chain.verify(b"", public).problem == "the file is empty"
    assert "not a signed head" in chain.verify(b"".join(lines[:3]), public).problem


def test_the_published_key_reads_back_and_production_refuses_none() -> None:
    public = keys.load_public(keys.public_pem(KEY.public_key()))
    assert keys.key_id(public) == keys.key_id(KEY.public_key())
    production = Settings(env="production", evidence_key="")
    assert "ANSHIN_EVIDENCE_KEY is empty" in refusals(production, ["evidence_key"])
