-- Occupancy, utilization and not-ready share per agent-day: one row per row of
-- mart_state_totals_daily (docs/warehouse.md), NULL where the denominator is 0.
CREATE TABLE mart_kpis_daily AS
SELECT vendor, tenant_id, agent_id, day,
       (busy_s + acw_s) / nullif(ready_s + busy_s + acw_s, 0) AS occupancy,
       (busy_s + acw_s) / nullif(logged_in_s, 0) AS utilization,
       not_ready_s / nullif(logged_in_s, 0) AS not_ready_share
FROM mart_state_totals_daily
ORDER BY vendor, tenant_id, agent_id, day;
