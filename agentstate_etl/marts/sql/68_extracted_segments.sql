-- The schedule segments cut to the time that was extracted (docs/warehouse.md, adherence): per
-- tenant, each landed UTC-day partition from its day's start to its horizon (partition_coverage:
-- the day's end, or the last poll's). Scheduled time no landing covers
-- (days not loaded, the rest of today) is unknown, not LOGGED_OUT: it counts in neither
-- adherence mart. The covered pieces of one segment that follow each other join again, so a
-- segment running past midnight stays one.
CREATE TEMP TABLE extracted_segments AS
WITH coverage AS (
    SELECT vendor, tenant_id,
           CAST(partition_date - DATE '1970-01-01' AS BIGINT) * 86400000 AS day_start,
           epoch_ms(horizon) AS horizon
    FROM partition_coverage
), segments AS (
    SELECT row_number() OVER () AS segment, vendor, tenant_id, agent_id, activity,
           epoch_ms(start_ts) AS seg_start, epoch_ms(end_ts) AS seg_end
    FROM schedule_segments
    WHERE start_ts < end_ts
), pieces AS (
    SELECT g.segment, g.vendor, g.tenant_id, g.agent_id, g.activity,
           greatest(g.seg_start, c.day_start) AS piece_start,
           least(g.seg_end, c.horizon) AS piece_end
    FROM segments AS g
    JOIN coverage AS c
      ON c.vendor = g.vendor AND c.tenant_id = g.tenant_id
     AND c.day_start < g.seg_end AND g.seg_start < c.horizon
), islands AS (
    SELECT *, sum(starts) OVER (
                  PARTITION BY segment ORDER BY piece_start ROWS UNBOUNDED PRECEDING) AS island
    FROM (
        SELECT *, CASE WHEN lag(piece_end) OVER (PARTITION BY segment ORDER BY piece_start)
                            = piece_start THEN 0 ELSE 1 END AS starts
        FROM pieces
        WHERE piece_start < piece_end
    )
)
SELECT vendor, tenant_id, agent_id, activity,
       make_timestamptz(min(piece_start) * 1000) AS start_ts,
       make_timestamptz(max(piece_end) * 1000) AS end_ts
FROM islands
GROUP BY segment, island, vendor, tenant_id, agent_id, activity;
