-- Adherence and conformance per agent and report day with scheduled time (docs/warehouse.md, adherence).
-- Segments and exceptions are split at the report zone's midnights (report_days) like the
-- occurrences in 10_report_day_state_time; out_of_adherence_s is the part of the
-- day's exceptions (mart_adherence_exceptions, so at or above the threshold) within the day.
-- scheduled_open_s: scheduled time of activities that allow READY; worked_s: ready + busy +
-- ACW seconds of the day from mart_state_totals_daily (0 without a row there).
-- unknown_activity_s: scheduled time of activities the activity mapping does not name.
-- Only scheduled time that was extracted counts (68_extracted_segments); is_complete: every UTC
-- partition the report day spans is landed whole and for good (as in the totals).
CREATE TABLE mart_adherence_daily AS
WITH activities AS (
    SELECT activity, bool_or(state = 'READY') AS allows_ready
    FROM activity_mapping
    GROUP BY activity
), scheduled AS (
    SELECT s.vendor, s.tenant_id, s.agent_id, d.day,
           coalesce(a.allows_ready, false) AS allows_ready, a.activity IS NULL AS unknown_activity,
           epoch_ms(least(s.end_ts, d.next_midnight))
               - epoch_ms(greatest(s.start_ts, d.local_midnight)) AS ms
    FROM extracted_segments AS s
    JOIN report_days AS d ON d.local_midnight < s.end_ts AND s.start_ts < d.next_midnight
    LEFT JOIN activities AS a USING (activity)
    WHERE s.start_ts < s.end_ts
), scheduled_daily AS (
    SELECT vendor, tenant_id, agent_id, day,
           sum(ms) AS scheduled_ms,
           coalesce(sum(ms) FILTER (WHERE allows_ready), 0) AS open_ms,
           coalesce(sum(ms) FILTER (WHERE unknown_activity), 0) AS unknown_ms
    FROM scheduled
    GROUP BY vendor, tenant_id, agent_id, day
), outside_daily AS (
    SELECT e.vendor, e.tenant_id, e.agent_id, d.day,
           sum(epoch_ms(least(e.end_ts, d.next_midnight))
               - epoch_ms(greatest(e.start_ts, d.local_midnight))) AS out_ms
    FROM mart_adherence_exceptions AS e
    JOIN report_days AS d ON d.local_midnight < e.end_ts AND e.start_ts < d.next_midnight
    GROUP BY ALL
), joined AS (
    SELECT s.*, coalesce(o.out_ms, 0) AS out_ms,
           coalesce(t.ready_s + t.busy_s + t.acw_s, 0.0) AS worked_s
    FROM scheduled_daily AS s
    LEFT JOIN outside_daily AS o USING (vendor, tenant_id, agent_id, day)
    LEFT JOIN mart_state_totals_daily AS t USING (vendor, tenant_id, agent_id, day)
)
SELECT vendor, tenant_id, agent_id, day,
       scheduled_ms / 1000.0 AS scheduled_s,
       (scheduled_ms - out_ms) / 1000.0 AS in_adherence_s,
       out_ms / 1000.0 AS out_of_adherence_s,
       100.0 * (scheduled_ms - out_ms) / scheduled_ms AS adherence_pct,
       open_ms / 1000.0 AS scheduled_open_s,
       worked_s,
       CASE WHEN open_ms > 0 THEN 100.0 * worked_s / (open_ms / 1000.0) END AS conformance_pct,
       unknown_ms / 1000.0 AS unknown_activity_s,
       coalesce(l.is_complete, false) AS is_complete
FROM joined
LEFT JOIN report_day_landed AS l USING (vendor, tenant_id, day)
WHERE scheduled_ms > 0
ORDER BY vendor, tenant_id, agent_id, day;
