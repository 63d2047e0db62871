-- Canonical events (relation `events`, the whole fetch window) -> the occurrences one UTC-day
-- partition owns (SPEC §5, docs/DESIGN.md). All time arithmetic is in integer epoch ms.
-- Per agent, ordered by time and then API order (`seq`), in one window pass:
--  * a record identical to the agent's next one (time, state, reason, stated end) is a
--    repeat: only the last copy is kept, so duplicates count once;
--  * an occurrence ends at its stated end capped by the next event, else at the next event,
--    else it is open;
--  * pieces are clipped to [$d0, $bound), $bound = min(day end, extraction time);
--    zero-length occurrences stay, in the day they start.
WITH ordered AS (
    SELECT *, epoch_ms(start_ts) AS s, epoch_ms(end_ts) AS stated_end
    FROM events
), linked AS (
    SELECT *,
           lead(s) OVER w AS next_s,
           coalesce(
               s = lead(s) OVER w
               AND vendor_state IS NOT DISTINCT FROM lead(vendor_state) OVER w
               AND reason IS NOT DISTINCT FROM lead(reason) OVER w
               AND stated_end IS NOT DISTINCT FROM lead(stated_end) OVER w,
               false
           ) AS repeated
    FROM ordered
    WINDOW w AS (PARTITION BY agent_id ORDER BY s, seq)
), ended AS (
    SELECT *,
           CASE WHEN stated_end IS NULL OR next_s < stated_end THEN next_s
                ELSE stated_end END AS true_end
    FROM linked
    WHERE NOT repeated
), clipped AS (
    SELECT *,
           greatest(s, $d0) AS piece_start,
           least(coalesce(true_end, 9223372036854775807), $bound) AS piece_end,
           coalesce(true_end = s AND s >= $d0 AND s < $d1 AND s <= $bound, false) AS zero_length
    FROM ended
)
SELECT vendor, tenant_id, agent_id, agent_name, state, vendor_state, reason,
       epoch_ms(piece_start) AS start_ts,
       epoch_ms(CASE WHEN zero_length THEN s ELSE piece_end END) AS end_ts,
       (CASE WHEN zero_length THEN 0 ELSE piece_end - piece_start END) / 1000.0 AS duration_s,
       $day::DATE AS partition_date,
       s < $d0 AS is_carry_in,
       coalesce(true_end > $bound, true) AS is_open
FROM clipped
WHERE piece_end > piece_start OR zero_length
ORDER BY agent_id, s, seq
