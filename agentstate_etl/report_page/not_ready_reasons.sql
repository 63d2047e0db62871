-- Not-ready seconds and episodes per vendor tenant, report day and reason group (the reason
-- mapping's standard vocabulary: Break covers PAID_BREAK, BRK, ...), all agents together, with
-- the vendor's own reasons of each group named.
SELECT vendor, tenant_id, day,
       coalesce(reason_group, reason, '(no reason)') AS reason_group,
       string_agg(DISTINCT coalesce(reason, '(no reason)'), ', ' ORDER BY coalesce(reason, '(no reason)')) AS reasons,
       sum(not_ready_s) AS not_ready_s, sum(episodes)::BIGINT AS episodes
FROM mart_not_ready_reasons_daily
WHERE day >= $start AND day < $end
GROUP BY vendor, tenant_id, day, coalesce(reason_group, reason, '(no reason)')
ORDER BY vendor, tenant_id, day, reason_group;
