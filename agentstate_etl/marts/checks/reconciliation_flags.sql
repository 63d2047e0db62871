-- Reconciliation rows that are not ok (drift or a missing side), worst first.
SELECT vendor, tenant_id, agent_id, day, state, event_s, summary_s, diff_s, status
FROM mart_reconciliation
WHERE status <> 'ok'
ORDER BY abs(diff_s) DESC, vendor, tenant_id, agent_id, day, state;
