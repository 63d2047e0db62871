-- Real-time adherence now (docs/collection.md): each tenant's latest snapshot of rta_snapshots,
-- as of its last poll; the agents out of adherence first, the longest out first.
CREATE OR REPLACE VIEW rta_now AS
SELECT vendor, tenant_id, agent_id, agent_name, state, reason, state_since,
       scheduled_activity, in_adherence, out_of_adherence_since, as_of
FROM rta_snapshots
QUALIFY as_of = max(as_of) OVER (PARTITION BY vendor, tenant_id)
ORDER BY in_adherence NULLS LAST, out_of_adherence_since NULLS LAST, vendor, tenant_id, agent_id;
