-- The report days the warehouse holds: days of the zone the marts were built in.
SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS agent_days
FROM mart_state_totals_daily;
