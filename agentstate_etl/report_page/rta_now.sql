-- Real-time adherence as of each tenant's last poll (rta_now), out of adherence first.
SELECT vendor, tenant_id, coalesce(agent_name, agent_id) AS agent, state,
       coalesce(reason, '') AS reason,
       strftime(state_since, '%H:%M:%S') AS since,
       coalesce(scheduled_activity, '') AS scheduled,
       CASE WHEN in_adherence IS NULL THEN '' WHEN in_adherence THEN 'yes' ELSE 'no' END
           AS in_adherence,
       coalesce(strftime(out_of_adherence_since, '%H:%M:%S'), '') AS out_since,
       strftime(as_of, '%Y-%m-%d %H:%M:%S') AS as_of
FROM rta_now
ORDER BY in_adherence NULLS LAST, out_of_adherence_since NULLS LAST, vendor, tenant_id, agent;
