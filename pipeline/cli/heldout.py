"""``talks heldout init|add|show``: the held-out test set (stage 2)."""
from __future__ import annotations

import argparse
import json

from pipeline.cli._util import add_command, add_group, labels_opt, project_of, root_opt, say, table
from pipeline.errors import PipelineError


def cmd_heldout_init(args: argparse.Namespace) -> int:
    from pipeline.corpus.store import load_articles
    from pipeline.labels.heldout import choose_heldout, heldout_articles, heldout_path, write_heldout
    from pipeline.labels.gold import gold_labels

    if heldout_articles(args.labels):
        raise PipelineError(f"a held-out set exists ({heldout_path(args.labels)}); it is chosen once. "
                            "Grow it with 'talks heldout add ARTICLE_ID ...'")
    articles = load_articles(args.root)
    chosen = choose_heldout(gold_labels(project_of(args)), articles, share=args.share, seed=args.seed)
    path = write_heldout(args.labels, chosen, articles, added=f"init share={args.share} seed={args.seed}")
    say(f"held out {len(chosen)} articles (stratified by outlet and month) in {path}; commit it with your labels")
    return 0


def cmd_heldout_add(args: argparse.Namespace) -> int:
    from pipeline.corpus.store import load_articles
    from pipeline.labels.heldout import write_heldout

    articles = load_articles(args.root)
    known = {a.article_id for a in articles}
    missing = [a for a in args.articles if a not in known]
    if missing:
        raise PipelineError(f"not in the corpus: {', '.join(missing)}; see the article_id column of {args.root}/sentences.csv")
    path = write_heldout(args.labels, args.articles, articles, added=args.reason)
    say(f"added {len(args.articles)} article(s) to {path}; label all their sentences, then retrain")
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
    labels_opt(sp)
    root_opt(sp)
    sp = add_command(hsub, "show", cmd_heldout_show, "Size, label counts and version of the held-out set.")
    sp.add_argument("--json", action="store_true", help="print JSON")
    labels_opt(sp)
    root_opt(sp)
