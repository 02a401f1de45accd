-- Minqing Map schema, version 7 (PostgreSQL only): indexes the meeting view's top 10 reads the place rollups by.
-- Store.top_problem_counts (minqing.store.problemsql) ranks one month's problems, then reads the rollup rows of the
-- top ones' places over the four months shown: by place and month, instead of every place's rows of those months.
-- A grid leader's reads select the place rollups of a few grids: by grid and month, as ticket_rollup has them
-- (ticket_rollup_grid). Figures: benchmarks/RESULTS.md, PostgreSQL, top_problem_counts.
CREATE INDEX place_rollup_place ON place_rollup (place_id, month);
CREATE INDEX place_rollup_grid ON place_rollup (grid_code, month);
