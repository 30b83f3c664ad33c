"""Stage 7b: a trends dict (:func:`pipeline.analysis.trends.trends`) -> console text, plots and ``coverage.html``.

The page is self-contained like the evaluation report (inline CSS, plots as
base64 PNG, nothing fetched).  Its one script builds the filterable table of
sentences from a JSON block with ``textContent`` only, so article text is
never parsed as markup; a Content-Security-Policy allows that script (by its
hash) and nothing else.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import textwrap
from pathlib import Path

from pipeline.html import CSS, card, escape, figure, png, pyplot, table, td
from pipeline.store import atomic_open, atomic_write_text
from pipeline.analysis.trends import ALL, MIN_ARTICLES, MIN_OUTLET_ARTICLES, OTHER
from pipeline.model.relevance import ON_TOPIC_RELEVANCE, ON_TOPIC_SYRIA

LABEL_COLOURS = {"diplomacy": "#2f6db5", "violence": "#c0392b", "humanitarian": "#2a9d8f", "blame": "#b8860b"}
WIDTH = 9.0  # inches, every figure
SPIKE_LINES = 3  # sentences shown per spike in the plot (the page lists all of them)


# --------------------------------------------------------------------------
# Console
# --------------------------------------------------------------------------
def trends_text(res: dict) -> str:
    c = res["counts"]
    step = {"week": "week-on-week", "day": "day-on-day", "month": "month-on-month"}[res["by"]]
    lines = [f"{c['articles']} articles, {c['sentences']} sentences from {c['outlets']} outlets, {c['first']} to {c['last']} "
             f"({c['periods']} {res['by']}s)" + _filter_note(res)]
    if res.get("error_note"):
        lines.append(f"intervals with the model's error: {res['error_note']}")
    for lab, o in res["overall"].items():
        err = f", with the model's error [{o['err'][0]:.3f}, {o['err'][1]:.3f}]" if o.get("err") else ""
        lines.append(f"  {lab:<13} {o['share']:.3f} [{o['ci'][0]:.3f}, {o['ci'][1]:.3f}]{err} of sentences ({o['tagged']} tagged)")
    lines.append(f"biggest {step} rises (periods of at least {MIN_ARTICLES} articles; 95% interval of the rise):")
    for s in res["spikes"]:
        lines.append(f"  {s['label']:<13} {s['from']} -> {s['to']}: {s['share_from']:.3f} -> {s['share_to']:.3f} "
                     f"({s['rise']:+.3f} [{s['rise_ci'][0]:+.3f}, {s['rise_ci'][1]:+.3f}])")
        for r in s["sentences"][:2]:
            lines.append(f"      {r['p']:.2f} {r['outlet']}, {r['date']}: {_short(r['text'], 110)}")
    if not res["spikes"]:
        lines.append("  none")
    return "\n".join(lines)


def _filter_note(res: dict) -> str:
    c = res["counts"]
    note = f"; {c['off_topic_left_out']} off-topic articles left out" if res["on_topic_only"] else ""
    return note + (f"; {c['undated']} undated articles left out" if c["undated"] else "")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------
# Plots: each draws into a figure (or subfigure), so the page shows them
# one by one and --plot stacks the same drawings in one PNG.
# --------------------------------------------------------------------------
def _panels(res: dict) -> list[str]:
    """The outlets drawn in panels of their own, then the rest taken together."""
    return [*res["outlets"], *([OTHER] if res.get("other") is not None else [])]


def _heights(res: dict) -> list[float]:
    return [3.0, 2.3 * max(1, math.ceil(len(_panels(res)) / 3)), 1.9 * len(res["labels"])]


def write_plot(res: dict, path: str | Path) -> None:
    """Shares over time, outlets side by side and the spikes, stacked in one PNG."""
    plt = pyplot()
    heights = _heights(res)
    fig = plt.figure(figsize=(WIDTH, sum(heights)), layout="constrained")
    over_time, outlets, spikes = fig.subfigures(3, 1, height_ratios=heights)
    plot_over_time(over_time, res)
    plot_outlets(outlets, res)
    plot_spikes(spikes, res)
    with atomic_open(path, "wb") as f:
        f.write(base64.b64decode(png(fig)))


def _plot_png(draw, res: dict, height: float) -> str:
    plt = pyplot()
    fig = plt.figure(figsize=(WIDTH, height), layout="constrained")
    draw(fig, res)
    return png(fig)


def _series(res: dict, outlet: str, label: str):
    """One outlet's shares of one label over every period of the file (NaN where it has no articles: a gap in the line)."""
    import pandas as pd

    t = res["table"]
    periods = t[(t.outlet == ALL) & (t.period != ALL)].drop_duplicates("period").sort_values("start")[["period", "start"]]
    own = res["other"] if outlet == OTHER else t
    rows = own[(own.outlet == outlet) & (own.label == label) & (own.period != ALL)]
    s = periods.merge(rows.drop(columns="start"), on="period", how="left")
    return s.assign(x=pd.to_datetime(s["start"]))


def _draw_shares(ax, res: dict, outlet: str, labels: list[str]) -> None:
    for lab in labels:
        s = _series(res, outlet, lab)
        colour = LABEL_COLOURS.get(lab)
        ax.plot(s.x, s.share, "o-", ms=3, lw=1.4, color=colour, label=lab)
        ax.fill_between(s.x, s.ci_low, s.ci_high, color=colour, alpha=0.14, lw=0)
    ax.set_ylim(bottom=0)
    period_ticks(ax, res["by"], s.x)


# At most this many labelled ticks on an axis: a quarter of weeks fits, a year of them is thinned.
MAX_TICKS = 14


def period_ticks(ax, by: str, starts) -> None:
    """Ticks at period starts, named like the periods (2016-02, 2016-W05), thinned to at most MAX_TICKS; days get
    matplotlib's own date ticks."""
    import matplotlib.dates as mdates
    import matplotlib.ticker as mticker

    from pipeline.analysis.periods import period_name

    if by == "day":
        loc = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        return
    starts = list(starts)
    step = max(1, math.ceil(len(starts) / MAX_TICKS))
    ax.xaxis.set_major_locator(mticker.FixedLocator(mdates.date2num(starts[::step])))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda x, _: period_name(mdates.num2date(x).replace(tzinfo=None), by)))
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.tick_params(axis="x", labelrotation=45 if by == "week" else 0, labelsize=7)


def plot_over_time(fig, res: dict) -> None:
    """The share of sentences carrying each label per period, all outlets, 95% bands; spikes starred."""
    import pandas as pd

    ax = fig.subplots()
    _draw_shares(ax, res, ALL, res["labels"])
    for s in res["spikes"]:
        start = res["table"].query("outlet == @ALL and period == @s['to']")["start"].iloc[0]
        ax.plot(pd.Timestamp(start), s["share_to"], "*", ms=11, color=LABEL_COLOURS.get(s["label"]), mec="black", mew=0.5)
    ax.set_ylabel("share of sentences")
    ax.set_title(f"All outlets: share of sentences per label and {res['by']} (bands: 95% article-bootstrap intervals; "
                 f"stars: biggest rises){_filter_note(res)}", fontsize=9, loc="left", parse_math=False)
    # below the tick labels, which weeks turn on their side
    ax.legend(frameon=False, fontsize=8, ncols=len(res["labels"]), loc="upper center",
              bbox_to_anchor=(0.5, -0.3 if res["by"] == "week" else -0.1))


def plot_outlets(fig, res: dict) -> None:
    """The same, one panel per outlet of at least MIN_OUTLET_ARTICLES articles (the largest by sentences), the other
    outlets together in one more panel, on one scale."""
    import pandas as pd

    table = pd.concat([t for t in (res["table"], res.get("other")) if t is not None])
    overall = table[table.period == ALL].drop_duplicates("outlet").set_index("outlet")
    panels = _panels(res)
    if not panels:
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0, 0.5, f"No outlet panels: no named outlet has {MIN_OUTLET_ARTICLES} articles or more.", fontsize=9)
        return
    n = len(panels)
    axes = fig.subplots(math.ceil(n / 3), min(n, 3), sharex=True, sharey=True, squeeze=False).ravel()
    for ax, outlet in zip(axes, panels):
        _draw_shares(ax, res, outlet, res["labels"])
        name = f"{res['other_outlets']} other outlets" if outlet == OTHER else outlet
        ax.set_title(f"{name} ({overall.loc[outlet, 'articles']} articles, {overall.loc[outlet, 'sentences']} sentences)",
                     fontsize=8.5, loc="left", parse_math=False)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(frameon=False, fontsize=7, loc="upper left")


def plot_spikes(fig, res: dict) -> None:
    """Per label: its series with the biggest rise shaded, and the top sentences of the period it rose to."""
    import pandas as pd

    spikes = {s["label"]: s for s in res["spikes"]}
    rows = fig.subplots(len(res["labels"]), 2, width_ratios=[1, 1.6], squeeze=False)
    starts = res["table"].query("outlet == @ALL and period != @ALL").drop_duplicates("period").set_index("period")["start"]
    for (ax, text_ax), lab in zip(rows, res["labels"]):
        _draw_shares(ax, res, ALL, [lab])
        colour = LABEL_COLOURS.get(lab)
        ax.set_title(lab, fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        text_ax.axis("off")
        spike = spikes.get(lab)
        if spike is None:
            text_ax.text(0, 1, f"no rise between periods of at least {MIN_ARTICLES} articles", va="top", fontsize=8)
            continue
        ax.axvspan(pd.Timestamp(starts[spike["from"]]), pd.Timestamp(starts[spike["to"]]), color=colour, alpha=0.12)
        head = (f"{spike['from']} -> {spike['to']}: {spike['share_from']:.2f} -> {spike['share_to']:.2f} "
                f"({spike['rise']:+.2f}, 95% [{spike['rise_ci'][0]:+.2f}, {spike['rise_ci'][1]:+.2f}])")
        body = [textwrap.fill(f"{r['p']:.2f} {r['outlet']}: {_short(r['text'], 170)}", 95) for r in spike["sentences"][:SPIKE_LINES]]
        text_ax.text(0, 1, head + "\n" + "\n".join(body), va="top", fontsize=7, linespacing=1.25, parse_math=False)


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------
def write_coverage(res: dict, out_dir: str | Path) -> str:
    """Write ``coverage.html`` into ``out_dir``; return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "coverage.html"
    atomic_write_text(path, coverage_html(res))
    return str(path)


# Builds the sentence table from the JSON block: search by text, filters by outlet, label and period, a page of rows
# at a time (only the shown page is in the document, so the feed's thousands of sentences open quickly).
# Text goes in with textContent only.
SCRIPT = """
const data = JSON.parse(document.getElementById('sentence-data').textContent);
const PAGE = 50;
const body = document.querySelector('#sentences tbody');
const q = document.getElementById('text-filter'), outletPick = document.getElementById('outlet-filter');
const labelPick = document.getElementById('label-filter'), periodPick = document.getElementById('period-filter');
const lower = data.rows.map(r => r[1].toLowerCase());
let matches = [], page = 0;
function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  td.className = cls;
  tr.appendChild(td);
}
function render() {
  const pages = Math.max(1, Math.ceil(matches.length / PAGE));
  page = Math.min(Math.max(page, 0), pages - 1);
  const rows = [];
  for (const i of matches.slice(page * PAGE, page * PAGE + PAGE)) {
    const [a, text, labs, probs, ties] = data.rows[i];
    const [title, outlet, date, period] = data.articles[a];
    const tr = document.createElement('tr');
    tr.dataset.labels = labs.map(l => data.labels[l]).join(' ');
    tr.dataset.outlet = outlet;
    tr.dataset.period = period;
    cell(tr, text, 'text');
    cell(tr, labs.map((l, k) => data.labels[l] + ' ' + probs[k].toFixed(2)).join(', '), '');
    cell(tr, ties, 'text');
    cell(tr, outlet, '');
    cell(tr, date, '');
    cell(tr, title, 'text');
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  document.getElementById('shown').textContent = matches.length;
  document.getElementById('page').textContent = 'page ' + (page + 1) + ' of ' + pages;
  document.getElementById('prev').disabled = page === 0;
  document.getElementById('next').disabled = page >= pages - 1;
}
function filter() {
  const words = q.value.toLowerCase().split(/\\s+/).filter(w => w);
  const lab = labelPick.value === '' ? -1 : data.labels.indexOf(labelPick.value);
  matches = [];
  data.rows.forEach((r, i) => {
    const art = data.articles[r[0]];
    if ((outletPick.value === '' || art[1] === outletPick.value) && (periodPick.value === '' || art[3] === periodPick.value)
        && (lab < 0 || r[2].includes(lab)) && words.every(w => lower[i].includes(w))) matches.push(i);
  });
  page = 0;
  render();
}
for (const el of [outletPick, labelPick, periodPick]) el.addEventListener('change', filter);
q.addEventListener('input', filter);
document.getElementById('prev').addEventListener('click', () => { page -= 1; render(); });
document.getElementById('next').addEventListener('click', () => { page += 1; render(); });
filter();
"""

EXTRA_CSS = """
.examples li{margin:4px 0}.examples .p{font-variant-numeric:tabular-nums;color:#57606a;margin-right:6px}
.meta{color:#6e7781;font-size:12px}
.filter{margin:8px 0}select,input,button{font:inherit;padding:2px 6px}#text-filter{width:18em}
#sentences th{text-align:left}#sentences td{text-align:left}#sentences td:nth-child(4){white-space:nowrap}
"""


def coverage_html(res: dict) -> str:
    c = res["counts"]
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    title = f"Tagged coverage: {res.get('source', 'tags')}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{csp}\">",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{CSS}{EXTRA_CSS}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        (f"<p class='sub'>{c['articles']} articles, {c['sentences']} sentences from {c['outlets']} outlets, {c['first']} to {c['last']}, "
         f"by {escape(res['by'])}{escape(_filter_note(res))} · model {escape(', '.join(res['model_ids']) or 'unknown')}</p>"),
        "<div class='cards'>",
        *(card(lab, o["share"], f"95% CI [{o['ci'][0]:.3f}, {o['ci'][1]:.3f}]"
               + (f", with the model's error [{o['err'][0]:.3f}, {o['err'][1]:.3f}]" if o.get("err") else "") + f" · {o['tagged']} sentences")
          for lab, o in res["overall"].items()),
        "</div>",
        "<h2>Label shares over time and by outlet</h2><div class='plots'>",
        figure(_plot_png(plot_over_time, res, _heights(res)[0]), "Share of sentences carrying each label, per period, all outlets; "
             "bands are 95% intervals from resampling whole articles; stars mark each label's biggest rise.", "over-time", wide=True),
        figure(_plot_png(plot_outlets, res, _heights(res)[1]), "The same for the outlets with the most sentences, on one scale; "
             "a gap is a period without articles from that outlet.", "outlets", wide=True),
        figure(_plot_png(plot_spikes, res, _heights(res)[2]), "Each label's biggest rise from one period to the next (shaded) and the "
             "most confident sentences of the period it rose to.", "spikes", wide=True),
        "</div>",
        "<h2>Label shares by outlet</h2>", _outlet_table(res),
        *(["<h2>Who blames whom</h2>", _ties_html(res["ties"])] if res.get("ties") is not None and len(res["ties"]) else []),
        "<h2>Spikes</h2>", _spikes_html(res),
        "<h2>Most-tagged articles</h2>", _articles_table(res),
        "<h2>Example sentences per label</h2>", _examples_html(res),
        "<h2>Tagged sentences</h2>", _sentence_table(res),
        "<h2>How to read this page</h2>", _method(res),
        "</main></body></html>",
    ]
    return "\n".join(parts)


TOP_ACTORS = 8


def _ties_html(ties) -> str:
    """A source-by-target matrix of the blame sentences over the whole span (all outlets), the busiest actors
    only, each cell shaded by its count; then each period's most frequent ties with their shares."""
    allo = ties[ties["outlet"] == "(all)"]
    totals = allo.groupby(["source", "target"])["sentences"].sum()
    sources = list(totals.groupby(level=0).sum().nlargest(TOP_ACTORS).index)
    targets = list(totals.groupby(level=1).sum().nlargest(TOP_ACTORS).index)
    top = max(int(totals.max()), 1)
    head = "".join(f"<th scope='col'>{escape(t)}</th>" for t in targets)
    rows = []
    for src in sources:
        cells = []
        for tgt in targets:
            n = int(totals.get((src, tgt), 0))
            cells.append(f"<td style='background:rgba(207,34,46,{0.08 + 0.6 * n / top:.2f})' title='{escape(src)} -> {escape(tgt)}: "
                         f"{n} sentences'>{n}</td>" if n else "<td></td>")
        rows.append(f"<tr><th scope='row'>{escape(src)}</th>{''.join(cells)}</tr>")
    matrix = (f"<table class='ties' id='tie-matrix'><caption>Blame sentences per source (rows) and target (columns), all "
              f"periods and outlets; the {TOP_ACTORS} busiest of each</caption><thead><tr><th>source \\ target</th>{head}</tr>"
              f"</thead><tbody>{''.join(rows)}</tbody></table>")
    per = []
    for period, g in allo.groupby("period", sort=True):
        for r in g.nlargest(3, "sentences").to_dict("records"):
            per.append(f"<tr><td>{escape(period)}</td><td>{escape(r['source'])} &rarr; {escape(r['target'])}</td>"
                       f"<td>{r['sentences']}</td><td>{r['share']:.3f}<br><span class='ci'>[{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
                       "</span></td></tr>")
    table = ("<table id='tie-periods'><thead><tr><th>period</th><th>tie</th><th>sentences</th><th>share of the period's blame "
             f"sentences</th></tr></thead><tbody>{''.join(per)}</tbody></table>")
    return matrix + table


def _share_cell(row) -> str:
    return f"<td>{row['share']:.3f}<br><span class='ci'>[{row['ci_low']:.2f}, {row['ci_high']:.2f}]</span></td>"


def _outlet_table(res: dict) -> str:
    t = res["table"]
    t = t[t.period == ALL].set_index(["outlet", "label"])
    rows = []
    for outlet in [ALL, *res["outlets"]]:
        first = t.loc[(outlet, res["labels"][0])]
        rows.append([td("all outlets" if outlet == ALL else outlet), td(first["articles"]), td(first["sentences"]),
                     *(_share_cell(t.loc[(outlet, lab)]) for lab in res["labels"])])
    return (table(["outlet", "articles", "sentences", *res["labels"]], rows, "outlets")
            + "<p class='sub'>Share of sentences carrying each label over the whole period, with its 95% interval.</p>")


def _spikes_html(res: dict) -> str:
    if not res["spikes"]:
        return f"<p class='sub'>No label rose between two consecutive periods of at least {MIN_ARTICLES} articles each.</p>"
    out = []
    for s in res["spikes"]:
        clear = s["rise_ci"][0] > 0
        out.append(f"<div class='{'verdict' if clear else 'warn'}'><b>{escape(s['label'])}</b>: {escape(s['from'])} → {escape(s['to'])}, "
                   f"{s['share_from']:.3f} → {s['share_to']:.3f} ({s['rise']:+.3f}, 95% interval [{s['rise_ci'][0]:+.3f}, "
                   f"{s['rise_ci'][1]:+.3f}]; {s['articles_from']} and {s['articles_to']} articles). "
                   + ("The interval excludes 0." if clear else "The interval includes 0: it may be noise.") + "</div>")
        out.append(_sentence_list(s["sentences"], s["label"]))
    return "\n".join(out)


def _sentence_list(rows: list[dict], label: str) -> str:
    items = "".join(f"<li><span class='p'>{label} {r['p']:.2f}</span>{escape(r['text'])} "
                    f"<span class='meta'>— {escape(r['outlet'])}, {escape(r['date'])}: {escape(r['title'])}</span></li>" for r in rows)
    return f"<ul class='examples'>{items}</ul>"


def _link(title: str, url: str) -> str:
    # Only web addresses become links: a javascript: or data: URL in a tags file must not run from the page.
    if url.lower().startswith(("http://", "https://")):
        return f"<a href='{escape(url)}' rel='noopener noreferrer'>{escape(title or url)}</a>"
    return escape(title)


def _articles_table(res: dict) -> str:
    rows = [[f"<td class='text'>{_link(a['title'], a['url'])}</td>", td(a["outlet"]), td(a["date"]), td(a["sentences"]),
             td(a["labelled"]), td(f"{a['relevance']:.2f}"), td("yes" if a["on_topic"] else "no"),
             *(td(f"{a['shares'][lab]:.2f}") for lab in res["labels"])] for a in res["articles"]]
    return (table(["title", "outlet", "date", "sentences", "tagged", "relevance", "on topic", *res["labels"]], rows, "articles")
            + "<p class='sub'>The articles with the most tagged sentences; relevance is the share of their sentences that carry "
            "any label, and the label columns the share carrying each.</p>")


def _examples_html(res: dict) -> str:
    return "\n".join(f"<h3>{escape(lab)}</h3>" + _sentence_list(rows, lab) for lab, rows in res["examples"].items())


def sentence_data(res: dict) -> dict:
    """The sentence table's data as the page's script reads it: label names, articles (title, outlet, date, period)
    and rows (article index, text, label indices, their probabilities, blame ties), each article written once."""
    articles, index, rows = [], {}, []
    for r in res["sentences"]:
        key = r["article_id"]
        if key not in index:
            index[key] = len(articles)
            articles.append([r["title"], r["outlet"], r["date"], r["period"]])
        rows.append([index[key], r["text"], [res["labels"].index(lab) for lab in r["labels"]],
                     [round(r["p"][lab], 2) for lab in r["labels"]], r.get("ties", "")])
    return {"labels": res["labels"], "articles": articles, "rows": rows}


def _options(values) -> str:
    return "".join(f"<option value='{escape(v)}'>{escape(v)}</option>" for v in values)


def _sentence_table(res: dict) -> str:
    data = json.dumps(sentence_data(res), ensure_ascii=False, separators=(",", ":"))
    # Nothing in the data may end the script element or open a comment: escape <, > and &; U+2028/9 end lines in old JS.
    for ch in "<>&\u2028\u2029":
        data = data.replace(ch, f"\\u{ord(ch):04x}")
    outlets = sorted({r["outlet"] for r in res["sentences"]})
    periods = sorted({r["period"] for r in res["sentences"]})
    return (f"<p class='sub'>All {len(res['sentences']):,} tagged sentences (carrying at least one label), most confident first "
            "(by the highest probability among their labels); every word typed must appear in the sentence.</p>"
            "<div class='filter'><label>text <input id='text-filter' type='search' placeholder='words in the sentence'></label> "
            f"<label>outlet <select id='outlet-filter'><option value=''>any</option>{_options(outlets)}</select></label> "
            f"<label>label <select id='label-filter'><option value=''>any</option>{_options(res['labels'])}</select></label> "
            f"<label>{escape(res['by'])} <select id='period-filter'><option value=''>any</option>{_options(periods)}</select></label> "
            "· <span id='shown'></span> found · <button id='prev' type='button'>previous</button> <span id='page'></span> "
            "<button id='next' type='button'>next</button></div>"
            "<table class='num' id='sentences'><thead><tr><th>sentence</th><th>labels (probability)</th><th>who blames whom</th>"
            "<th>outlet</th><th>date</th><th>article</th></tr></thead><tbody></tbody></table>"
            f"<script type='application/json' id='sentence-data'>{data}</script><script>{SCRIPT}</script>")


def _method(res: dict) -> str:
    return (
        "<p>A label's <b>share</b> is the number of sentences the model tagged with it divided by the number of sentences, "
        "pooled over the articles of the outlet and period. Its <b>95% interval</b> comes from 1,000 resamples of whole "
        "articles (sentences of one article are not independent): it says how much the share would move with another draw "
        "of articles like these, not whether the model's tags are right. A period of a few articles has a wide interval; "
        "an interval from one article is no interval at all. The interval of a <b>rise</b> takes the two periods' "
        "resamples as independent.</p>"
        f"<p>An article is <b>on topic</b> when at least {ON_TOPIC_RELEVANCE:.0%} of its sentences carry a label "
        f"(its relevance) and at least {ON_TOPIC_SYRIA:.0%} name Syria (Syria, Syrian, Assad, Damascus or Aleppo): the "
        "labels apply to any conflict, so the tags alone cannot tell Syria from elsewhere.</p>"
        "<p>Tags are the model's, at the thresholds recorded in its model id; they have the errors measured on the "
        "held-out set (see the evaluation report). "
        + (f"The interval <b>with the model's error</b> takes each resample's share through the {escape(res['error_note'])}, "
           "themselves resampled by article: the share of sentences that truly carry the label, as far as those rates "
           "carry over to this coverage.</p>" if res.get("error_note") else
           "No interval here includes the model's error: the model that tagged the file was not found in the project.</p>")
    )
