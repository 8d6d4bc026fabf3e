"""A run's report as one self-contained HTML page: styles inline, charts as inline SVG, no script
and nothing fetched when it is opened. Numbers carry `data-key` attributes so tests (and people
with a browser's inspector) can find them."""

from __future__ import annotations

import html
from typing import Optional

from components.common import tasks
from mlops import charts
from mlops.run_report import FeatureStats, RunReport

STYLE = (
    "\n"
    "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px auto;"
    "max-width:1100px;color:#222}\n"
    "h1{font-size:22px;margin-bottom:4px}"
    "h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}\n"
    "h3{font-size:15px;margin-bottom:4px}.meta{color:#666;font-size:13px}\n"
    ".verdict{padding:14px 18px;border-radius:6px;margin:16px 0;font-size:15px}\n"
    ".verdict.blessed{background:#e6f4ea;border:1px solid #3b8f5a}\n"
    ".verdict.refused{background:#fdecea;border:1px solid #c94040}\n"
    ".verdict.stopped{background:#fff4e0;border:1px solid #e39b3b}\n"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}\n"
    "th{background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "pre{background:#f6f6f6;padding:10px;overflow:auto;font-size:12px;white-space:pre-wrap}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}.lineage svg{max-width:100%;height:auto}\n"
    ".bad{color:#c94040}.good{color:#3b8f5a}a{color:#3b6fb6}\n"
)


def _num(key: str, value: Optional[float], fmt: str = "{:.4f}") -> str:
    if value is None:
        return '<span class="num">-</span>'
    return f'<span class="num" data-key="{html.escape(key)}">{fmt.format(value)}</span>'


def _verdict(r: RunReport) -> str:
    s = r.summary
    if r.status == "FAILED":
        why = html.escape(r.error or "the run's log holds the error")
        return (f'<div class="verdict stopped" id="verdict" data-verdict="stopped"><b>Stopped at '
                f"{html.escape(r.failed_step)}</b>: nothing was trained past it and nothing was "
                f"published.<pre>{why}</pre></div>")
    if s.pushed:
        where = "".join(f"<li>{html.escape(name)}: <code>{html.escape(uri)}</code></li>"
                        for name, uri in (s.pushed_destinations or {}).items())
        skipped = "".join(f"<li>{html.escape(name)}: skipped ({html.escape(why)})</li>"
                          for name, why in s.skipped_destinations.items())
        return ('<div class="verdict blessed" id="verdict" data-verdict="published">'
                '<b>Blessed and published as version <span data-key="pushed_version">'
                f"{html.escape(str(s.pushed_version))}</span></b>"
                f"<ul>{where}{skipped}</ul></div>")
    reasons = "".join(f"<li>{html.escape(e.model_format)}: {html.escape(e.failures)}</li>"
                      for e in s.evaluations if e.failures)
    blessed = r.blessed
    text = ("Not published: the gate refused the model" if not blessed else
            f"Blessed, not published: {html.escape(s.not_pushed_reason)}" if s.not_pushed_reason
            else
            "Blessed, and already published: nothing new to push")
    return (f'<div class="verdict {"blessed" if blessed else "refused"}" id="verdict" '
            f'data-verdict="{"blessed" if blessed else "refused"}"><b>{text}</b>'
            f"<ul>{reasons}</ul></div>")


def _data(r: RunReport) -> str:
    parts = ["<h2>Data</h2>"]
    gate = r.data_gate
    if gate:
        parts.append(f'<p>DataGate: <b id="data-verdict">{html.escape(str(gate.get("verdict")))}'
                     "</b>" + (" (drift accepted by --accept-drift)" if gate.get("accept_drift")
                               else "") + "</p>")
    if gate.get("problems"):
        rows = "".join(f"<tr><td>{html.escape(p['feature'])}</td><td>{html.escape(p['kind'])}</td>"
                       f"<td>{html.escape(p['description'])}</td></tr>" for p in gate["problems"])
        parts.append(f"<h3>Anomalies</h3><table><tr><th>feature</th><th>kind</th>"
                     f"<th>description</th></tr>{rows}</table>")
    drift = gate.get("drift") or {}
    if drift:
        thresholds = sorted({d["threshold"] for d in drift.values()})
        parts.append("<h3>Drift since the span of the model in production</h3>")
        short = {"quantile distance": "Q", "L-infinity distance": "L∞"}
        parts.append(charts.bars(
            # a small span's noise floor can lie above the threshold: the label gives its limit
            [(f"{name} ({short.get(d['measure'], 'JS')}, limit "
              f"{max(d['threshold'], d.get('noise_floor', 0.0)):.3g})", d["value"],
              "bad" if d["drifted"] else "good") for name, d in sorted(drift.items())],
            lines=[(t, "threshold", "bad") for t in thresholds], low=0.0,
            high=max([*thresholds, *(d["value"] for d in drift.values())]) * 1.1,
            chart_id="drift-chart"))
    if r.statistics:
        parts.append("<h3>Statistics</h3>" + _stats_table(r.statistics))
        parts.append('<div class="charts" id="statistics-charts">' + _stats_charts(r.statistics)
                     + "</div>")
    return "".join(parts)


def _stats_table(splits: dict[str, dict[str, FeatureStats]]) -> str:
    rows = []
    names = sorted({name for features in splits.values() for name in features})
    for name in names:
        for split, features in splits.items():
            f = features.get(name)
            if f is None:
                rows.append(f"<tr><td>{html.escape(name)}</td><td>{split}</td>"
                            "<td colspan=7 class=bad>absent</td></tr>")
                continue
            key = f"stats.{split}.{name}"
            if f.kind == "numeric":
                cells = (f'<td class=n>{_num(key + ".mean", f.mean, "{:.3f}")}</td>'
                         f'<td class=n>{_num(key + ".std", f.std, "{:.3f}")}</td>'
                         f'<td class=n>{f.minimum:g}</td><td class=n>{f.maximum:g}</td><td>-</td>')
            else:
                top = ", ".join(f"{html.escape(v)} ({share:.0%})" for v, share in f.top_values[:4])
                cells = f"<td>-</td><td>-</td><td>-</td><td>-</td><td>{f.unique} values: {top}</td>"
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{split}</td>"
                        f'<td class=n>{_num(key + ".count", f.count, "{:,.0f}")}</td>'
                        f"<td class=n>{f.missing:,}</td>{cells}</tr>")
    return ("<table id=statistics><tr><th>feature</th><th>split</th><th>values</th><th>missing</th>"
            "<th>mean</th><th>std</th><th>min</th><th>max</th><th>categories</th></tr>"
            + "".join(rows) + "</table>")


def _stats_charts(splits: dict[str, dict[str, FeatureStats]]) -> str:
    colours = {"train": "train", "eval": "eval", "previous train": "previous"}
    found = []
    names = sorted({name for features in splits.values() for name in features})
    for name in names:
        present = {split: features[name] for split, features in splits.items() if name in features}
        kinds = {f.kind for f in present.values()}
        if kinds == {"numeric"}:
            found.append(charts.histogram(
                {colours.get(split, split): f.histogram for split, f in present.items()},
                title=name, chart_id=f"histogram-{name}"))
        elif "train" in present and present["train"].kind == "categorical":
            found.append(charts.bars(
                [(value, share, "train") for value, share in present["train"].top_values[:8]],
                title=f"{name} (train, share of examples)", low=0.0, value_format="{:.2f}",
                chart_id=f"categories-{name}"))
    return "".join(found)


def _bound_lines(gate: dict, baseline: Optional[float]) -> list[tuple[float, str, str]]:
    lines = []
    if gate.get("lower_bound") is not None:
        lines.append((gate["lower_bound"], "lower bound", "bad"))
    if gate.get("upper_bound") is not None:
        lines.append((gate["upper_bound"], "upper bound", "bad"))
    if gate.get("max_change") is not None and baseline is not None:
        from components.common.tasks import lower_is_better

        sign = 1 if lower_is_better(gate["name"]) else -1
        lines.append((baseline + sign * gate["max_change"], "production ± max change",
                      "baseline"))
    return lines


def _model(r: RunReport) -> str:
    from components.common.tasks import metric_key

    evaluations = [e for e in r.summary.evaluations if not e.skipped]
    if not evaluations:
        return "<h2>Model</h2><p>No model was evaluated in this run.</p>"
    parts = ["<h2>Model: the gate</h2>"]
    for gate in r.gate_metrics:
        key = metric_key(gate["name"])
        rows = [(f"{e.model_format} (candidate)", e.metrics[key],
                 "candidate" if e.model_format == "SavedModel" else "tflite")
                for e in evaluations if key in e.metrics]
        baseline = next((e.baseline_metrics.get(key) for e in evaluations
                         if e.baseline_metrics.get(key) is not None), None)
        if baseline is not None:
            rows.append(("model in production", baseline, "baseline"))
        if rows:
            parts.append(charts.bars(rows, title=key, lines=_bound_lines(gate, baseline),
                                     chart_id=f"gate-{key}", zoom=True))
        table = "".join(
            f"<tr><td>{html.escape(e.model_format)}</td>"
            f'<td class=n>{_num(f"{e.model_format}.{key}", e.metrics.get(key))}</td>'
            f'<td class=n>{_num(f"{e.model_format}.baseline.{key}", e.baseline_metrics.get(key))}'
            f'</td><td class="{"good" if e.blessed else "bad"}">'
            f'{"blessed" if e.blessed else "NOT blessed"}</td></tr>' for e in evaluations)
        parts.append(f"<table><tr><th>model</th><th>{html.escape(key)}</th><th>in production"
                     f"</th><th>verdict</th></tr>{table}</table>")
        slices = {name: values for name, values in sorted(evaluations[0].slice_metrics.items())
                  if key in values}
        meaningful = {name: values for name, values in slices.items()
                      if not tasks.not_computable(key, values)}
        if meaningful:
            parts.append(charts.bars(
                [(name, values[key], "candidate") for name, values in meaningful.items()],
                title=f"{key} per slice (SavedModel)",
                lines=[(b, "slice lower bound", "bad") for b in {
                    v["lower_bound"] for v in (gate.get("slices") or {}).values()
                    if v.get("lower_bound") is not None}],
                chart_id=f"slices-{key}"))
        if len(meaningful) < len(slices):  # an AUC on a slice of one class: no bar, a reason
            parts.append("<p class=n-a>" + html.escape("; ".join(
                f"{name}: {key} {tasks.metric_text(key, values)}"
                for name, values in slices.items() if name not in meaningful)) + "</p>")
    return "".join(parts)


def _variants(r: RunReport) -> str:
    variants = r.summary.tflite_variants
    if not variants:
        return ""
    float32 = variants.get("float32", {}).get("size_bytes") or 0
    rows = []
    for name, info in variants.items():
        chosen = name == r.summary.mobile_variant
        latency = r.variant_latency_ms.get(name)
        ratio = f"{info['size_bytes'] / float32:.2f}x" if float32 else "-"
        rows.append(
            f"<tr><td>{html.escape(name)}{' <b>← for phones</b>' if chosen else ''}</td>"
            f'<td class=n>{_num(f"variant.{name}.bytes", info["size_bytes"], "{:,.0f}")}</td>'
            f"<td class=n>{ratio}</td>"
            f'<td class=n>{_num(f"variant.{name}.value", info.get("value"))}</td>'
            f'<td class=n>{_num(f"variant.{name}.latency_ms", latency, "{:.3f}")}</td>'
            f'<td class="{"good" if info["eligible"] else "bad"}">'
            f'{"eligible" if info["eligible"] else "refused"}</td></tr>')
    metric = next(iter(variants.values())).get("metric", "")
    size_chart = charts.bars(
        [(name, info["size_bytes"] / 1024, "chosen" if name == r.summary.mobile_variant else
          ("neutral" if info["eligible"] else "refused")) for name, info in variants.items()],
        title="size (KiB)", low=0.0, value_format="{:.1f}", chart_id="variant-sizes")
    metric_chart = charts.bars(
        [(name, info["value"], "chosen" if name == r.summary.mobile_variant else
          ("neutral" if info["eligible"] else "refused"))
         for name, info in variants.items() if info.get("value") is not None],
        title=metric, chart_id="variant-metrics", zoom=True)
    latency_chart = charts.bars(
        [(name, ms, "neutral") for name, ms in r.variant_latency_ms.items()],
        title="single-example latency (ms, 1 thread, this machine)", low=0.0,
        value_format="{:.3f}", chart_id="variant-latency") if r.variant_latency_ms else ""
    return ("<h2>TFLite variants</h2><table id=variants><tr><th>variant</th><th>bytes</th>"
            f"<th>× float32</th><th>{html.escape(metric)}</th><th>latency ms</th><th>verdict</th>"
            f"</tr>{''.join(rows)}</table>"
            f'<div class="charts">{size_chart}{metric_chart}{latency_chart}</div>')


def _lineage(r: RunReport) -> str:
    if not r.lineage_svg:
        return ("<h2>Lineage</h2><p>No model was trained in this run, or Graphviz's "
                "<code>dot</code> is not installed: no lineage graph.</p>")
    svg = r.lineage_svg[r.lineage_svg.index("<svg"):]
    return f'<h2>Lineage of the model</h2><div class="lineage" id="lineage">{svg}</div>'


def _timings(r: RunReport) -> str:
    records = [e for e in r.summary.executions if e.node_id != "?"]
    chart = charts.bars(
        [(f"{e.node_id} ({e.state.lower()})", e.seconds,
          "bad" if e.state == "FAILED" else "baseline" if e.state == "CACHED" else "neutral")
         for e in records], title="seconds per component", low=0.0, value_format="{:.1f}",
        unit=" s", chart_id="timings")
    return f"<h2>Timings</h2>{chart}"


def render(r: RunReport) -> str:
    span = "" if r.span is None else f" · span {r.span}"
    return ("<!doctype html><html lang=en><head><meta charset='utf-8'>"
            "<link rel='icon' href='data:,'>"
            f"<title>{html.escape(r.pipeline_name)} · run {html.escape(r.run_name)}</title>"
            f"<style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(r.pipeline_name)}</h1>"
            f'<div class="meta">run <span id="run-id">{html.escape(r.run_name)}</span>{span} · '
            f"{r.status} · report made {r.created}</div>"
            + _verdict(r) + _data(r) + _model(r) + _variants(r) + _lineage(r) + _timings(r)
            + "</body></html>")


def write(r: RunReport, path: str) -> str:
    import os

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        handle.write(render(r))
    os.replace(path + ".tmp", path)
    return path
