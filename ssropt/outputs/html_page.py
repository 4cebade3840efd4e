"""One self-contained interactive HTML page: plotly figures, a linked schedule, tables.

:class:`HtmlReport` collects sections in order and writes ONE file that opens from disk
with no network: plotly.js is embedded once, every figure is its JSON plus one
``Plotly.newPlot`` call, and the lock-step schedules of front designs are embedded as
compact columns (:meth:`ssropt.outputs.gantt.Schedule.to_json`) and drawn by a small
script when a front point is clicked or picked in the list.

Example:
    >>> from ssropt.outputs.html_figures import FrontSeries
    >>> report = HtmlReport("demo")
    >>> report.fronts([FrontSeries("s", [])], title="no point yet")
    'fig-1'
    >>> page = report.render(plotly_js="/* plotly */")
    >>> page.count("Plotly.newPlot"), "<script src" in page
    (1, False)
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ssropt.outputs.files import write_text
from ssropt.outputs.html_figures import FrontSeries, front_figure

PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "toImageButtonOptions": {"format": "png", "scale": 2}}

STYLE = """
body{font-family:system-ui,sans-serif;margin:20px auto;max-width:1280px;padding:0 16px;color:#222}
h1{font-size:22px} h2{font-size:18px;margin-top:30px;border-bottom:1px solid #ddd}
.note{color:#555;font-size:13px} table{border-collapse:collapse;font-size:12px;margin:8px 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right} td.l,th.l{text-align:left}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
select{font-size:13px;max-width:100%}
"""

SCHEDULE_JS = r"""
(function () {
  var data = JSON.parse(document.getElementById('ssropt-schedules').textContent);
  var gd = document.getElementById('ssropt-gantt');
  var pick = document.getElementById('ssropt-gantt-pick');
  var note = document.getElementById('ssropt-gantt-note');
  var palette = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2',
                 '#7f7f7f','#bcbd22','#17becf'];
  function draw(key) {
    var d = data.schedules[key];
    if (!d) {
      note.textContent = 'No schedule for this design (only designs of the ssr cost model ' +
        'listed above have one).';
      return false;
    }
    note.textContent = '';
    var names = data.nodes[d.nodes];
    var rows = d.shapes.map(function (s, a) { return 'acc ' + a + ' \u00b7 ' + s; });
    var traces = names.map(function (name, j) {
      return {type: 'bar', orientation: 'h', name: name, base: [], x: [], y: [], text: [],
              marker: {color: palette[j % 10], line: {width: 0.5, color: '#333'}},
              hovertemplate: '%{text}<br>%{base:.4g} ms + %{x:.4g} ms<extra>' + name + '</extra>',
              textposition: 'none'};
    });
    for (var k = 0; k < d.acc.length; k++) {
      var t = traces[d.node[k]];
      t.base.push(d.start[k]); t.x.push(d.dur[k]); t.y.push(rows[d.acc[k]]);
      t.text.push(names[d.node[k]] + ', image ' + d.image[k]);
    }
    Plotly.react(gd, traces.filter(function (t) { return t.x.length; }), {
      template: 'plotly_white', barmode: 'overlay',
      height: Math.max(160 + 46 * rows.length, 140 + 21 * names.length),
      margin: {l: 260, r: 120, t: 60, b: 60}, bargap: 0.25,
      title: {text: data.labels[key] + '; ' + d.steps + ' lock-step steps',
              font: {size: 13}},
      xaxis: {title: {text: 'time [ms]'}},
      yaxis: {autorange: 'reversed', type: 'category', categoryorder: 'array',
              categoryarray: rows},
      legend: {orientation: 'v', x: 1.01, y: 1, yanchor: 'top', title: {text: 'node'}}
    }, {displaylogo: false, responsive: true});
    pick.value = key;
    return true;
  }
  data.fronts.forEach(function (id) {
    var front = document.getElementById(id);
    front.on('plotly_click', function (ev) {
      var p = ev.points && ev.points[0];
      if (p && p.customdata && draw(p.customdata[0])) {
        gd.scrollIntoView({behavior: 'smooth', block: 'nearest'});
      }
    });
  });
  pick.addEventListener('change', function () { draw(pick.value); });
  if (pick.value) draw(pick.value);
})();
"""


def _escaped(text: str) -> str:
    """JSON text safe inside a ``<script>`` element (no ``</`` to end it)."""
    return text.replace("</", "<\\/")


def _json_script(value: Any) -> str:
    """``value`` as JSON safe to embed in a ``<script>`` element."""
    return _escaped(json.dumps(value, separators=(",", ":")))


class HtmlReport:
    """An HTML report assembled section by section (see the module docstring)."""

    def __init__(self, title: str, intro: str = "") -> None:
        self.title = title
        self.blocks: list[str] = [f"<h1>{html.escape(title)}</h1>"]
        if intro:
            self.blocks.append(f'<p class="note">{html.escape(intro)}</p>')
        self.figures: list[tuple[str, str]] = []  # (div id, figure JSON)
        self.front_ids: list[str] = []
        self.schedules: dict[str, dict] = {}
        self.labels: dict[str, str] = {}
        self.nodes: list[list[str]] = []
        self._schedule_slot: int | None = None
        self._keys = 0

    # -- sections ------------------------------------------------------------------------
    def heading(self, text: str) -> None:
        self.blocks.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str) -> None:
        self.blocks.append(f'<p class="note">{html.escape(text)}</p>')

    def figure(self, fig, *, front: bool = False) -> str:
        """Add a plotly figure; returns its element id."""
        import plotly.io as pio

        div = f"fig-{len(self.figures) + 1}"
        self.figures.append((div, pio.to_json(fig, validate=False)))
        self.blocks.append(f'<div id="{div}" class="plot"></div>')
        if front:
            self.front_ids.append(div)
        return div

    def fronts(self, series: list[FrontSeries], *, y_of: str = "throughput", title: str = "") -> str:
        """A front figure of ``series`` (keys assigned to their rows for the schedule links)."""
        for s in series:
            if len(s.keys) != len(s.rows):
                s.keys = [self.key_of(s.name, r) for r in s.rows]
        return self.figure(front_figure(series, y_of=y_of, title=title), front=True)

    def key_of(self, series: str, row: dict) -> str:
        """A stable key of a front design (series and trial, or a running number)."""
        self._keys += 1
        trial = row.get("trial")
        return f"{series}#{trial}" if trial is not None else f"{series}#p{self._keys}"

    def schedule(self, key: str, label: str, schedule: dict, node_names: list[str]) -> None:
        """Embed the schedule of the front design ``key`` (``Schedule.to_json()``)."""
        if node_names not in self.nodes:
            self.nodes.append(node_names)
        self.schedules[key] = {**schedule, "nodes": self.nodes.index(node_names)}
        self.labels[key] = label

    def schedule_section(self, heading: str = "Schedule of a front design") -> None:
        """Where the linked schedule chart goes (filled in when rendered)."""
        self.heading(heading)
        self._schedule_slot = len(self.blocks)
        self.blocks.append("")

    def table(self, head: list[str], body: list[list[Any]], left: int = 0) -> None:
        """A table; its last ``left`` columns are left-aligned (text)."""
        def cells(row: list[Any], tag: str) -> str:
            n = len(row)
            return "".join(
                f'<{tag}{" class=l" if i >= n - left else ""}>{html.escape(str(c))}</{tag}>'
                for i, c in enumerate(row)
            )

        rows = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in body)
        self.blocks.append(f"<table><tr>{cells(head, 'th')}</tr>{rows}</table>")

    def details(self, summary: str, text: str) -> None:
        """Collapsible preformatted text (e.g. the Markdown summary)."""
        self.blocks.append(
            f"<details><summary>{html.escape(summary)}</summary><pre>{html.escape(text)}</pre></details>"
        )

    # -- output --------------------------------------------------------------------------
    def _schedule_html(self) -> str:
        if not self.schedules:
            return '<p class="note">No front design has a lock-step schedule (ssr cost model only).</p>'
        options = "".join(
            f'<option value="{html.escape(k)}">{html.escape(self.labels[k])}</option>'
            for k in self.schedules
        )
        return (
            '<p class="note">Click a front point above, or pick a design here:</p>'
            f'<select id="ssropt-gantt-pick">{options}</select>'
            '<p id="ssropt-gantt-note" class="note"></p><div id="ssropt-gantt"></div>'
        )

    def render(self, plotly_js: str | None = None) -> str:
        """The page as text (``plotly_js``: the library to embed; default plotly's own)."""
        if plotly_js is None:
            from plotly.offline import get_plotlyjs

            plotly_js = get_plotlyjs()
        blocks = list(self.blocks)
        if self._schedule_slot is not None:
            blocks[self._schedule_slot] = self._schedule_html()
        config = json.dumps(PLOT_CONFIG)
        calls = "".join(
            f"Plotly.newPlot('{div}',(f=JSON.parse(document.getElementById('{div}-data')"
            f".textContent)).data,f.layout,{config});\n"
            for div, _ in self.figures
        )
        data = "".join(
            f'<script type="application/json" id="{div}-data">{_escaped(spec)}</script>\n'
            for div, spec in self.figures
        )
        schedules = ""
        if self._schedule_slot is not None and self.schedules:
            payload = {"schedules": self.schedules, "labels": self.labels, "nodes": self.nodes,
                       "fronts": self.front_ids}
            schedules = (
                f'<script type="application/json" id="ssropt-schedules">{_json_script(payload)}'
                f"</script>\n<script>{SCHEDULE_JS}</script>\n"
            )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(blocks)
            + f"\n<script>{plotly_js}</script>\n{data}<script>var f;\n{calls}</script>\n{schedules}"
            + "</body></html>\n"
        )

    def write(self, path: str | Path) -> None:
        """Write the page to ``path`` (``-``: standard output)."""
        write_text(path, self.render())
