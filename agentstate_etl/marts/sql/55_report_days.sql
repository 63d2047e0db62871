-- The report zone's days (the session TimeZone) that any interval or schedule segment touches,
-- each from its local midnight to the next (so a DST day has 23 or 25 hours), computed as the
-- calendar of 10_report_day_state_time: the interval and adherence marts cut days here.
CREATE TEMP TABLE report_days AS
SELECT CAST(local_midnight AS DATE) AS day, local_midnight,
       local_midnight + INTERVAL 1 DAY AS next_midnight
FROM (
    SELECT unnest(generate_series(date_trunc('day', min(start_ts)),
                                  date_trunc('day', max(end_ts)),
                                  INTERVAL 1 DAY)) AS local_midnight
    FROM (
        SELECT start_ts, end_ts FROM agent_state_intervals
        UNION ALL
        SELECT start_ts, end_ts FROM schedule_segments
    )
);
