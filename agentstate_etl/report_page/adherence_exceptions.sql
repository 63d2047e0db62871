-- Out-of-adherence time per vendor tenant, scheduled activity and what the agent did instead.
SELECT vendor, tenant_id, activity, coalesce(actual_state, '(none)') AS actual_state,
       count(*) AS exceptions, CAST(sum(duration_s) AS DOUBLE) AS out_of_adherence_s
FROM mart_adherence_exceptions
WHERE day >= $start AND day < $end
GROUP BY ALL
ORDER BY vendor, tenant_id, activity, actual_state;
