-- Every exception of the range, longest first: who, the scheduled activity, when (UTC) and what
-- the agent did instead; the report shows the first rows and says how many there are.
SELECT vendor, tenant_id, agent_id, day, activity,
       strftime(start_ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS start_utc,
       strftime(end_ts AT TIME ZONE 'UTC', '%H:%M:%S') AS end_utc,
       CAST(duration_s AS DOUBLE) AS duration_s,
       coalesce(actual_state, '(none)') AS actual_state,
       coalesce(actual_reason, '') AS actual_reason
FROM mart_adherence_exceptions
WHERE day >= $start AND day < $end
ORDER BY duration_s DESC, vendor, tenant_id, agent_id, start_ts;
