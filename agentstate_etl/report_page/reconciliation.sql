-- Every reconciled agent, UTC day and state in [start, end), as mart_reconciliation has it.
SELECT vendor, tenant_id, agent_id, day, state, event_s, summary_s, diff_s, status
FROM mart_reconciliation
WHERE day >= $start AND day < $end
ORDER BY vendor, tenant_id, day, agent_id, state;
