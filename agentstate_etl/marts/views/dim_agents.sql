-- One row per agent: the latest name any source gave (NULL where none did), the CXone site
-- when known, and when the agent was first and last seen.
CREATE OR REPLACE VIEW dim_agents AS
SELECT vendor, tenant_id, agent_id,
       arg_max(agent_name, named_at) FILTER (WHERE agent_name IS NOT NULL) AS agent_name,
       CAST(NULL AS VARCHAR) AS site_id,
       min(first_seen) AS first_seen,
       max(last_seen) AS last_seen
FROM agent_days
GROUP BY vendor, tenant_id, agent_id;
