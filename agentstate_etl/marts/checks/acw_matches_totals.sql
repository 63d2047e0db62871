-- Agent-days where mart_acw_daily (summed from the pieces on its own) disagrees with
-- mart_state_totals_daily (should be none).
SELECT vendor, tenant_id, agent_id, day, a.acw_s, t.acw_s AS totals_acw_s
FROM mart_acw_daily AS a
FULL OUTER JOIN mart_state_totals_daily AS t USING (vendor, tenant_id, agent_id, day)
WHERE a.acw_s IS DISTINCT FROM t.acw_s
ORDER BY vendor, tenant_id, agent_id, day;
