-- Real-time adherence as of each UTC day's horizon (docs/collection.md, rta_now): per tenant,
-- `as_of` is the last instant its partition holds (the last poll, or the day's end), and per
-- agent logged in or scheduled then: the state held at `as_of` and since when (across
-- midnight), the scheduled activity, and whether the agent is in adherence. Out of adherence
-- means inside a span of adherence_spans that has lasted at least the threshold by `as_of`
-- (so a finished day agrees with mart_adherence_exceptions); unscheduled: NULL. The view
-- rta_now keeps each tenant's latest `as_of`.
CREATE TABLE rta_snapshots AS
WITH horizons AS (
    SELECT vendor, tenant_id, partition_date, max(end_ts) AS as_of
    FROM agent_state_intervals
    WHERE list_contains(getvariable('utc_days'), partition_date)
    GROUP BY ALL
), pieces AS (
    -- each agent's pieces in order, across partitions, and whether a piece begins a run
    -- (a state or reason other than the piece before it, or not joined to it)
    SELECT vendor, tenant_id, agent_id, agent_name, state, reason, start_ts, end_ts,
           partition_date, row_number() OVER w AS piece,
           NOT coalesce(lag(end_ts) OVER w = start_ts AND lag(state) OVER w = state
                        AND lag(reason) OVER w IS NOT DISTINCT FROM reason, false) AS starts_run
    FROM agent_state_intervals
    WINDOW w AS (PARTITION BY vendor, tenant_id, agent_id ORDER BY start_ts, end_ts)
), holding AS (
    -- the piece holding the instant just before as_of (a zero-length marker holds none)
    SELECT h.vendor, h.tenant_id, h.partition_date, h.as_of, p.agent_id, p.agent_name,
           p.state, p.reason, p.piece
    FROM horizons AS h
    JOIN pieces AS p
      ON p.vendor = h.vendor AND p.tenant_id = h.tenant_id AND p.partition_date = h.partition_date
     AND p.start_ts < h.as_of AND p.end_ts >= h.as_of
    QUALIFY row_number() OVER (
        PARTITION BY h.vendor, h.tenant_id, h.partition_date, p.agent_id
        ORDER BY p.start_ts DESC) = 1
), current_state AS (
    -- in that state since the start of the last run begun at or before the holding piece
    SELECT h.vendor, h.tenant_id, h.partition_date, h.as_of, h.agent_id, h.agent_name,
           h.state, h.reason, max(r.start_ts) AS state_since
    FROM holding AS h
    JOIN pieces AS r
      ON r.vendor = h.vendor AND r.tenant_id = h.tenant_id AND r.agent_id = h.agent_id
     AND r.piece <= h.piece AND r.starts_run
    GROUP BY ALL
), scheduled AS (
    SELECT h.vendor, h.tenant_id, h.partition_date, h.as_of, s.agent_id, s.activity
    FROM horizons AS h
    JOIN schedule_segments AS s
      ON s.vendor = h.vendor AND s.tenant_id = h.tenant_id
     AND s.start_ts < h.as_of AND h.as_of <= s.end_ts
    QUALIFY row_number() OVER (
        PARTITION BY h.vendor, h.tenant_id, h.partition_date, s.agent_id
        ORDER BY s.start_ts DESC) = 1
), agents AS (
    SELECT vendor, tenant_id, partition_date, as_of, agent_id
    FROM current_state WHERE state <> 'LOGGED_OUT'
    UNION
    SELECT vendor, tenant_id, partition_date, as_of, agent_id FROM scheduled
), out_now AS (
    SELECT a.vendor, a.tenant_id, a.partition_date, a.agent_id, min(x.start_ts) AS out_since
    FROM agents AS a
    JOIN adherence_spans AS x
      ON x.vendor = a.vendor AND x.tenant_id = a.tenant_id AND x.agent_id = a.agent_id
     AND x.start_ts < a.as_of AND a.as_of <= x.end_ts
     AND epoch_ms(a.as_of) - epoch_ms(x.start_ts) >= getvariable('adherence_threshold_s') * 1000
    GROUP BY ALL
)
SELECT a.vendor, a.tenant_id, a.agent_id, c.agent_name,
       coalesce(c.state, 'LOGGED_OUT') AS state, c.reason, c.state_since,
       s.activity AS scheduled_activity,
       CASE WHEN s.activity IS NULL THEN NULL ELSE o.out_since IS NULL END AS in_adherence,
       o.out_since AS out_of_adherence_since,
       a.as_of, a.partition_date
FROM agents AS a
LEFT JOIN current_state AS c USING (vendor, tenant_id, partition_date, agent_id)
LEFT JOIN scheduled AS s USING (vendor, tenant_id, partition_date, agent_id)
LEFT JOIN out_now AS o USING (vendor, tenant_id, partition_date, agent_id);
