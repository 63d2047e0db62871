-- Every maximal span out of adherence within a schedule segment (docs/warehouse.md, adherence), before the
-- threshold: what both adherence marts are built from.
-- Inputs: extracted_segments (the landed, valid segments, cut to the extracted time), activity_mapping (activity, state,
-- reason; '*' = any reason) and agent_state_intervals. At an instant of a segment the agent
-- is in adherence when its actual state, and for a reason-specific rule its reason or the
-- reason's group (reason_mapping: PAID_BREAK and BRK are Break), is allowed by the activity;
-- an instant no interval covers is LOGGED_OUT (no data).
-- An activity the mapping does not name allows nothing. A span ends where the segment ends,
-- but not at midnight: a span of a segment running past midnight takes both days' intervals.
-- `actual_state`/`actual_reason` held longest within the span (ties: the earlier one).
-- Times are integer milliseconds throughout, so durations are exact. Only the pieces out of
-- adherence are windowed: a piece in adherence between two of them leaves a gap, which is
-- enough to keep them in separate spans.
CREATE TEMP TABLE adherence_spans AS
WITH segments AS (
    SELECT row_number() OVER () AS segment_id, vendor, tenant_id, agent_id, activity,
           epoch_ms(start_ts) AS segment_start, epoch_ms(end_ts) AS segment_end
    FROM extracted_segments
    WHERE start_ts < end_ts
), segment_partitions AS (
    -- each UTC-day partition a segment overlaps (a partition's intervals lie within its
    -- day), so intervals are joined on an equality key rather than by time range alone
    SELECT segment_id, vendor, tenant_id, agent_id, activity, segment_start, segment_end,
           DATE '1970-01-01' + CAST(utc_day AS INTEGER) AS partition_date
    FROM (
        SELECT *, unnest(range(segment_start // 86400000, (segment_end - 1) // 86400000 + 1)) AS utc_day
        FROM segments
    )
), actual AS MATERIALIZED (
    -- what the agent did within each segment, judged; narrow, as it is read three times
    SELECT p.segment_id, i.state, i.reason,
           greatest(epoch_ms(i.start_ts), p.segment_start) AS piece_start,
           least(epoch_ms(i.end_ts), p.segment_end) AS piece_end,
           any_reason.activity IS NOT NULL OR this_reason.activity IS NOT NULL AS in_adherence
    FROM segment_partitions AS p
    JOIN agent_state_intervals AS i
      ON i.vendor = p.vendor AND i.tenant_id = p.tenant_id AND i.agent_id = p.agent_id
     AND i.partition_date = p.partition_date
     AND epoch_ms(i.start_ts) < p.segment_end AND p.segment_start < epoch_ms(i.end_ts)
    LEFT JOIN (SELECT DISTINCT activity, state FROM activity_mapping WHERE reason = '*') AS any_reason
      ON any_reason.activity = p.activity AND any_reason.state = i.state
    LEFT JOIN (SELECT DISTINCT activity, state, reason FROM activity_mapping WHERE reason <> '*') AS this_reason
      ON this_reason.activity = p.activity AND this_reason.state = i.state
     AND this_reason.reason IN (i.reason, i.reason_group)
    WHERE i.start_ts < i.end_ts  -- a zero-length occurrence holds no time
), holes_out AS (
    -- segments with time no interval covers, where LOGGED_OUT is not allowed (where it is,
    -- a hole is in adherence and needs no row)
    SELECT s.segment_id, s.segment_start, s.segment_end
    FROM segments AS s
    LEFT JOIN (
        SELECT segment_id, sum(piece_end - piece_start) AS covered_ms FROM actual GROUP BY segment_id
    ) AS c USING (segment_id)
    WHERE coalesce(c.covered_ms, 0) < s.segment_end - s.segment_start
      AND s.activity NOT IN (
          SELECT activity FROM activity_mapping WHERE state = 'LOGGED_OUT' AND reason = '*')
), no_data AS (
    -- the holes: before each piece, and before a zero-length marker at the segment's end
    -- (the whole segment when it has no piece at all)
    SELECT segment_id, 'LOGGED_OUT' AS state, NULL AS reason,
           hole_start AS piece_start, next_start AS piece_end, false AS in_adherence
    FROM (
        SELECT segment_id, next_start,
               lag(piece_end, 1, segment_start) OVER (
                   PARTITION BY segment_id ORDER BY next_start) AS hole_start
        FROM (
            SELECT h.segment_id, h.segment_start, a.piece_start AS next_start, a.piece_end
            FROM holes_out AS h JOIN actual AS a USING (segment_id)
            UNION ALL
            SELECT segment_id, segment_start, segment_end, segment_end FROM holes_out
        )
    )
    WHERE hole_start < next_start
), numbered AS (
    -- a span goes on while each out-of-adherence piece starts where the previous one ended
    SELECT *, sum(starts_span) OVER (
                  PARTITION BY segment_id ORDER BY piece_start ROWS UNBOUNDED PRECEDING) AS span_number
    FROM (
        SELECT *, CASE WHEN lag(piece_end) OVER (PARTITION BY segment_id ORDER BY piece_start) = piece_start
                       THEN 0 ELSE 1 END AS starts_span
        FROM (SELECT * FROM actual WHERE NOT in_adherence UNION ALL SELECT * FROM no_data)
    )
), by_state AS (
    SELECT segment_id, span_number, state, reason,
           sum(piece_end - piece_start) AS state_ms,
           min(piece_start) AS first_start,
           max(piece_end) AS last_end
    FROM numbered
    GROUP BY segment_id, span_number, state, reason
), spans AS (
    -- the longest-held state wins, the earlier one on a tie: one HUGEINT key orders both
    -- (first_start < 10^13 ms, until the year 2286)
    SELECT segment_id, min(first_start) AS span_start, max(last_end) AS span_end,
           sum(state_ms) AS span_ms,
           arg_max({'state': state, 'reason': reason},
                   CAST(state_ms AS HUGEINT) * 10000000000000 - first_start) AS longest
    FROM by_state
    GROUP BY segment_id, span_number
)
SELECT s.vendor, s.tenant_id, s.agent_id, s.activity,
       make_timestamptz(p.span_start * 1000) AS start_ts,
       make_timestamptz(p.span_end * 1000) AS end_ts,
       p.span_ms,
       p.longest.state AS actual_state,
       p.longest.reason AS actual_reason,
       CAST(make_timestamptz(p.span_start * 1000) AS DATE) AS day
FROM spans AS p
JOIN segments AS s USING (segment_id);
