"""The pieces every self-contained HTML page of the project shares: the style sheet, escaping,
table, card and figure builders, and matplotlib set up to give the same PNG everywhere.

Pages built from them (``evaluation.report_html``, ``analysis.coverage``) need no network and no
files beside them: the CSS is inline and plots are base64 PNG.
"""
from __future__ import annotations

import base64
import html
import io

CSS = """
*{box-sizing:border-box}
body{font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;
  margin:0;background:#f6f8fa}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
h3{font-size:14px;margin:18px 0 6px}
.sub{color:#57606a;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin:12px 0}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:12px 14px;background:#fbfcfd}
.card .k{font-size:12px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:26px;font-weight:600;margin-top:2px}.card .c{font-size:12px;color:#57606a}
.card.main{border-color:#2f6db5;background:#f1f6fd}.card.main .v{color:#2f6db5}
.verdict{border-left:4px solid #2f6db5;background:#f1f6fd;padding:8px 12px;margin:10px 0;border-radius:0 6px 6px 0}
.warn{border-left:4px solid #d4a72c;background:#fff8e1;padding:8px 12px;margin:8px 0;border-radius:0 6px 6px 0}
.plots{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure{margin:0;border:1px solid #e5e7eb;border-radius:8px;padding:10px;background:#fff}
figure.wide{grid-column:1/-1}figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:12px;color:#57606a;margin-top:6px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #eef0f2;text-align:right;vertical-align:top}
th{background:#f6f8fa;font-weight:600;color:#3b434b}
td:first-child,th:first-child{text-align:left}
td.text{text-align:left;max-width:560px}td.ci{color:#6e7781;font-size:12px}
tr.model td{font-weight:600}
.num{font-variant-numeric:tabular-nums}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
code{background:#f6f8fa;padding:1px 4px;border-radius:4px;font-size:12px}
.terms{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
.terms div{border:1px solid #eef0f2;border-radius:8px;padding:8px 10px}
.pos{color:#1a7f37}.neg{color:#cf222e}
footer{margin-top:36px;color:#6e7781;font-size:12px}
table.comparison td,table.comparison-diff td{white-space:nowrap}table.comparison td:nth-last-child(-n+2){white-space:normal}
table.comparison td:nth-child(2),table.comparison th:nth-child(2){text-align:left}
@media (max-width:760px){.plots{grid-template-columns:1fr}}
"""


def escape(s: object) -> str:
    """``str(s)`` safe as HTML text and as a quoted attribute value."""
    return html.escape(str(s))


def td(v: object, cls: str = "") -> str:
    return f"<td class='{cls}'>{escape(v)}</td>"


def table(head: list[str], rows: list[list[str]], cls: str = "", row_cls: list[str] | None = None) -> str:
    """A table of ``rows`` (lists of ready ``<td>`` cells) under the escaped ``head``."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(f"<tr class='{(row_cls or [''] * len(rows))[i]}'>" + "".join(r) + "</tr>" for i, r in enumerate(rows))
    return f"<table class='num {cls}'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def card(k: str, v: float, c: str, main: bool = False) -> str:
    """A headline figure: its name ``k``, the value ``v`` and a comment ``c`` under it."""
    return (f"<div class='card{' main' if main else ''}'><div class='k'>{escape(k)}</div><div class='v num'>{v:.3f}</div>"
            f"<div class='c'>{escape(c)}</div></div>")


def figure(b64: str, caption: str, name: str, wide: bool = False) -> str:
    """A base64 PNG (:func:`png`) with its caption; ``wide`` spans both columns of ``.plots``."""
    return (f"<figure class='{'wide' if wide else ''}' id='fig-{name}'><img alt='{escape(name)} plot' src='data:image/png;base64,{b64}'>"
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend with the house style (imported late: the CLI starts faster without it)."""
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display, same output everywhere
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 110})
    return plt


def png(fig) -> str:
    """The figure as base64 PNG; the figure is closed."""
    plt = pyplot()
    buf = io.BytesIO()
    # no timestamp in the PNG metadata, so the same result gives the same file
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
