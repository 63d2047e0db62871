-- ACW per agent-day: one row per totals row, so acw_s always equals the totals mart;
-- episodes are ACW occurrences that began that day; the average is NULL without episodes.
CREATE TABLE mart_acw_daily AS
WITH episodes AS (
    SELECT vendor, tenant_id, agent_id, day, sum(episodes)::BIGINT AS acw_episodes
    FROM report_day_state_time
    WHERE state = 'ACW' AND episodes > 0
    GROUP BY vendor, tenant_id, agent_id, day
)
SELECT t.vendor, t.tenant_id, t.agent_id, t.day, t.acw_s,
       coalesce(e.acw_episodes, 0) AS acw_episodes,
       CASE WHEN coalesce(e.acw_episodes, 0) > 0 THEN t.acw_s / e.acw_episodes END AS avg_acw_s
FROM mart_state_totals_daily AS t
LEFT JOIN episodes AS e USING (vendor, tenant_id, agent_id, day)
ORDER BY t.vendor, t.tenant_id, t.agent_id, t.day;
