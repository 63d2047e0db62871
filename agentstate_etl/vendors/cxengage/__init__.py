"""CxEngage WFM RTA: capabilities (here), records.py (wire schema, Pandera model, canonical
events), client.py (HTTP) and settings.py (one tenant)."""

from datetime import timedelta

from agentstate_etl.vendors.capabilities import Capabilities

# "Getting Agent States": the range may not exceed 10 minutes, data is kept up to three days
# and always delayed by 15 seconds; milliseconds optional; HTTP Basic; limit/offset paging.
CAPABILITIES = Capabilities(
    max_window=timedelta(minutes=10),
    retention=timedelta(days=3),
    delay=timedelta(seconds=15),
    paging="offset",
    auth="basic",
    timestamp_format="%Y-%m-%dT%H:%M:%SZ",
    per_agent=False,
    milliseconds=True,
    max_in_flight=4,
)
