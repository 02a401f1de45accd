"""The ``minqing intervention add|edit|close|list|show|evaluate`` commands: the intervention registry and its evaluation."""

from __future__ import annotations

import json

from minqing.cli.common import add_command

__all__ = ["add_commands"]


def _targets(args) -> list[tuple[str, str]]:
    out = []
    for kind in ("place", "cell", "grid"):
        for v in getattr(args, kind) or []:
            out += [(kind, x.strip()) for x in v.split(",") if x.strip()]
    return out


def _cats(value):
    return tuple(c.strip() for c in value.split(",") if c.strip()) if value else ()


def cmd_add(args, store) -> int:
    from minqing.interventions.registry import Intervention, add_intervention

    iv = Intervention(name=args.name, type=args.type, start_date=args.start, end_date=args.end,
                      implementation_end=args.implementation_end, units_involved=args.units or "",
                      description=args.description or "", target_categories=_cats(args.categories),
                      targets=tuple(_targets(args)))
    print(add_intervention(store, iv, by=args.by))
    return 0


def cmd_edit(args, store) -> int:
    from minqing.interventions.registry import edit_intervention

    changes = {k: v for k, v in (("name", args.name), ("type", args.type), ("start_date", args.start),
                                 ("end_date", args.end), ("implementation_end", args.implementation_end),
                                 ("units_involved", args.units), ("description", args.description)) if v is not None}
    if args.categories is not None:
        changes["target_categories"] = _cats(args.categories)
    if _targets(args):
        changes["targets"] = tuple(_targets(args))
    iv = edit_intervention(store, args.id, by=args.by, **changes)
    print(json.dumps(iv.record(), ensure_ascii=False))
    return 0


def cmd_close(args, store) -> int:
    from minqing.interventions.registry import close_intervention

    iv = close_intervention(store, args.id, args.end, by=args.by)
    print(f"closed {iv.intervention_id} on {iv.end_date}")
    return 0


def cmd_list(args, store) -> int:
    from minqing.interventions.registry import list_interventions

    df = list_interventions(store)
    for r in df.itertuples():
        print(f"{r.intervention_id}\t{r.type}\t{r.start_date}\t{r.end_date if r.status == 'closed' else ''}\t{r.status}\t{r.n_targets}\t{r.name}")
    return 0


def cmd_show(args, store) -> int:
    from minqing.interventions.registry import get_intervention, intervention_history

    print(json.dumps(get_intervention(store, args.id).record(), ensure_ascii=False, indent=2))
    for r in intervention_history(store, args.id).itertuples():
        print(f"{r.changed_at}\t{r.changed_by or ''}\t{r.action}\t{json.dumps(r.before, ensure_ascii=False)}")
    return 0


def cmd_evaluate(args, store) -> int:
    from minqing.i18n import t
    from minqing.interventions.evaluate import evaluate_all, evaluate_intervention

    if args.all == (args.id is not None):
        raise SystemExit("give one intervention id or --all")
    if args.all:  # one line per intervention, from one read of the store
        for iid, ev in evaluate_all(store, ring_m=args.ring).items():
            if isinstance(ev, Exception):
                print(f"{iid}\t-\t{t(ev.key, args.lang, **ev.params) if getattr(ev, 'key', None) else ev}")
                continue
            p = ev.result.primary
            print(f"{iid}\t{ev.result.verdict}\t{p.estimate:.2f} [{p.low:.2f}, {p.high:.2f}]\t{ev.intervention.name}")
        return 0
    ev = evaluate_intervention(store, args.id, ring_m=args.ring)
    r = ev.result
    lang = args.lang
    print(r.summary(lang))
    print(f"before {r.before.start.date()}..{r.before.end.date()}: {r.before_rate:.1f}/30d; "
          f"after {r.after.start.date()}..{r.after.end.date()}: {r.after_rate:.1f}/30d")
    for h in r.horizons:
        print(f"  +{h.months}{r.scale[0]}: {h.ratio.estimate:.2f} [{h.ratio.low:.2f}, {h.ratio.high:.2f}] {h.ratio.verdict}")
    for text in r.caveat_texts(lang):
        print(f"  ! {text}")
    print("methods: " + ", ".join(f"{name} {'used' if ok else 'not possible (' + why.rsplit('_', 1)[-1] + ')'}"
                                  for name, ok, why in r.methods))
    if not ev.controls.empty:
        print("controls: " + ", ".join(f"{u} ({b})" for u, b in zip(ev.controls["name"], ev.controls["baseline"])))
    return 0


def _fields(q, required: bool) -> None:
    """The options of ``intervention add`` (required ones) and ``intervention edit`` (all optional)."""
    q.add_argument("--name", required=required)
    q.add_argument("--type", required=required, help="enforcement, facility_works, joint_meeting, "
                   "proactive_visits, policy, other")
    q.add_argument("--start", required=required, help="YYYY-MM-DD")
    for option in ("--end", "--implementation-end", "--units", "--description"):
        q.add_argument(option)
    q.add_argument("--categories", help="comma-separated category codes, e.g. 02.01.01,07.01.01")
    for kind in ("place", "cell", "grid"):
        q.add_argument(f"--{kind}", action="append", help=f"{kind} id(s), repeatable or comma-separated")
    q.add_argument("--by")


def add_commands(sub) -> None:
    """Add the ``intervention`` command group to the ``minqing`` sub-parsers."""
    p = sub.add_parser("intervention", help="register and evaluate interventions (治理措施)")
    isub = p.add_subparsers(dest="action", required=True)
    _fields(add_command(isub, "add", cmd_add, help="register an intervention; prints its id"), True)
    edit = add_command(isub, "edit", cmd_edit, help="change fields of an intervention")
    edit.add_argument("id", type=int)
    _fields(edit, False)
    close = add_command(isub, "close", cmd_close, help="set the end date")
    close.add_argument("id", type=int)
    close.add_argument("--end", required=True)
    close.add_argument("--by")
    add_command(isub, "list", cmd_list, help="list interventions")
    show = add_command(isub, "show", cmd_show, help="show one intervention and its edit history")
    show.add_argument("id", type=int)
    ev = add_command(isub, "evaluate", cmd_evaluate, help="before/after verdict with controls (one id, or --all)")
    ev.add_argument("id", type=int, nargs="?")
    ev.add_argument("--all", action="store_true", help="one line per intervention: verdict, rate ratio, interval")
    ev.add_argument("--ring", type=int, default=150, choices=(50, 100, 150))
    ev.add_argument("--lang", default="zh", choices=("zh", "en"))
