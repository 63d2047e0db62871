-- Occurrences that start before the same agent's previous occurrence ended (should be none).
SELECT vendor, tenant_id, agent_id, partition_date, start_ts, end_ts, previous_end
FROM (
    SELECT *, lag(end_ts) OVER (PARTITION BY vendor, tenant_id, agent_id, partition_date
                                ORDER BY start_ts, end_ts) AS previous_end
    FROM agent_state_intervals
)
WHERE start_ts < previous_end
ORDER BY vendor, tenant_id, agent_id, start_ts;
