-- Minqing Map schema, version 5 (PostgreSQL only): grid-leader scope enforced by the server (row-level security).
-- SQLite has no roles and no row-level security, so its store has no version 5 (see migrate.py: version numbers
-- are per backend, a number means the same change on every backend that has it).
--
-- The rule. The session setting minqing.scope_grids, set per transaction by minqing.store.postgres.scope.set_scope
-- (SELECT set_config('minqing.scope_grids', '<codes>', true)), limits what every role but the tables' owner sees:
--   '*'                   every row: whole-district roles (admin, planner, meeting) and imports;
--   'G1,G2'               only tickets whose grid_code is G1 or G2 (a grid leader's grids, communities expanded
--                         to their grids by the app); tickets with no grid are outside every scope;
--   unset, '' or ','      no ticket at all.
-- and minqing.scope_communities, set with it: 'C1,C2' adds the tickets whose community_code is C1 or C2 (a community
-- leader's tickets that have a community but no grid; the grids of those communities are in scope_grids too). The rule fails closed: a transaction that forgot to say whose it
--                         is sees nothing, so a bug in the app can't show one grid's tickets to another's leader.
-- The policies are for PUBLIC, so the app role, the reporting role and any login role made a member of either
-- follow them; the owner role owns the tables and is not subject to row-level security (no FORCE), so
-- migrations, copies and maintenance run as the owner see everything. Superusers bypass it too.
-- With no WITH CHECK, each policy's USING expression is also its write check: a scoped session can't insert or
-- move a ticket into another grid.
--
-- Tables under the policy, and why:
--   tickets         the rows themselves (text, address, caller, place);
--   ticket_places   which tickets are at which place: visible when the ticket is (the EXISTS below reads
--                   tickets under the caller's own policy), so per-place counts don't count other grids;
--   ticket_changes  old and new values of a ticket's fields (its text among them): visible when the ticket is;
--   quarantine      rows never stored, as read (callers' names and phones, text): they have no grid, so a
--                   scoped session sees none of them (only importers, who are whole-district, need them).
-- Not under it: ticket_sources (a source id, a row hash and an import id per ticket, no content, read by
-- imports only), import_reports (per-file counts), and the tables that hold no ticket rows (units, places,
-- categories, interventions, users, audit_log, ...).
-- Caveat of every row-level policy: a unique index still refuses a scoped insert of a source_id that exists
-- in another grid, which tells that such a ticket exists (imports are not scoped, so the app never does this).

-- The grids of the current transaction's scope; NULL for every grid ('*'). Empty items are dropped, so unset,
-- '' and ',' are a scope of no grid (an empty array: no row matches).
CREATE FUNCTION minqing_scope_grids() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN current_setting('minqing.scope_grids', true) = '*' THEN NULL
                      ELSE coalesce(array_remove(string_to_array(
                               coalesce(current_setting('minqing.scope_grids', true), ''), ','), ''), '{}')
                 END $$;

-- The communities of the current transaction's scope: an empty array unless set.
CREATE FUNCTION minqing_scope_communities() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_remove(string_to_array(
                     coalesce(current_setting('minqing.scope_communities', true), ''), ','), ''), '{}') $$;

-- The policies read the scope through a scalar sub-select, (SELECT public.minqing_scope_grids()): the planner runs it
-- once per statement (an InitPlan), not once per row (the ::text[] makes ANY read an array, not the sub-select's
-- rows). Rollup tables keyed by grid take the tickets policy as it is.
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
CREATE POLICY tickets_scope ON tickets TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL OR grid_code = ANY ((SELECT public.minqing_scope_grids())::text[])
           OR community_code = ANY ((SELECT public.minqing_scope_communities())::text[]));

ALTER TABLE ticket_places ENABLE ROW LEVEL SECURITY;
CREATE POLICY ticket_places_scope ON ticket_places TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL
           OR EXISTS (SELECT 1 FROM public.tickets t WHERE t.source_id = ticket_places.source_id));

ALTER TABLE ticket_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY ticket_changes_scope ON ticket_changes TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL
           OR EXISTS (SELECT 1 FROM public.tickets t WHERE t.source_id = ticket_changes.source_id));

ALTER TABLE quarantine ENABLE ROW LEVEL SECURITY;
CREATE POLICY quarantine_scope ON quarantine TO PUBLIC
    USING ((SELECT public.minqing_scope_grids()) IS NULL);
