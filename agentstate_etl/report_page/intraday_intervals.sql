-- Today so far (the latest report day the warehouse holds, within the range): seconds per
-- state and interval, all agents of a vendor tenant together.
SELECT vendor, tenant_id, interval_start,
       sum(ready_s) AS ready_s, sum(not_ready_s) AS not_ready_s, sum(busy_s) AS busy_s,
       sum(acw_s) AS acw_s, sum(unknown_s) AS unknown_s
FROM mart_state_totals_interval
WHERE day = (SELECT max(day) FROM mart_state_totals_interval WHERE day >= $start AND day < $end)
GROUP BY ALL
ORDER BY vendor, tenant_id, interval_start;
