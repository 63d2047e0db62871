-- Where out-of-adherence time went: scheduled activity against what the agents did instead.
SELECT vendor, activity, actual_state, coalesce(actual_reason, '') AS actual_reason,
       count(*) AS exceptions,
       round(sum(duration_s) / 3600, 2) AS hours
FROM mart_adherence_exceptions
GROUP BY ALL
ORDER BY hours DESC
LIMIT 15;
