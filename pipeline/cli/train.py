"""``talks train``: fit a model (stage 3) and promote it if it is not worse (``evaluation.promotion``)."""
from __future__ import annotations

import argparse

from pipeline.cli._util import add_command, labels_opt, models_opt, progress, project_of, root_opt, say, table, warn


def cmd_train(args: argparse.Namespace) -> int:
    from pipeline.metrics import format_interval  # numpy: only when a figure is printed

    from pipeline.cli.models import compare_text
    from pipeline.evaluation.promotion import promote_if_not_worse
    from pipeline.model.registry import current_id
    from pipeline.model.selection import GRIDS, N_SPLITS, QUICK, train

    grid = [QUICK[args.features]] if args.quick else GRIDS[args.features]
    with progress(len(grid) * N_SPLITS, "cross-validating", unit="fit") as tick:
        card = train(project_of(args), grid=grid, set_current=False, progress=tick, teacher=args.teacher,
                     soft_weight=args.soft_weight, **({"taught": tuple(args.teach.split(","))} if args.teach else {}))
    cv = card["cv_metrics"]
    say(f"model {card['model_id']}: {card['features']} features, C={card['parameters']['C']}")
    say(f"trained on {card['training']['sentences']} sentences from {card['training']['articles']} articles "
        "(held-out articles left out)")
    if d := card.get("distillation"):
        say(f"and on {d['pool_sentences']} unlabelled sentences with the probabilities of {d['teacher']} "
            f"(each weighted {d['soft_weight']:g})")
    say(table(card["selection"]["trials"], ["features", "C", "macro_ap", "macro_f1_tuned"]))
    say(f"(selection only: cross-validated macro-F1 {cv['macro']['f1']:.3f} with thresholds tuned on the same folds is optimistic)")
    held = card.get("heldout")
    if held:
        hm = held["metrics"]
        rows = [{"label": lab, "threshold": card["thresholds"][lab], **hm["per_label"][lab],
                 "95% CI": format_interval(hm["per_label"][lab]["f1_ci"])} for lab in card["labels"]]
        say(f"\nscore on the held-out set ({held['sentences']} sentences, {held['articles']} articles, version {held['sha256'][:12]}):")
        say(table(rows, ["label", "threshold", "precision", "recall", "f1", "95% CI", "support"]))
        say(f"held-out macro-F1 {hm['macro']['f1']:.3f} {format_interval(hm['macro']['f1_ci'])}")
    else:
        warn("no held-out set, so no honest score; set one aside with 'talks heldout init' and retrain")
    say(f"wrote {args.models}/{card['model_id']}/")
    if args.quick or args.no_current:
        say(f"not promoted ({'--quick' if args.quick else '--no-current'}); current stays {current_id(args.models)}")
        return 0
    res = promote_if_not_worse(card["model_id"], project_of(args), force=args.force)
    if res.already_current:
        say(res.reason)
        return 0
    if res.comparison is not None:
        for w in res.comparison["warnings"]:
            warn(w)
        say("")
        say(compare_text(res.comparison, changed=5))
    if res.promoted:
        say(f"\npromoted {res.model_id} to current ({res.reason}); 'talks models rollback' undoes it")
    else:
        say(f"\nnot promoted: {res.reason}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sp = add_command(sub, "train", cmd_train, "Choose, fit and save a model from the gold labels outside the held-out set "
                     "(grouped CV by article), score it on the held-out set, and make it current unless it is significantly "
                     "worse than the current model.")
    labels_opt(sp)
    root_opt(sp)
    models_opt(sp)
    sp.add_argument("--features", default="cues", choices=["cues", "tfidf", "embeddings", "both"],
                    help="cues (default: word n-grams plus blame cues, who accuses whom, and static word vectors; fast, "
                    "no extra install), tfidf (word or word+char n-grams only), embeddings (all-MiniLM-L6-v2 sentence "
                    "embeddings; needs pip install 'talks[embeddings]'), or both (word+char n-grams and embeddings)")
    sp.add_argument("--quick", action="store_true", help="one configuration instead of the grid (for trying things out; never promoted)")
    sp.add_argument("--no-current", action="store_true", help="never make the new model current")
    sp.add_argument("--teacher", help="a more accurate model whose probabilities on the unlabelled pool the new model also "
                    "learns from (distillation: the fast features, taught by a slow model)")
    sp.add_argument("--teach", help="with --teacher, only these labels (comma-separated) learn from it, e.g. the ones "
                    "where it beats the gold-trained model (default: all)")
    sp.add_argument("--soft-weight", type=float, default=None, help="weight of each unlabelled sentence against a gold one "
                    "with --teacher (default: 0.5)")
    sp.add_argument("--force", action="store_true", help="make the new model current even if it is significantly worse")
