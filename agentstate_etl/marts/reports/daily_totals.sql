-- Per-agent daily totals in hours, for people reading a terminal.
SELECT vendor, agent_id, day,
       round(ready_s / 3600, 2) AS ready_h,
       round(not_ready_s / 3600, 2) AS not_ready_h,
       round(busy_s / 3600, 2) AS busy_h,
       round(acw_s / 3600, 2) AS acw_h,
       round(unknown_s / 3600, 2) AS unknown_h,
       round(logged_in_s / 3600, 2) AS logged_in_h
FROM mart_state_totals_daily
ORDER BY vendor, agent_id, day;
