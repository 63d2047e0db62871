-- Schedule adherence and conformance per vendor over every report day with scheduled time.
SELECT vendor,
       count(DISTINCT agent_id) AS agents,
       count(*) AS agent_days,
       round(sum(scheduled_s) / 3600, 1) AS scheduled_h,
       round(100 * sum(in_adherence_s) / sum(scheduled_s), 1) AS adherence_pct,
       round(100 * sum(worked_s) / nullif(sum(scheduled_open_s), 0), 1) AS conformance_pct,
       round(sum(unknown_activity_s) / 3600, 1) AS unknown_activity_h
FROM mart_adherence_daily
GROUP BY vendor
ORDER BY vendor;
