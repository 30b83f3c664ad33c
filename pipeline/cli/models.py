"""``talks compare`` and ``talks models list|show|promote|rollback|history|upgrade``: trained models (stage 3)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.cli._util import MODEL_NAME, add_command, add_group, labels_opt, models_opt, project_of, root_opt, say, table, warn


def compare_text(c: dict, changed: int = 20) -> str:
    """A comparison as the console shows it: per-label F1 of A and B, the paired difference, changed sentences."""
    from pipeline.metrics import format_interval  # numpy: only when a figure is printed

    a, b = c["models"]
    d = c["difference"]
    rows = []
    for lab in [*a["metrics"]["per_label"], "macro"]:
        ma = a["metrics"]["macro"] if lab == "macro" else a["metrics"]["per_label"][lab]
        mb = b["metrics"]["macro"] if lab == "macro" else b["metrics"]["per_label"][lab]
        dd = (d["macro_f1"], d["macro_f1_ci"]) if lab == "macro" else (d["per_label"][lab]["f1"], d["per_label"][lab]["f1_ci"])
        rows.append({"label": lab, f"A {c['a']}": f"{ma['f1']:.3f} {format_interval(ma['f1_ci'])}",
                     f"B {c['b']}": f"{mb['f1']:.3f} {format_interval(mb['f1_ci'])}",
                     "B - A [95% CI]": f"{dd[0]:+.3f} [{dd[1][0]:+.3f}, {dd[1][1]:+.3f}]"})
    out = [f"A = {c['a']} vs B = {c['b']} on {c['source']}: {c['sentences']} sentences, {c['articles']} articles; "
           f"F1 with 95% intervals from {c['n_boot']} paired article resamples",
           table(rows, list(rows[0])), d["verdict"]]
    ch = c["changed"]
    out.append(f"{ch['sentences']} sentence(s) changed: {ch['label_changes_fixed']} label decision(s) fixed, "
               f"{ch['label_changes_broken']} broken")
    for r in ch["rows"][:changed]:
        what = ", ".join(f"{x['label']} {x['a']}->{x['b']} ({x['effect']})" for x in r["changes"])
        out.append(f"  {what}: {r['text'][:110]}")
    return "\n".join(out)


def cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.evaluation.compare import compare_models
    from pipeline.store import atomic_write_text

    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip()) if args.parts else None
    c = compare_models(args.a, args.b, project_of(args), data=args.data, parts=parts)
    for w in c["warnings"]:
        warn(w)
    if args.json:
        atomic_write_text(args.json, json.dumps(c, indent=2) + "\n")
    say(compare_text(c, changed=args.show))
    if args.json:
        say(f"wrote {args.json} (every changed sentence up to {len(c['changed']['rows'])})")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from pipeline.model.registry import list_models

    rows = list_models(args.models)
    if not rows:
        say(f"no models in {args.models}/; train one with 'talks train'")
        return 0
    for r in rows:
        r["current"] = "*" if r["current"] else ""
        if "problem" in r:
            warn(r["problem"])
    say(table(rows, ["current", "model_id", "created", "features", "sentences", "heldout_macro_f1", "heldout_version"]))
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    from pipeline.model.folder import card_markdown
    from pipeline.model.registry import read_card, read_history, resolve_id

    model_id = resolve_id(args.models, args.model)
    card = read_card(args.models, model_id)
    if args.json:
        say(json.dumps(card, indent=2))
        return 0
    say(card_markdown(card))
    for h in read_history(args.models):
        if h.get("model_id") == model_id:
            say(f"{h.get('time')}  {h.get('action')}: current (replacing {h.get('previous') or 'nothing'}): {h.get('reason', '')}")
    return 0


def cmd_models_promote(args: argparse.Namespace) -> int:
    from pipeline.model.loading import promote

    rec = promote(args.model, args.models, reason=args.reason)
    say(f"{rec['model_id']} is now current (was {rec['previous']})")
    return 0


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from pipeline.model.registry import rollback

    rec = rollback(args.models)
    say(f"rolled back: {rec['model_id']} is current again (was {rec['previous']})")
    return 0


def cmd_models_history(args: argparse.Namespace) -> int:
    from pipeline.model.registry import read_history

    rows = read_history(args.models)
    say(table(rows, ["time", "action", "model_id", "previous", "reason"]) if rows else "no changes recorded yet")
    return 0


def cmd_models_upgrade(args: argparse.Namespace) -> int:
    from pipeline.model.artefact import MODEL_FILE
    from pipeline.model.loading import upgrade

    res = upgrade(args.model, args.models, trust=args.trust, confirm=_confirm if sys.stdin.isatty() else None)
    if res["upgraded"]:
        say(f"{res['model_id']}: re-saved as data ({res['path']}/{MODEL_FILE}); the pickle is gone")
    else:
        say(f"{res['model_id']} is already saved as data; nothing to do")
    return 0


def _confirm(pickle: Path, risk: str) -> bool:
    """Ask on the terminal before a pickle is loaded, naming the risk; only 'yes' goes on."""
    print(f"{pickle}: {risk}.", file=sys.stderr)
    try:
        return input("Load it and re-save it as data? Type 'yes' if you trust where it came from: ").strip().lower() == "yes"
    except EOFError:
        return False


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "compare", cmd_compare, "Compare two trained models as they are on the held-out set (or --data FILE): "
                     "per-label F1 with paired article-bootstrap intervals of the difference, and the sentences whose labels "
                     "changed. No verdict when FILE holds sentences either model was trained on.")
    sp.add_argument("a", help=f"model A: {MODEL_NAME}")
    sp.add_argument("b", help=f"model B: {MODEL_NAME}")
    sp.add_argument("--data", help="a label-store CSV to score on instead of the project's held-out set")
    sp.add_argument("--parts", help="only the held-out articles that joined the set this way (comma-separated: stratified, "
                    "random, hand-picked, story), e.g. the parts an older model also held out")
    sp.add_argument("--show", type=int, default=20, help="changed sentences to print (default: 20)")
    sp.add_argument("--json", help="also write the whole comparison, changed sentences included, to this JSON file")
    labels_opt(sp)
    root_opt(sp)
    models_opt(sp)

    msub = add_group(sub, "models", "List, inspect, promote, roll back and upgrade trained models.")
    sp = add_command(msub, "list", cmd_models_list, "Every trained model, newest first, with its held-out macro-F1; * marks the current one.")
    models_opt(sp)
    sp = add_command(msub, "show", cmd_models_show, "A model's card and when it was current.")
    sp.add_argument("model", nargs="?", help=f"{MODEL_NAME} (default: current)")
    sp.add_argument("--json", action="store_true", help="print the card as JSON")
    models_opt(sp)
    sp = add_command(msub, "promote", cmd_models_promote, "Make a model folder inside the models folder current, unguarded by its "
                     "scores, once it loads (recorded in models/history.jsonl).")
    sp.add_argument("model", help=MODEL_NAME)
    sp.add_argument("--reason", default="promoted by hand", help="why, for the history")
    models_opt(sp)
    sp = add_command(msub, "rollback", cmd_models_rollback, "Undo the last change of the current model; run it again to step "
                     "further back through models/history.jsonl.")
    models_opt(sp)
    sp = add_command(msub, "history", cmd_models_history, "Which model was current when, and why.")
    models_opt(sp)
    sp = add_command(msub, "upgrade", cmd_models_upgrade, "Re-save a model folder of an older version (a model.joblib pickle) "
                     "as data, in place, keeping its id. Loading the pickle runs any code in it: only for folders you trust; "
                     "it asks first on a terminal, and elsewhere needs --trust.")
    sp.add_argument("model", help=MODEL_NAME)
    sp.add_argument("--trust", action="store_true", help="load the pickle without asking: you trust where the folder came from")
    models_opt(sp)
