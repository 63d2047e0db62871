-- Scheduled and in-adherence seconds per agent and report day in [start, end).
SELECT vendor, tenant_id, agent_id, day,
       CAST(scheduled_s AS DOUBLE) AS scheduled_s,
       CAST(in_adherence_s AS DOUBLE) AS in_adherence_s,
       CAST(out_of_adherence_s AS DOUBLE) AS out_of_adherence_s,
       CAST(adherence_pct AS DOUBLE) AS adherence_pct
FROM mart_adherence_daily
WHERE day >= $start AND day < $end
ORDER BY vendor, tenant_id, agent_id, day;
