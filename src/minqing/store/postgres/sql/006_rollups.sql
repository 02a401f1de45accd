-- Minqing Map schema, version 6 (PostgreSQL only): rollup tables the dashboard's aggregates read instead of tickets.
-- SQLite has no version 6 (its store computes the aggregates from the tickets; see migrate.py POSTGRES_ONLY).
--
-- What is kept, and who keeps it (minqing.store.postgres.rollups):
--   ticket_rollup   one row per city-local month (its first day) x grid x community x sub-district x district
--                   code (as the tickets carry them) x full category x channel with tickets: the ticket count and
--                   every KPI numerator and denominator that does not depend on the as_of time (the two that do,
--                   response_due and deadline_due, are completed at read time from the few pending tickets),
--                   the problems (repeat_of NULL) and the tickets and problems with no place link;
--   unit_rollup     ticket_rollup summed over categories and channels (unit counts of the drill-down maps);
--   place_rollup    the place links rolled up the same way per month x place x the ticket's codes x category x
--                   channel: links (tickets counted at each of their places) and problems;
--   rollup_dirty    the months a write changed (filled by the triggers below; '-infinity': every month). Every
--                   write that changes tickets or links calls refresh_rollups() in its own transaction, which
--                   recomputes these months from tickets and empties the table; a reader that finds it non-empty
--                   reads the raw tickets instead (the rollups are never read stale).
-- The rules of the measures are not written here: refresh_rollups builds the SELECT from minqing.analysis.kpis.
-- Months are local in the store's time zone (meta 'timezone', default Asia/Shanghai); changing the zone marks
-- every month.
-- The measures are integer, not bigint: a count of one rollup row fits, and SUM(integer) accumulates in bigint,
-- where SUM(bigint) sums in numeric, markedly slower (benchmarks/RESULTS.md, PostgreSQL: problem_counts).

CREATE TABLE ticket_rollup (
    month             date NOT NULL,
    grid_code         text,
    community_code    text,
    subdistrict_code  text,
    district_code     text,
    category          text NOT NULL,
    channel           text NOT NULL,
    tickets           integer NOT NULL,
    responded_in_time integer NOT NULL,
    followed_up       integer NOT NULL,
    solved            integer NOT NULL,
    partly            integer NOT NULL,
    rated             integer NOT NULL,
    satisfied         integer NOT NULL,
    with_due          integer NOT NULL,   -- due_at set: deadline_due is this less the open tickets not yet due
    closed_on_time    integer NOT NULL,
    proactive         integer NOT NULL,
    problems          integer NOT NULL,
    unplaced_tickets  integer NOT NULL,   -- tickets linked to no place (they count at their grid as problems)
    unplaced_problems integer NOT NULL
);
CREATE INDEX ticket_rollup_month ON ticket_rollup (month);
CREATE INDEX ticket_rollup_grid ON ticket_rollup (grid_code, month);

CREATE TABLE place_rollup (
    month            date NOT NULL,
    place_id         text NOT NULL,
    grid_code        text,
    community_code   text,
    subdistrict_code text,
    district_code    text,
    category         text NOT NULL,
    channel          text NOT NULL,
    tickets          integer NOT NULL,
    problems         integer NOT NULL
);
CREATE INDEX place_rollup_month ON place_rollup (month);

CREATE TABLE unit_rollup (            -- ticket_rollup without category and channel: unit counts over all time
    month            date NOT NULL,
    grid_code        text,
    community_code   text,
    subdistrict_code text,
    district_code    text,
    tickets          integer NOT NULL
);
CREATE INDEX unit_rollup_month ON unit_rollup (month);

CREATE TABLE rollup_dirty (
    month date PRIMARY KEY
);

-- Partial indexes of the pending tickets: what kpi_counts reads from tickets to complete the as_of-dependent
-- denominators (tickets not yet responded to, open tickets with a due time).
CREATE INDEX tickets_unresponded ON tickets (received_at) WHERE responded_at IS NULL;
CREATE INDEX tickets_open_due ON tickets (due_at) WHERE closed_at IS NULL AND due_at IS NOT NULL;

-- The local month (first day) of an instant in the store's zone.
CREATE FUNCTION minqing_store_zone() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT value FROM public.meta WHERE key = 'timezone'), 'Asia/Shanghai') $$;

-- Statement-level triggers: mark the months of the rows a statement inserted, updated (old and new) or deleted.
CREATE FUNCTION minqing_mark_ticket_months() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE zone text := public.minqing_store_zone();
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO public.rollup_dirty SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE zone)::date
            FROM old_rows ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO public.rollup_dirty SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE zone)::date
            FROM new_rows ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION minqing_mark_link_months() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE zone text := public.minqing_store_zone();
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO public.rollup_dirty SELECT DISTINCT date_trunc('month', t.received_at AT TIME ZONE zone)::date
            FROM old_rows l JOIN public.tickets t ON t.source_id = l.source_id ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO public.rollup_dirty SELECT DISTINCT date_trunc('month', t.received_at AT TIME ZONE zone)::date
            FROM new_rows l JOIN public.tickets t ON t.source_id = l.source_id ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tickets_rollup_insert AFTER INSERT ON tickets REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_mark_ticket_months();
CREATE TRIGGER tickets_rollup_update AFTER UPDATE ON tickets REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_mark_ticket_months();
CREATE TRIGGER tickets_rollup_delete AFTER DELETE ON tickets REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_mark_ticket_months();
CREATE TRIGGER ticket_places_rollup_insert AFTER INSERT ON ticket_places REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_mark_link_months();
CREATE TRIGGER ticket_places_rollup_delete AFTER DELETE ON ticket_places REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_mark_link_months();

-- A grid leader's scope applies to the rollups as to the tickets (005_scope.sql): the tickets policy, as it is.
ALTER TABLE ticket_rollup ENABLE ROW LEVEL SECURITY;
CREATE POLICY ticket_rollup_scope ON ticket_rollup TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL OR grid_code = ANY ((SELECT public.minqing_scope_grids())::text[])
           OR community_code = ANY ((SELECT public.minqing_scope_communities())::text[]));

ALTER TABLE unit_rollup ENABLE ROW LEVEL SECURITY;
CREATE POLICY unit_rollup_scope ON unit_rollup TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL OR grid_code = ANY ((SELECT public.minqing_scope_grids())::text[])
           OR community_code = ANY ((SELECT public.minqing_scope_communities())::text[]));

ALTER TABLE place_rollup ENABLE ROW LEVEL SECURITY;
CREATE POLICY place_rollup_scope ON place_rollup TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL OR grid_code = ANY ((SELECT public.minqing_scope_grids())::text[])
           OR community_code = ANY ((SELECT public.minqing_scope_communities())::text[]));

-- Tickets stored before this version: every month is to be rolled up (the store does it when it next opens).
INSERT INTO rollup_dirty VALUES ('-infinity');
