-- Kore.ai activity events carry no end: each lasts until the agent's next event.
SELECT 'koreai' AS vendor, $tenant_id AS tenant_id,
       r.AgentId AS agent_id, NULL::VARCHAR AS agent_name, r.Activity AS vendor_state,
       coalesce(m.state, 'UNKNOWN') AS state,
       coalesce(r.ReasonCode, m.default_reason) AS reason,
       r.start_ts, NULL::TIMESTAMPTZ AS end_ts, r.file_row_number AS seq
FROM read_parquet($raw_file, file_row_number = true) AS r
LEFT JOIN state_mapping AS m ON m.vendor_state = r.Activity
