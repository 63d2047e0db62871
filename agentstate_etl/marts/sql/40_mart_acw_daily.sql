-- ACW per agent-day, one row per totals row; acw_s is summed from the pieces on its own (not
-- copied from the totals), so the check that the two agree can fail. Episodes are ACW
-- occurrences that began that day; the average is NULL without episodes.
CREATE TABLE mart_acw_daily AS
WITH acw AS (
    SELECT vendor, tenant_id, agent_id, day,
           sum(piece_ms) / 1000.0 AS acw_s,
           sum(episodes)::BIGINT AS acw_episodes
    FROM report_day_state_time
    WHERE state = 'ACW'
    GROUP BY vendor, tenant_id, agent_id, day
)
SELECT t.vendor, t.tenant_id, t.agent_id, t.day,
       coalesce(a.acw_s, 0.0) AS acw_s,
       coalesce(a.acw_episodes, 0) AS acw_episodes,
       CASE WHEN coalesce(a.acw_episodes, 0) > 0 THEN a.acw_s / a.acw_episodes END AS avg_acw_s
FROM mart_state_totals_daily AS t
LEFT JOIN acw AS a USING (vendor, tenant_id, agent_id, day)
ORDER BY t.vendor, t.tenant_id, t.agent_id, t.day;
