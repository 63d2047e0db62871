-- Adherence rolled up by site (dim_agents.site_id, from the vendor's snapshot where it gives
-- one): agents, scheduled and in-adherence seconds over the range.
SELECT a.vendor, a.tenant_id, coalesce(d.site_id, '(no site)') AS site,
       count(DISTINCT a.agent_id) AS agents,
       CAST(sum(a.scheduled_s) AS DOUBLE) AS scheduled_s,
       CAST(sum(a.in_adherence_s) AS DOUBLE) AS in_adherence_s
FROM mart_adherence_daily AS a
LEFT JOIN dim_agents AS d USING (vendor, tenant_id, agent_id)
WHERE a.day >= $start AND a.day < $end
GROUP BY ALL
ORDER BY a.vendor, a.tenant_id, site;
