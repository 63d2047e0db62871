-- CXone state events: `duration` (ms until the agent's next event) states the end when known.
SELECT 'cxone' AS vendor, $tenant_id AS tenant_id,
       r.agentId AS agent_id, r.agentName AS agent_name, r.state AS vendor_state,
       coalesce(m.state, 'UNKNOWN') AS state,
       coalesce(r.subState, m.default_reason) AS reason,
       r.start_ts, r.start_ts + to_milliseconds(r.duration) AS end_ts, r.file_row_number AS seq
FROM read_parquet($raw_file, file_row_number = true) AS r
LEFT JOIN state_mapping AS m ON m.vendor_state = r.state
