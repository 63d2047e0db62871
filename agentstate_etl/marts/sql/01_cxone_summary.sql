-- The vendor's own summary report (CXone), one row per summary interval, and which
-- agent-days were asked for (an agent asked and given nothing is still an agent asked).
CREATE TABLE vendor_summary_intervals AS
SELECT vendor, tenant_id, agent_id, partition_date, state, vendor_state, reason,
       start_ts, end_ts, summary_s
FROM lake_summary;

CREATE TABLE vendor_summary_requests AS
SELECT vendor, tenant_id, agent_id, partition_date, intervals
FROM lake_summary_requests;
