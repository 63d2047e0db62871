"""Asset checks on the analytics marts (interval totals, adherence), querying the warehouse."""

import dagster as dg

from assets.warehouse import _rows_check

analytics_checks = [
    _rows_check(
        "intervals_add_up_to_day",
        "The intervals of each agent-day in mart_state_totals_interval add up to its row of "
        "mart_state_totals_daily, state by state (and neither side has agent-days the other lacks)",
        dg.AssetCheckSeverity.ERROR,
    ),
    _rows_check(
        "unknown_activities",
        "Warns on agent-days with scheduled time in activities the activity mapping does not "
        "know (never in adherence); extend AGENTSTATE_ACTIVITY_MAPPING",
        dg.AssetCheckSeverity.WARN,
    ),
]
