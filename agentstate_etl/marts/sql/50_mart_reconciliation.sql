-- Event-derived seconds vs the vendor's summary report, per agent, UTC day and canonical state,
-- for the agent-days of this update whose summary was asked for. LOGGED_OUT is not reconciled.
-- UNKNOWN is not a state a summary can have: it gets no row of its own (it would read as a
-- missing summary and hide real drift) and is shown apart, as event_unknown_s on each row of
-- the agent-day.
CREATE TABLE mart_reconciliation AS
WITH asked AS (
    SELECT DISTINCT vendor, tenant_id, agent_id, partition_date FROM vendor_summary_requests
), events AS (
    SELECT i.vendor, i.tenant_id, i.agent_id, i.partition_date AS day, i.state,
           sum(epoch_ms(i.end_ts) - epoch_ms(i.start_ts)) / 1000.0 AS event_s
    FROM agent_state_intervals AS i
    JOIN asked AS a USING (vendor, tenant_id, agent_id, partition_date)
    WHERE i.state <> 'LOGGED_OUT'
    GROUP BY ALL
), summary AS (
    SELECT s.vendor, s.tenant_id, s.agent_id, s.partition_date AS day, s.state,
           sum(epoch_ms(s.end_ts) - epoch_ms(s.start_ts)) / 1000.0 AS summary_s
    FROM vendor_summary_intervals AS s
    JOIN asked AS a USING (vendor, tenant_id, agent_id, partition_date)
    WHERE s.state <> 'LOGGED_OUT'
    GROUP BY ALL
), unknown AS (
    SELECT vendor, tenant_id, agent_id, day, event_s AS event_unknown_s
    FROM events WHERE state = 'UNKNOWN'
)
SELECT vendor, tenant_id, agent_id, day, state,
       coalesce(e.event_s, 0.0) AS event_s,
       coalesce(s.summary_s, 0.0) AS summary_s,
       coalesce(e.event_s, 0.0) - coalesce(s.summary_s, 0.0) AS diff_s,
       CASE
           WHEN s.summary_s IS NULL THEN 'missing_summary'
           WHEN e.event_s IS NULL THEN 'missing_events'
           WHEN abs(e.event_s - s.summary_s) > getvariable('drift_tolerance_s') THEN 'drift'
           ELSE 'ok'
       END AS status,
       coalesce(u.event_unknown_s, 0.0) AS event_unknown_s
FROM (SELECT * FROM events WHERE state <> 'UNKNOWN') AS e
FULL OUTER JOIN summary AS s USING (vendor, tenant_id, agent_id, day, state)
LEFT JOIN unknown AS u USING (vendor, tenant_id, agent_id, day)
ORDER BY vendor, tenant_id, agent_id, day, state;
