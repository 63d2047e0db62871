-- One row per exception (docs/warehouse.md, adherence): a maximal span out of adherence within a segment lasting
-- at least getvariable('adherence_threshold_s'); shorter spans count as in adherence.
-- `day` is the report day of start_ts. No ORDER BY: the views read many files in no order anyway,
-- and sorting ~100,000 rows by text keys (2,000 agents x 7 days) cost a sixth of the mart.
CREATE TABLE mart_adherence_exceptions AS
SELECT vendor, tenant_id, agent_id, activity, start_ts, end_ts, span_ms / 1000.0 AS duration_s,
       actual_state, actual_reason, day
FROM adherence_spans
WHERE span_ms >= getvariable('adherence_threshold_s') * 1000;
