-- One row per exception (docs/warehouse.md, adherence): a maximal span out of adherence within a segment lasting
-- at least getvariable('adherence_threshold_s'); shorter spans count as in adherence.
-- `day` is the report day of start_ts; is_complete is that day's (as in the totals). No ORDER
-- BY: the views read many files in no order anyway, and sorting ~100,000 rows by text keys (2,000 agents x 7 days) cost a sixth of the mart.
CREATE TABLE mart_adherence_exceptions AS
SELECT a.vendor, a.tenant_id, a.agent_id, a.activity, a.start_ts, a.end_ts,
       a.span_ms / 1000.0 AS duration_s, a.actual_state, a.actual_reason, a.day,
       coalesce(l.is_complete, false) AS is_complete
FROM adherence_spans AS a
LEFT JOIN report_day_landed AS l USING (vendor, tenant_id, day)
WHERE span_ms >= getvariable('adherence_threshold_s') * 1000;
