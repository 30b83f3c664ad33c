"""The held-out test set: whole articles that training and model selection never see.

Chosen once (``talks heldout init``), stratified by outlet and month, and
recorded in ``labels/heldout.csv`` (one article id per row, with the outlet
and date it was stratified on).  Cross-validation for model selection runs on
the other labelled articles; every trained model is scored on the held-out
gold at training time and its card records which version of the set it saw
(the sha256 of the held-out gold rows), so two cards with the same version
were scored on exactly the same sentences.  Labelling more sentences of
held-out articles, or adding articles with ``talks heldout add``, grows the
set and changes its version.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from pipeline.errors import LabelError
from pipeline.project import Project
from pipeline.records import LABELS, SEED
from pipeline.store import read_table, write_table

HELDOUT_FILE = "heldout.csv"
HELDOUT_COLUMNS: tuple[str, ...] = ("article_id", "outlet", "date", "method", "added")
# How an article joined: drawn by ``init`` (stratified), drawn uniformly by ``draw`` (random),
# chosen by a person (hand-picked), or pulled in because it shares a story with one of those (story).
METHODS: tuple[str, ...] = ("stratified", "random", "hand-picked", "story")
DEFAULT_SHARE = 0.2
MIN_STRATUM = 3  # outlets with fewer labelled articles share one "other outlets" stratum


def heldout_path(labels_dir: str | Path) -> Path:
    return Path(labels_dir) / HELDOUT_FILE


def heldout_articles(labels_dir: str | Path) -> set[str]:
    """Article ids of the held-out set; empty when the project has none yet."""
    path = heldout_path(labels_dir)
    if not path.exists():
        return set()
    df = read_table(path, dtype=str)
    if "article_id" not in df.columns:
        raise LabelError(f"missing column article_id; the header must be {','.join(HELDOUT_COLUMNS)}", path, 1)
    return {a.strip() for a in df["article_id"] if a.strip()}


def heldout_methods(labels_dir: str | Path) -> dict[str, str]:
    """Article id -> how it joined the held-out set (:data:`METHODS`); files written before the
    column existed: ``init`` rows are stratified, the rest hand-picked."""
    path = heldout_path(labels_dir)
    if not path.exists():
        return {}
    df = read_table(path, dtype=str)
    if "method" not in df.columns:
        df["method"] = ""
    return {r["article_id"].strip(): (r["method"].strip() or ("stratified" if r["added"].startswith("init") else "hand-picked"))
            for r in df.to_dict("records") if r["article_id"].strip()}


def story_conflicts(project: Project) -> list:
    """Every :class:`~pipeline.labels.stories.StoryLink` between a held-out article and a labelled
    training article (an empty list when the split keeps each story on one side)."""
    from pipeline.corpus.store import load_sentences
    from pipeline.labels.gold import gold_labels
    from pipeline.labels.stories import story_links

    held = heldout_articles(project.labels)
    labelled = set(gold_labels(project)["article_id"])
    sents = load_sentences(project.corpus)
    sents = sents[sents["article_id"].isin(labelled | held)]
    texts = {a: g["text"].tolist() for a, g in sents.groupby("article_id", sort=True)}
    return [link for link in story_links(texts) if (link.article_a in held) != (link.article_b in held)]


def split_gold(gold, labels_dir: str | Path):
    """(training rows, held-out rows) of a gold table, by article."""
    held = heldout_articles(labels_dir)
    mask = gold["article_id"].isin(held).to_numpy()
    return gold[~mask].reset_index(drop=True), gold[mask].reset_index(drop=True)


def heldout_gold(project: Project):
    """The project's gold rows of the held-out articles (LabelError when there are none)."""
    from pipeline.labels.gold import gold_labels

    if not heldout_articles(project.labels):
        raise LabelError("no held-out set yet; choose one with 'talks heldout init' (or pass --data FILE)", heldout_path(project.labels))
    held = split_gold(gold_labels(project), project.labels)[1]
    if held.empty:
        raise LabelError("the held-out articles have no gold labels; label them with 'talks label --article ID'", heldout_path(project.labels))
    return held


def heldout_version(heldout_gold) -> dict:
    """What a model card records about the held-out set it was scored on."""
    from pipeline.labels.gold import labels_hash

    return {
        "articles": int(heldout_gold["article_id"].nunique()),
        "article_ids": sorted(set(heldout_gold["article_id"])),
        "sentences": int(len(heldout_gold)),
        "positives": {lab: int(heldout_gold[lab].sum()) for lab in LABELS},
        "sha256": labels_hash(heldout_gold),
    }


def _strata(meta) -> np.ndarray:
    """Outlet x month; outlets with few labelled articles pooled so every stratum can be split."""
    outlet = meta["outlet"].fillna("").replace("", "unknown")
    counts = outlet.value_counts()
    outlet = outlet.where(outlet.map(counts) >= MIN_STRATUM, "other outlets")
    month = meta["date"].fillna("").str[:7].replace("", "undated")
    return (outlet + " | " + month).to_numpy()


def choose_heldout(gold, articles: list, share: float = DEFAULT_SHARE, seed: int = SEED) -> list[str]:
    """Pick ``share`` of the labelled articles, stratified by outlet and month.

    Strata too small to split are merged with their outlet's other months,
    then with the pooled rest, so the draw stays stratified where the data
    allows it and still returns the requested share.
    """
    import pandas as pd
    from sklearn.model_selection import train_test_split

    if not 0 < share < 1:
        raise LabelError(f"--share must be between 0 and 1, not {share}")
    labelled = sorted(set(gold["article_id"]))
    if len(labelled) < 4:
        raise LabelError(f"only {len(labelled)} labelled article(s); label at least 4 before setting a held-out set aside")
    info = {a.article_id: (a.outlet or "", a.date or "") for a in articles}
    meta = pd.DataFrame({"article_id": labelled,
                         "outlet": [info.get(a, ("", ""))[0] for a in labelled],
                         "date": [info.get(a, ("", ""))[1] for a in labelled]})
    strata = _strata(meta)
    n_test = max(1, int(round(share * len(meta))))
    counts = pd.Series(strata).value_counts()
    # a stratum needs at least 2 members for a stratified split; fold the rest into their outlet, then "other"
    strata = np.where(pd.Series(strata).map(counts).to_numpy() >= 2, strata, [s.split(" | ")[0] for s in strata])
    counts = pd.Series(strata).value_counts()
    strata = np.where(pd.Series(strata).map(counts).to_numpy() >= 2, strata, "other")
    if (pd.Series(strata).value_counts() < 2).any() or len(set(strata)) > n_test:
        strata = None  # too few articles to honour every stratum: a plain seeded draw
    _, test = train_test_split(meta["article_id"].to_numpy(), test_size=n_test, random_state=seed, stratify=strata)
    return sorted(test.tolist())


@dataclass(frozen=True)
class HeldoutChange:
    """What :func:`init_heldout` or :func:`add_heldout` did: the file written and the articles added to it."""

    path: Path
    added: list[str]


def init_heldout(project: Project, share: float = DEFAULT_SHARE, seed: int = SEED) -> HeldoutChange:
    """Choose the project's held-out articles, once, from its labelled articles (:func:`choose_heldout`).

    LabelError if a held-out set exists: choosing again would move articles a
    model was scored on into training, and scores across models would no
    longer be comparable; the set only grows (:func:`add_heldout`).
    """
    from pipeline.corpus.store import load_articles
    from pipeline.labels.gold import gold_labels

    if heldout_articles(project.labels):
        raise LabelError("a held-out set exists; it is chosen once. Grow it with 'talks heldout add ARTICLE_ID ...'",
                         heldout_path(project.labels))
    articles = load_articles(project.corpus)
    chosen = choose_heldout(gold_labels(project), articles, share=share, seed=seed)
    rows = [(a, "stratified", f"init share={share} seed={seed}") for a in chosen]
    return HeldoutChange(write_heldout(project.labels, rows, articles), chosen)


def add_heldout(project: Project, article_ids: list[str], reason: str, method: str = "hand-picked") -> HeldoutChange:
    """Add whole stories of the project's corpus to its held-out set: each article with ``method`` and
    ``reason`` recorded beside it, and every corpus article sharing its story
    (:mod:`pipeline.labels.stories`) with method "story".

    LabelError naming every id that is not in the corpus, or an unknown method, before anything is written.
    """
    from pipeline.corpus.store import load_articles, load_sentences
    from pipeline.labels.stories import corpus_stories

    if method not in METHODS:
        raise LabelError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    articles = load_articles(project.corpus)
    known = {a.article_id for a in articles}
    if missing := [a for a in article_ids if a not in known]:
        raise LabelError(f"not in the corpus: {', '.join(missing)}; see the article_id column of sentences.csv",
                         project.corpus / "sentences.csv")
    have = heldout_articles(project.labels)
    story = corpus_stories(load_sentences(project.corpus))
    chosen = list(dict.fromkeys(article_ids))
    rows = [(a, method, reason) for a in chosen]
    for a in chosen:
        rows += [(b, "story", f"shares a story with {a}") for b in sorted(story) if story[b] == story[a] and b not in chosen]
    path = write_heldout(project.labels, rows, articles)
    return HeldoutChange(path, [a for a in dict.fromkeys(r[0] for r in rows) if a not in have])


def draw_heldout(project: Project, candidates: list[str], n: int, seed: int = SEED, reason: str = "") -> HeldoutChange:
    """Add ``n`` articles drawn uniformly (``seed``) from ``candidates``, leaving out those already held
    out or sharing a story with a held-out article; their stories come with them (:func:`add_heldout`)."""
    from pipeline.corpus.store import load_sentences
    from pipeline.labels.stories import corpus_stories

    if n < 1:
        raise LabelError(f"the number of articles to draw must be 1 or more, not {n}")
    story = corpus_stories(load_sentences(project.corpus))
    held_stories = {story.get(a, a) for a in heldout_articles(project.labels)}
    pool = sorted({a for a in candidates if story.get(a, a) not in held_stories})
    if len(pool) < n:
        raise LabelError(f"only {len(pool)} candidate article(s) outside the held-out stories; draw at most that many")
    picked = np.random.default_rng(seed).choice(pool, size=n, replace=False).tolist()
    why = f"uniform draw of {n} from {len(pool)} candidates, seed {seed}" + (f": {reason}" if reason else "")
    return add_heldout(project, picked, why, method="random")


def write_heldout(labels_dir: str | Path, rows: list[tuple[str, str, str]], articles: list) -> Path:
    """Add ``(article_id, method, reason)`` rows to ``labels/heldout.csv`` (kept sorted; existing rows stay,
    and a file from before the method column gets it filled in by :func:`heldout_methods`)."""
    import pandas as pd

    path = heldout_path(labels_dir)
    old = read_table(path, dtype=str) if path.exists() else pd.DataFrame(columns=list(HELDOUT_COLUMNS))
    if "method" not in old.columns:
        methods = heldout_methods(labels_dir)
        old["method"] = old["article_id"].map(lambda a: methods.get(a.strip(), ""))
    have = set(old["article_id"])
    info = {a.article_id: a for a in articles}
    new = []
    for a, method, reason in rows:  # an article listed twice keeps its first row
        if a not in have:
            have.add(a)
            new.append({"article_id": a, "outlet": info[a].outlet or "", "date": info[a].date or "", "method": method,
                        "added": reason})
    df = pd.concat([old, pd.DataFrame(new, columns=list(HELDOUT_COLUMNS))], ignore_index=True)
    write_table(df[list(HELDOUT_COLUMNS)].sort_values("article_id", kind="stable"), path)
    return path


def read_heldout(path: str | Path, labels: tuple[str, ...] = LABELS):
    """Read and validate a label-store CSV; return (non-junk rows, number of junk rows dropped).

    Every problem names the file and line (line 1 is the header).
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise LabelError("a held-out file must be a label-store CSV (sentence_id, article_id, text, labels, junk)", path)
    df = read_table(path, dtype=str)
    need = ["sentence_id", "article_id", "text", *labels]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise LabelError(f"missing column(s) {', '.join(missing)}; a label-store CSV has {', '.join(need)}, junk", path, 1)
    value_cols = [*labels, *(["junk"] if "junk" in df.columns else [])]
    seen: dict[str, int] = {}
    for i, row in enumerate(df.itertuples(index=False)):
        line = i + 2
        r = dict(zip(df.columns, row))
        for c in ("sentence_id", "article_id", "text"):
            if not str(r[c]).strip():
                raise LabelError(f"empty {c}; every row needs a sentence id, article id and text", path, line)
        for c in value_cols:
            if str(r[c]).strip() not in ("0", "1"):
                raise LabelError(f"{c} is {r[c]!r}; label and junk cells must be 0 or 1", path, line)
        sid = str(r["sentence_id"])
        if sid in seen:
            raise LabelError(f"sentence {sid} appears twice (first on line {seen[sid]}); keep one decision per sentence", path, line)
        seen[sid] = line
    for c in value_cols:
        df[c] = df[c].str.strip().astype(int)
    dropped = int(df["junk"].sum()) if "junk" in df.columns else 0
    if "junk" in df.columns:
        df = df[df["junk"] == 0]
    if df.empty:
        raise LabelError("no non-junk labelled sentences to evaluate on", path)
    return df.reset_index(drop=True), dropped


def untrained_heldout(project: Project, card: dict, parts: tuple[str, ...] | None = None):
    """(held-out gold frame, note): the held-out articles the model of ``card`` never trained on.

    ``parts`` (how articles joined the set) chooses them by hand; else the card's own list, else the parts whose
    articles add up to the number the card records.  Raises a LabelError when none of these tells.
    """
    gold = heldout_gold(project)
    method = gold["article_id"].map(heldout_methods(project.labels))
    held = card.get("heldout") or {}
    if parts:
        if unknown := sorted(set(parts) - set(METHODS)):
            raise LabelError(f"unknown held-out part(s) {', '.join(unknown)}; the parts are {', '.join(METHODS)}")
        return gold[method.isin(parts).to_numpy()].reset_index(drop=True), f"the held-out part(s) {', '.join(parts)} (as asked)"
    if ids := held.get("article_ids"):
        return gold[gold["article_id"].isin(ids).to_numpy()].reset_index(drop=True), "the held-out articles its card lists"
    per_part = gold.groupby(method.to_numpy())["article_id"].nunique()
    fits = [c for k in range(1, len(per_part) + 1) for c in combinations(sorted(per_part.index), k)
            if per_part[list(c)].sum() == held.get("articles")]
    if len(fits) != 1:
        raise LabelError(f"model {card.get('model_id')}: its card does not list the held-out articles it was kept from, and "
                         f"{'several sets' if fits else 'no set'} of held-out parts add up to its {held.get('articles')} articles; "
                         "say which with --parts (e.g. --parts stratified,hand-picked)", project.labels / "heldout.csv")
    return (gold[method.isin(fits[0]).to_numpy()].reset_index(drop=True),
            f"the held-out parts {', '.join(fits[0])}: its card lists no article ids, and these parts hold its "
            f"{held['articles']} held-out articles")
