-- Seconds per canonical state per agent and report day in [start, end).
SELECT vendor, tenant_id, agent_id, day,
       ready_s, not_ready_s, busy_s, acw_s, unknown_s, logged_in_s
FROM mart_state_totals_daily
WHERE day >= $start AND day < $end
ORDER BY vendor, tenant_id, agent_id, day;
