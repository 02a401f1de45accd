-- Minqing Map schema, version 8 (PostgreSQL only): the problem rollup the meeting view's top 10 and problem counts read.
--   problem_rollup  per city-local month x where a ticket counts as a problem (its place, or its grid when it has
--                   no place: ``placed``, ``where_id``) x the ticket's codes x category (full, and at levels 1 and 2)
--                   x channel: tickets and problems. Recomputed by refresh_rollups from ticket_rollup (the unplaced
--                   tickets of each grid) and place_rollup, in month order, so one month's rows lie together on disk.
-- It replaces reading place_rollup and ticket_rollup together, with the category level cut from every row of the
-- month on each read: a district's top 10 read 12,000 narrow rows of one table instead of 19,000 (15,000 of them
-- wide ticket_rollup rows scattered over the table). Figures: benchmarks/RESULTS.md, PostgreSQL, problem rollup.
CREATE TABLE problem_rollup (
    month            date NOT NULL,
    placed           boolean NOT NULL,
    where_id         text NOT NULL,
    grid_code        text,
    community_code   text,
    subdistrict_code text,
    district_code    text,
    category         text NOT NULL,
    category1        text NOT NULL,
    category2        text NOT NULL,
    channel          text NOT NULL,
    tickets          integer NOT NULL,
    problems         integer NOT NULL
);
CREATE INDEX problem_rollup_month ON problem_rollup (month);
CREATE INDEX problem_rollup_where ON problem_rollup (where_id, month);
CREATE INDEX problem_rollup_grid ON problem_rollup (grid_code, month);

-- place_rollup is now only where problem_rollup's place rows come from: read whole per month.
DROP INDEX place_rollup_place;
DROP INDEX place_rollup_grid;

ALTER TABLE problem_rollup ENABLE ROW LEVEL SECURITY;
CREATE POLICY problem_rollup_scope ON problem_rollup TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL OR grid_code = ANY ((SELECT public.minqing_scope_grids())::text[])
           OR community_code = ANY ((SELECT public.minqing_scope_communities())::text[]));

INSERT INTO rollup_dirty VALUES ('-infinity') ON CONFLICT DO NOTHING;
