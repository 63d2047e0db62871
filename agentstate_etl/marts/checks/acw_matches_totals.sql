-- Rows where mart_acw_daily disagrees with mart_state_totals_daily (should be none).
SELECT a.vendor, a.tenant_id, a.agent_id, a.day, a.acw_s, t.acw_s AS totals_acw_s
FROM mart_acw_daily AS a
FULL OUTER JOIN mart_state_totals_daily AS t USING (vendor, tenant_id, agent_id, day)
WHERE a.acw_s IS DISTINCT FROM t.acw_s
LIMIT 20;
