-- The canonical occurrences of the partitions this update reads (docs/warehouse.md agent_state_intervals),
-- with the standard reason group (the reason itself where the mapping has none).
CREATE TABLE agent_state_intervals AS
SELECT i.vendor::VARCHAR AS vendor, i.tenant_id::VARCHAR AS tenant_id,
       i.agent_id::VARCHAR AS agent_id, i.agent_name::VARCHAR AS agent_name,
       i.state::VARCHAR AS state, i.vendor_state::VARCHAR AS vendor_state,
       i.reason::VARCHAR AS reason,
       coalesce(m.reason_group, i.reason::VARCHAR) AS reason_group,
       i.start_ts, i.end_ts, i.duration_s, i.partition_date, i.is_carry_in, i.is_open
FROM lake_intervals AS i
LEFT JOIN reason_mapping AS m ON m.vendor = i.vendor::VARCHAR AND m.reason = i.reason::VARCHAR;
