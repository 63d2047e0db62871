-- Not-ready seconds and episodes per vendor tenant, report day and reason, all agents together.
SELECT vendor, tenant_id, day, coalesce(reason, '(no reason)') AS reason,
       sum(not_ready_s) AS not_ready_s, sum(episodes)::BIGINT AS episodes
FROM mart_not_ready_reasons_daily
WHERE day >= $start AND day < $end
GROUP BY ALL
ORDER BY vendor, tenant_id, day, reason;
