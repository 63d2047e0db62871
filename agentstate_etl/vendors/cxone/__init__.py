"""NICE CXone: capabilities (here), records.py (wire schemas, Pandera models, canonical
events), client.py (HTTP: token, history, snapshot, summary) and settings.py (one tenant)."""

from datetime import timedelta

from agentstate_etl.vendors.capabilities import WHOLE_SECONDS, Capabilities

# The history tutorial: `agentId` required (one agent per request), times strictly
# YYYY-MM-DDTHH:MM:SSZ, pageSize <= 1000, pageNumber from 1, no documented total; OAuth client
# credentials. No window limit, retention or delay is documented; the snapshot document warns of
# strict rate limits, so requests are paced per tenant.
CAPABILITIES = Capabilities(
    max_window=None,
    retention=None,
    delay=timedelta(0),
    paging="page_number",
    auth="oauth_client_credentials",
    timestamp_format=WHOLE_SECONDS,
    per_agent=True,
    max_in_flight=4,
    requests_per_s=50.0,
)
