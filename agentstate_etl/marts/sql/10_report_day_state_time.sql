-- Time per agent, report-zone day, state and reason: occurrences are split at midnights of
-- the report zone (the session TimeZone), so a DST day has 23 or 25 hours, and the pieces
-- summed in integer milliseconds. Zero-length occurrences stay whole, in the day they start.
-- `episodes` counts the occurrences that began that day (not carried in).
-- The zone's calendar is computed once (a row per local day) and range-joined to the
-- occurrences, rather than truncating every timestamp in the zone; the pieces are summed as
-- they stream, so the marts below read a table of agent-days, not of occurrences.
CREATE TEMP TABLE report_day_state_time AS
WITH calendar AS (
    SELECT local_midnight, local_midnight + INTERVAL 1 DAY AS next_midnight
    FROM (
        SELECT unnest(generate_series(date_trunc('day', min(start_ts)),
                                      date_trunc('day', max(end_ts)),
                                      INTERVAL 1 DAY)) AS local_midnight
        FROM agent_state_intervals
    )
), pieces AS (
    SELECT i.vendor, i.tenant_id, i.agent_id, i.state, i.reason, i.reason_group, i.is_carry_in, i.start_ts,
           CAST(c.local_midnight AS DATE) AS day,
           greatest(i.start_ts, c.local_midnight) AS piece_start,
           least(i.end_ts, c.next_midnight) AS piece_end
    FROM agent_state_intervals AS i
    JOIN calendar AS c ON c.local_midnight < i.end_ts AND i.start_ts < c.next_midnight
    WHERE i.start_ts < i.end_ts
    UNION ALL
    SELECT i.vendor, i.tenant_id, i.agent_id, i.state, i.reason, i.reason_group, i.is_carry_in, i.start_ts,
           CAST(c.local_midnight AS DATE) AS day, i.start_ts AS piece_start,
           i.end_ts AS piece_end
    FROM agent_state_intervals AS i
    JOIN calendar AS c ON c.local_midnight <= i.start_ts AND i.start_ts < c.next_midnight
    WHERE i.start_ts = i.end_ts
)
SELECT vendor, tenant_id, agent_id, day, state, reason, reason_group,
       sum(epoch_ms(piece_end) - epoch_ms(piece_start))::BIGINT AS piece_ms,
       count(*) FILTER (WHERE NOT is_carry_in AND piece_start = start_ts) AS episodes
FROM pieces
GROUP BY vendor, tenant_id, agent_id, day, state, reason, reason_group;
