-- CxEngage intervals as canonical events: the interval's own `end` is the stated end.
SELECT 'cxengage' AS vendor, $tenant_id AS tenant_id,
       r.agentId AS agent_id, r.agentName AS agent_name, r.state AS vendor_state,
       coalesce(m.state, 'UNKNOWN') AS state,
       coalesce(r.reasonName, m.default_reason) AS reason,
       r.start_ts, r.end_ts, r.file_row_number AS seq
FROM read_parquet($raw_file, file_row_number = true) AS r
LEFT JOIN state_mapping AS m ON m.vendor_state = r.state
