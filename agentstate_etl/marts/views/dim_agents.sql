-- One row per agent: the latest name any source gave (NULL where none did), the latest site
-- the vendor's snapshot gave (CXone; NULL elsewhere), and when the agent was first and last seen.
CREATE OR REPLACE VIEW dim_agents AS
SELECT vendor, tenant_id, agent_id,
       arg_max(agent_name, named_at) FILTER (WHERE agent_name IS NOT NULL) AS agent_name,
       arg_max(site_id, partition_date) FILTER (WHERE site_id IS NOT NULL) AS site_id,
       min(first_seen) AS first_seen,
       max(last_seen) AS last_seen
FROM agent_days
GROUP BY vendor, tenant_id, agent_id;
