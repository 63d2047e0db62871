-- Each agent seen in a partition: its latest name that day and its first and last moments;
-- the view dim_agents folds these into one row per agent.
CREATE TABLE agent_days AS
SELECT vendor, tenant_id, agent_id, partition_date,
       arg_max(agent_name, start_ts) FILTER (WHERE agent_name IS NOT NULL) AS agent_name,
       max(start_ts) FILTER (WHERE agent_name IS NOT NULL) AS named_at,
       min(start_ts) AS first_seen,
       max(end_ts) AS last_seen
FROM agent_state_intervals
WHERE list_contains(getvariable('utc_days'), partition_date)
GROUP BY vendor, tenant_id, agent_id, partition_date;
