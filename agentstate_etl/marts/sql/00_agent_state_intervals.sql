-- Every landed partition's canonical occurrences (SPEC §6 agent_state_intervals).
CREATE TABLE agent_state_intervals AS
SELECT vendor, tenant_id, agent_id, agent_name, state, vendor_state, reason,
       start_ts, end_ts, duration_s, partition_date, is_carry_in, is_open
FROM lake_intervals;
