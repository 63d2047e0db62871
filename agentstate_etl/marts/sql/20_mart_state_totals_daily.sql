-- Seconds per canonical state per agent and report-zone day; LOGGED_OUT is not logged-in time.
-- Sums are taken in integer milliseconds, then turned into seconds, so they are exact.
-- is_complete: every UTC partition the report day spans is landed for the tenant.
CREATE TABLE mart_state_totals_daily AS
SELECT t.vendor, t.tenant_id, t.agent_id, t.day,
       t.ready_s, t.not_ready_s, t.busy_s, t.acw_s, t.unknown_s, t.logged_in_s,
       coalesce(l.is_complete, false) AS is_complete
FROM (
    SELECT vendor, tenant_id, agent_id, day,
           coalesce(sum(piece_ms) FILTER (WHERE state = 'READY'), 0) / 1000.0 AS ready_s,
           coalesce(sum(piece_ms) FILTER (WHERE state = 'NOT_READY'), 0) / 1000.0 AS not_ready_s,
           coalesce(sum(piece_ms) FILTER (WHERE state = 'BUSY'), 0) / 1000.0 AS busy_s,
           coalesce(sum(piece_ms) FILTER (WHERE state = 'ACW'), 0) / 1000.0 AS acw_s,
           coalesce(sum(piece_ms) FILTER (WHERE state = 'UNKNOWN'), 0) / 1000.0 AS unknown_s,
           sum(piece_ms) / 1000.0 AS logged_in_s
    FROM report_day_state_time
    WHERE state <> 'LOGGED_OUT'
    GROUP BY vendor, tenant_id, agent_id, day
    HAVING sum(piece_ms) > 0
) AS t
LEFT JOIN report_day_landed AS l USING (vendor, tenant_id, day)
ORDER BY t.vendor, t.tenant_id, t.agent_id, t.day;
