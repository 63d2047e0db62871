-- `agentstate now`: rta_now as a person reads it, the agents out of adherence first (the
-- longest out first), with how long they have been out and in their state.
SELECT vendor, tenant_id, coalesce(agent_name, agent_id) AS agent, state,
       coalesce(reason, '') AS reason,
       CAST(date_trunc('second', as_of - state_since) AS VARCHAR) AS in_state_for,
       coalesce(scheduled_activity, '-') AS scheduled,
       CASE WHEN in_adherence IS NULL THEN '-' WHEN in_adherence THEN 'yes' ELSE 'NO' END
           AS adherent,
       coalesce(CAST(date_trunc('second', as_of - out_of_adherence_since) AS VARCHAR), '')
           AS out_for,
       strftime(as_of, '%Y-%m-%d %H:%M:%S') AS as_of
FROM rta_now
ORDER BY in_adherence NULLS LAST, out_of_adherence_since NULLS LAST, vendor, tenant_id, agent;
