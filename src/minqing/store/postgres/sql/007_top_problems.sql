-- Minqing Map schema, version 7 (PostgreSQL only): the index the meeting view's top 10 reads its places' rows by.
-- Store.top_problem_counts (minqing.store.problemsql) ranks one month's problems, then reads the rollup rows of the top
-- ones' places over the four months shown: by place and month, instead of every place's rows of those months
-- (benchmarks/RESULTS.md, PostgreSQL: top_problem_counts). ticket_rollup has its (grid_code, month) index already.
CREATE INDEX place_rollup_place ON place_rollup (place_id, month);
