-- Adherence marts (docs/warehouse.md) made up from the totals mart, so the report's adherence section
-- can be tested before (and independently of) the real adherence build. Replaces any real ones.
CREATE OR REPLACE TABLE mart_adherence_daily AS
WITH scheduled AS (
    SELECT vendor, tenant_id, agent_id, day, ready_s + busy_s + acw_s AS worked_s,
           CAST(8 * 3600 AS DOUBLE) AS scheduled_s, CAST(7 * 3600 AS DOUBLE) AS scheduled_open_s,
           CAST(0.70 + 0.29 * (hash(agent_id, day) % 100) / 100 AS DOUBLE) AS share
    FROM mart_state_totals_daily
)
SELECT vendor, tenant_id, agent_id, day, scheduled_s,
       round(scheduled_s * share, 3) AS in_adherence_s,
       scheduled_s - round(scheduled_s * share, 3) AS out_of_adherence_s,
       100 * round(scheduled_s * share, 3) / scheduled_s AS adherence_pct,
       scheduled_open_s, worked_s, 100 * worked_s / scheduled_open_s AS conformance_pct
FROM scheduled;

CREATE OR REPLACE TABLE mart_adherence_exceptions AS
SELECT a.vendor, a.tenant_id, a.agent_id, x.activity,
       CAST(a.day AS TIMESTAMP) + INTERVAL 12 HOUR AS start_ts,
       CAST(a.day AS TIMESTAMP) + INTERVAL 12 HOUR
           + to_milliseconds(CAST(a.out_of_adherence_s * x.share * 1000 AS BIGINT)) AS end_ts,
       a.out_of_adherence_s * x.share AS duration_s, x.actual_state, x.actual_reason, a.day
FROM mart_adherence_daily AS a
CROSS JOIN (VALUES ('Open', 0.6::DOUBLE, 'NOT_READY', 'Lunch'), ('Lunch', 0.3, 'READY', NULL),
                   ('Break', 0.1, 'LOGGED_OUT', NULL)) AS x(activity, share, actual_state, actual_reason);
