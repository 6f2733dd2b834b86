"""The page shell: styles, a small filter script, and formatting helpers. No network."""

from __future__ import annotations

import html
from typing import Any

from ..compare import Delta, is_number

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2327;
 margin:0 auto;padding:16px 20px 60px;max-width:1240px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;
 border-bottom:2px solid #e3e6e8;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
a{color:#1759a8}.meta{color:#50575e;margin:0 0 10px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px;max-width:100%}
td,th{border:1px solid #d5d9dc;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#f3f5f6;font-weight:600}td:first-child,th:first-child{text-align:left}
.wrap{overflow-x:auto;max-width:100%}
.num small{display:block;font-size:11px}
.up{color:#0a7a2f}.down{color:#c01e1e}.flat{color:#6b7378}.fail{background:#fde8e8}
.badge{display:inline-block;border-radius:9px;padding:0 7px;font-size:12px;margin:0 2px;
 background:#e9ecef;color:#333;white-space:nowrap}
.b-fail{background:#c01e1e;color:#fff}.b-pass{background:#0a7a2f;color:#fff}
.b-blind{background:#6f42c1;color:#fff}.b-wait{background:#b66a00;color:#fff}
.b-gold{background:#b8860b;color:#fff}.b-gated{background:#1759a8;color:#fff}
.banner{padding:8px 12px;border-radius:6px;margin:10px 0;font-weight:600}
.banner.ok{background:#e6f4ea;color:#0a5c24}.banner.bad{background:#fde8e8;color:#8c1515}
.card{border:1px solid #d5d9dc;border-radius:6px;margin:10px 0;padding:8px 12px}
.card>summary{cursor:pointer}.q{font-weight:600}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:6px}
.side{min-width:0}.side h4{margin:4px 0;font-size:13px;color:#50575e}
.answer{white-space:pre-wrap;background:#f6f7f8;padding:6px 8px;border-radius:4px;
 font-size:13px;overflow-wrap:anywhere}
.answer div{margin:0 0 4px}
.removed{background:#fbd0d0;text-decoration:line-through}.added{background:#c9f0d3}
.removed_line{background:#fbd0d0}.added_line{background:#c9f0d3}
.under{background:#fff4e0}.nowrap{white-space:nowrap}
table.changes td:nth-child(2),table.changes th:nth-child(2),
table.changes td:last-child{text-align:left}
th small{display:block;font-weight:400;color:#50575e}
ul.reasons{margin:4px 0;padding-left:18px;color:#8c1515}
.facts li{list-style:none}.facts{padding-left:4px;margin:4px 0}
.ok-mark{color:#0a7a2f;font-weight:700}.miss-mark{color:#c01e1e;font-weight:700}
blockquote{margin:2px 0 8px 14px;color:#3c434a;font-size:13px}
.history{font-size:13px;color:#3c434a;margin:4px 0}.history b{color:#1d2327}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.charts figure{margin:0;min-width:0}.charts svg{width:100%;height:auto}
figcaption{font-size:12px;color:#50575e}
.signals td,.signals th{font-size:12px}
.filter{margin:6px 0;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.filter input{padding:4px 6px;width:320px}
code{font-size:12px}
td.note,td.text{text-align:left}
"""

SCRIPT = """
document.querySelectorAll('[data-filter]').forEach(function(box){
  var list=document.getElementById(box.dataset.filter);
  var text=box.querySelector('input'), only=box.querySelector('select');
  function apply(){
    var t=text.value.toLowerCase(), s=only.value;
    list.querySelectorAll('details.case').forEach(function(d){
      var show=(!t||d.dataset.text.indexOf(t)>=0)&&(!s||d.dataset.status.indexOf(s)>=0);
      d.style.display=show?'':'none';
    });
  }
  text.addEventListener('input',apply);only.addEventListener('change',apply);
});
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A figure as the tables show it: 4 significant digits, '–' when it does not apply."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_number(value):
        return f"{value:.4g}"
    return esc(value)


def metric_name(name: str) -> str:
    """A long metric name may wrap after its underscores and dots."""
    return esc(name).replace("_", "_<wbr>").replace(".", ".<wbr>")


def delta_html(d: Delta) -> str:
    """'▲ 0.012' in green when better, red when worse, grey when neither."""
    if d.change is None:
        return '<small class="flat">new</small>' if d.old is None and d.new is not None else ""
    if abs(d.change) < 1e-9:
        return '<small class="flat">±0</small>'
    css = "flat" if d.better is None else ("up" if d.better else "down")
    arrow = "▲" if d.change > 0 else "▼"
    return f'<small class="{css}">{arrow} {abs(d.change):.4g}</small>'


def badge(text: str, kind: str = "") -> str:
    return f'<span class="badge {kind}">{esc(text)}</span>'


def shell(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}"
        f"<script>{SCRIPT}</script></body></html>"
    )
