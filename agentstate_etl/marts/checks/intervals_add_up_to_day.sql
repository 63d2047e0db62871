-- Agent-days where the intervals of mart_state_totals_interval do not add up to the row of
-- mart_state_totals_daily (by more than half a millisecond in any state), or exist on one
-- side only. Each side is summed from agent_state_intervals by its own SQL.
WITH intervals AS (
    SELECT vendor, tenant_id, agent_id, day,
           sum(ready_s) AS ready_s, sum(not_ready_s) AS not_ready_s, sum(busy_s) AS busy_s,
           sum(acw_s) AS acw_s, sum(unknown_s) AS unknown_s, sum(logged_in_s) AS logged_in_s
    FROM mart_state_totals_interval
    GROUP BY vendor, tenant_id, agent_id, day
)
SELECT vendor, tenant_id, agent_id, day,
       d.logged_in_s AS daily_logged_in_s, i.logged_in_s AS intervals_logged_in_s,
       d.ready_s - i.ready_s AS ready_diff_s, d.not_ready_s - i.not_ready_s AS not_ready_diff_s,
       d.busy_s - i.busy_s AS busy_diff_s, d.acw_s - i.acw_s AS acw_diff_s,
       d.unknown_s - i.unknown_s AS unknown_diff_s
FROM mart_state_totals_daily AS d
FULL OUTER JOIN intervals AS i USING (vendor, tenant_id, agent_id, day)
WHERE d.logged_in_s IS NULL OR i.logged_in_s IS NULL
   OR abs(d.ready_s - i.ready_s) > 0.0005 OR abs(d.not_ready_s - i.not_ready_s) > 0.0005
   OR abs(d.busy_s - i.busy_s) > 0.0005 OR abs(d.acw_s - i.acw_s) > 0.0005
   OR abs(d.unknown_s - i.unknown_s) > 0.0005 OR abs(d.logged_in_s - i.logged_in_s) > 0.0005
ORDER BY vendor, tenant_id, agent_id, day;
