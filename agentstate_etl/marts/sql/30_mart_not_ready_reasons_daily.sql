-- Not-ready time by reason (the vendor's) and its standard group; an episode counts on the day
-- it began.
CREATE TABLE mart_not_ready_reasons_daily AS
SELECT vendor, tenant_id, agent_id, day, reason, reason_group,
       sum(piece_ms) / 1000.0 AS not_ready_s,
       sum(episodes)::BIGINT AS episodes
FROM report_day_state_time
WHERE state = 'NOT_READY'
GROUP BY vendor, tenant_id, agent_id, day, reason, reason_group
ORDER BY vendor, tenant_id, agent_id, day, reason;
