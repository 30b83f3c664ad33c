"""``talks heldout init|add|show``: the held-out test set (stage 2)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import add_command, add_group, labels_opt, project_of, root_opt, say, table


def cmd_heldout_init(args: argparse.Namespace) -> int:
    from pipeline.labels.heldout import init_heldout

    res = init_heldout(project_of(args), share=args.share, seed=args.seed)
    say(f"held out {len(res.added)} articles (stratified by outlet and month) in {res.path}; commit it with your labels")
    return 0


def cmd_heldout_add(args: argparse.Namespace) -> int:
    from pipeline.labels.heldout import add_heldout

    res = add_heldout(project_of(args), args.articles, args.reason, method=args.method)
    say(f"added {len(res.added)} article(s) to {res.path} (their stories included); label all their sentences, then retrain")
    return 0


def cmd_heldout_draw(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.errors import LabelError
    from pipeline.labels.heldout import draw_heldout

    path = Path(args.candidates)
    if not path.is_file():
        raise LabelError("candidates file not found; give a file of article ids, one per line", path)
    res = draw_heldout(project_of(args), path.read_text(encoding="utf-8").split(), args.n, seed=args.seed, reason=args.reason)
    say(f"drew {args.n} article(s) at random; added {len(res.added)} with their stories to {res.path}; "
        "label all their sentences, then retrain")
    return 0


def cmd_heldout_show(args: argparse.Namespace) -> int:
    from pipeline.labels.heldout import heldout_gold, heldout_version

    v = heldout_version(heldout_gold(project_of(args)))
    if args.json:
        say(json.dumps(v, indent=2))
        return 0
    say(f"held-out set version {v['sha256'][:12]}: {v['sentences']} gold sentences from {v['articles']} articles")
    say(table([{"label": k, "positives": n} for k, n in v["positives"].items()], ["label", "positives"]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    hsub = add_group(sub, "heldout", "The held-out test set: articles kept away from training and model selection.")
    sp = add_command(hsub, "init", cmd_heldout_init, "Choose the held-out articles once, stratified by outlet and month, into labels/heldout.csv.")
    sp.add_argument("--share", type=float, default=0.2, help="share of the labelled articles to hold out (default: 0.2)")
    sp.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(hsub, "add", cmd_heldout_add, "Add whole articles to the held-out set (label every sentence of them).")
    sp.add_argument("articles", nargs="+", help="article ids")
    sp.add_argument("--reason", default="added by hand", help="why, recorded in the file")
    sp.add_argument("--method", default="hand-picked", choices=["hand-picked", "random", "stratified"],
                    help="how the articles were chosen, recorded in the file (default: hand-picked)")
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(hsub, "draw", cmd_heldout_draw, "Add N articles drawn uniformly at random from a file of candidate ids "
                     "(articles sharing a story with the held-out set left out), with their stories.")
    sp.add_argument("n", type=int, help="how many articles to draw")
    sp.add_argument("--from", dest="candidates", required=True, help="a file of candidate article ids, one per line")
    sp.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    sp.add_argument("--reason", default="", help="what the candidates are, recorded in the file")
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(hsub, "show", cmd_heldout_show, "Size, label counts and version of the held-out set.")
    sp.add_argument("--json", action="store_true", help="print JSON")
    labels_opt(sp)
    root_opt(sp)
