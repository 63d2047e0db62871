-- How many agent-day-states each reconciliation status has, per vendor.
SELECT vendor, status, count(*) AS rows, round(sum(abs(diff_s)), 3) AS total_abs_diff_s
FROM mart_reconciliation
GROUP BY vendor, status
ORDER BY vendor, status;
