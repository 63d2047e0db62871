-- Real-time adherence now (docs/collection.md): each tenant's snapshot in rta_snapshots as of
-- its last poll (the latest instant its partitions hold: when no agent is logged in or
-- scheduled then, the tenant has no rows, not an older snapshot's).
CREATE OR REPLACE VIEW rta_now AS
WITH latest AS (
    SELECT vendor, tenant_id, max(last_seen) AS as_of FROM agent_days GROUP BY ALL
)
SELECT r.vendor, r.tenant_id, r.agent_id, r.agent_name, r.state, r.reason, r.state_since,
       r.scheduled_activity, r.in_adherence, r.out_of_adherence_since, r.as_of
FROM rta_snapshots AS r
JOIN latest AS l ON l.vendor = r.vendor AND l.tenant_id = r.tenant_id AND l.as_of = r.as_of;
