"""Kore.ai SmartAssist agent activity: capabilities (here), records.py (wire schema, Pandera
model, canonical events), client.py (HTTP, JWT) and settings.py (one tenant)."""

from datetime import timedelta

from agentstate_etl.vendors.capabilities import WHOLE_SECONDS, Capabilities

# The Agent Activity API: no paging, no stated maximum range (the client halves a window the
# server calls too long), the sample's times have no fraction, a signed JWT in `auth`; changes
# are "stacked every 30 seconds", so the last 30 s are not settled.
CAPABILITIES = Capabilities(
    max_window=timedelta(hours=6),
    retention=None,
    delay=timedelta(seconds=30),
    paging="none",
    auth="jwt",
    timestamp_format=WHOLE_SECONDS,
    per_agent=False,
    max_in_flight=4,
)
