-- ACW per vendor tenant and report day, all agents together: seconds, episodes that began that
-- day, seconds per episode (as mart_acw_daily defines it), and ACW's share of handle time.
SELECT a.vendor, a.tenant_id, a.day,
       sum(a.acw_s) AS acw_s,
       sum(a.acw_episodes)::BIGINT AS acw_episodes,
       sum(a.acw_s) / nullif(sum(a.acw_episodes), 0) AS avg_acw_s,
       100 * sum(t.acw_s) / nullif(sum(t.busy_s + t.acw_s), 0) AS acw_share_pct
FROM mart_acw_daily AS a
JOIN mart_state_totals_daily AS t USING (vendor, tenant_id, agent_id, day)
WHERE a.day >= $start AND a.day < $end
GROUP BY ALL
ORDER BY a.vendor, a.tenant_id, a.day;
