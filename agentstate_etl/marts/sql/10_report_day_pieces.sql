-- Occurrences split at midnights of the report zone (the session TimeZone), so a DST day
-- has 23 or 25 hours. Zero-length occurrences stay whole, in the day they start.
-- `began` marks the piece where an occurrence started (it counts as an episode there).
CREATE TEMP TABLE report_day_pieces AS
WITH days AS (
    SELECT i.*,
           unnest(generate_series(date_trunc('day', i.start_ts),
                                  date_trunc('day', i.end_ts),
                                  INTERVAL 1 DAY)) AS local_midnight
    FROM agent_state_intervals AS i
), pieces AS (
    SELECT vendor, tenant_id, agent_id, state, reason, is_carry_in, start_ts, end_ts,
           CAST(local_midnight AS DATE) AS day,
           greatest(start_ts, local_midnight) AS piece_start,
           least(end_ts, local_midnight + INTERVAL 1 DAY) AS piece_end
    FROM days
)
SELECT vendor, tenant_id, agent_id, state, reason, day,
       epoch_ms(piece_end) - epoch_ms(piece_start) AS piece_ms,
       (NOT is_carry_in AND piece_start = start_ts) AS began
FROM pieces
WHERE piece_end > piece_start OR start_ts = end_ts;
