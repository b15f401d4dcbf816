"""The official PEPPOL BIS Billing 3.0 rules shipped with Ledgerdrop, so that a fresh install
checks every validation layer; `ledgerdrop rules install` puts a newer release in their place
(see README.md beside this file for where they come from)."""

from __future__ import annotations

from pathlib import Path

RELEASE = "3.0.19"
RULES = Path(__file__).with_name("PEPPOL-EN16931-UBL.sch")
RULES_SHA256 = "2840f5158f7bbdbf3b3f5d2ea391b9ac9e649e1fdbba8502bd8c15ec52924f23"
