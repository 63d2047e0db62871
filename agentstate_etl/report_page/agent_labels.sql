-- A short label a person reads per agent: the latest name seen, else the id (long ids cut to
-- 8 characters); where two agents of one vendor tenant would share a label, the full id is
-- added. Only the partitions around the range are read.
WITH names AS (
    SELECT vendor, tenant_id, agent_id,
           arg_max(agent_name, end_ts) FILTER (WHERE agent_name IS NOT NULL) AS name
    FROM agent_state_intervals
    WHERE partition_date >= $start - INTERVAL 1 DAY AND partition_date < $end + INTERVAL 1 DAY
    GROUP BY vendor, tenant_id, agent_id
), short AS (
    SELECT *,
           coalesce(name, CASE WHEN length(agent_id) > 12 THEN left(agent_id, 8) || '…'
                               ELSE agent_id END) AS label
    FROM names
)
SELECT vendor, tenant_id, agent_id,
       CASE WHEN count(*) OVER (PARTITION BY vendor, tenant_id, label) > 1
            THEN coalesce(name || ' (' || agent_id || ')', agent_id)
            ELSE label END AS agent
FROM short;
