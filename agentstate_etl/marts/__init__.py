"""The marts of docs/warehouse.md, one job a module.

- `tables`: the published tables and which day owns a row; the views over them
- `days`: which days an update recomputes and which partitions it reads
- `compute`: one slice of days computed from the lake by the `.sql` files of `sql/`
- `publish`: a run's one DuckLake transaction
- `update`: an update or a full rebuild, one writer at a time
- `affected`: the partitions an update covers (landed days, changed schedules)
- `checks`, `reports`, `query`: reading the published warehouse
"""
