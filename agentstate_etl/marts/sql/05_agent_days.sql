-- Each agent seen in a partition: its latest name that day, its site in the vendor's snapshot
-- (CXone) and its first and last moments; the view dim_agents folds these into one row per agent.
CREATE TABLE agent_days AS
SELECT i.vendor, i.tenant_id, i.agent_id, i.partition_date,
       arg_max(i.agent_name, i.start_ts) FILTER (WHERE i.agent_name IS NOT NULL) AS agent_name,
       max(i.start_ts) FILTER (WHERE i.agent_name IS NOT NULL) AS named_at,
       any_value(s.site_id) AS site_id,
       min(i.start_ts) AS first_seen,
       max(i.end_ts) AS last_seen
FROM agent_state_intervals AS i
LEFT JOIN lake_agent_sites AS s USING (vendor, tenant_id, agent_id, partition_date)
WHERE list_contains(getvariable('utc_days'), i.partition_date)
GROUP BY i.vendor, i.tenant_id, i.agent_id, i.partition_date;
