-- Agent-days with scheduled time in activities the activity mapping does not know: that time
-- is never in adherence, which is rarely what the schedule meant.
SELECT vendor, tenant_id, agent_id, day, unknown_activity_s, scheduled_s
FROM mart_adherence_daily
WHERE unknown_activity_s > 0
ORDER BY vendor, tenant_id, agent_id, day;
