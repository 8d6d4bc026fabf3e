"""How a lineage looks: text for the terminal, a Graphviz graph (SVG), and a page with both."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from typing import Any

from components.common import tasks
from components.common.names import PUSHER_ID
from mlops.lineage import Lineage, LineageError


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return "-" if value is None else str(value)


def format_text(lineage: Lineage) -> str:
    target = lineage.target
    title = (f"Pushed model version {target['pushed_version']}"
             if "pushed_version" in target else f"{target['type']} artifact")
    lines = [f"{title} (artifact {target['artifact_id']}): {target['uri']}"]
    for step in lineage.steps:
        lines.append(f"<- {step.node_id}  execution {step.execution_id}, run {step.run_id}, "
                     f"{step.state}, {step.started} .. {step.finished}")
        for key, value in step.details.items():
            if key == "change" and value is not None:
                lines.append(f"     {key}: " + ", ".join(f"{k}={v:+.4f}" for k, v in value.items()))
            elif key == "slices" and value:
                for name, metrics in value.items():
                    lines.append(f"     slice {name}: " + ", ".join(
                        f"{k}={tasks.metric_text(k, metrics)}" for k in metrics
                        if k != tasks.MEAN_LABEL))
            elif key == "variants" and value:
                for name, metrics in value.items():
                    lines.append(f"     variant {name}: {_fmt(metrics)}")
            elif key == "destinations":
                for name, uri in value.items():
                    lines.append(f"     {name}: {uri}")
            else:
                lines.append(f"     {key}: {_fmt(value)}")
    return "\n".join(lines)


def dot_source(lineage: Lineage) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph lineage {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica",'
             ' fontsize=10];', '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    for step in lineage.steps:
        summary = [f"{step.node_id}", f"execution {step.execution_id} · {step.state}"]
        details = step.details
        if "span" in details:
            summary.append(f"span {details['span']}")
        for name, value in (details.get("metrics") or {}).items():
            line = f"{name} {value:.4f}"
            if (details.get("baseline_metrics") or {}).get(name) is not None:
                line += f" (baseline {details['baseline_metrics'][name]:.4f})"
            summary.append(line)
        if "blessed" in details:
            summary.append("blessed" if details["blessed"] else "NOT blessed")
        for name, verdict in (details.get("variants") or {}).items():
            summary.append(f"{name} {'eligible' if verdict['eligible'] else 'refused'}")
        if details.get("train_steps") is not None:
            summary.append(f"{details['train_steps']} steps")
        if details.get("version") and step.node_id == PUSHER_ID:
            summary.append(f"pushed version {details['version']}")
        color = "#fde2e2" if details.get("blessed") is False else "#eef3fb"
        lines.append(f"  e{step.execution_id} [label={quote(chr(10).join(summary))}, "
                     f"fillcolor={quote(color)}];")
    for producer, consumer, key in lineage.edges():
        lines.append(f"  e{producer} -> e{consumer} [label={quote(key)}];")
    lines.append("}")
    return "\n".join(lines)


def graph_svg(lineage: Lineage) -> str:
    """The lineage graph as an SVG document (Graphviz `dot`)."""
    dot = shutil.which("dot")
    if dot is None:
        raise LineageError("rendering the graph needs Graphviz's `dot` "
                           "(Debian: apt-get install graphviz)")
    return subprocess.run([dot, "-Tsvg"], input=dot_source(lineage), capture_output=True, text=True,
                          check=True).stdout


def page_html(lineage: Lineage) -> str:
    """The lineage as a page: the graph, then every detail."""
    svg = graph_svg(lineage)
    return ("<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
            "<title>Model lineage</title><style>body{font-family:sans-serif;margin:2em}"
            "pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head><body>"
            f"<h1>Lineage of artifact {lineage.target['artifact_id']}</h1>"
            f"<div id=lineage>{svg[svg.index('<svg'):]}</div>"
            f"<h2>Details</h2><pre>{html.escape(format_text(lineage))}</pre></body></html>")


def render(lineage: Lineage, path: str) -> str:
    """Writes the lineage graph as .svg, or .html (the picture plus every detail)."""
    if not path.endswith((".svg", ".html")):
        raise LineageError(f"--graph must name a .svg or .html file, got {path}")
    content = graph_svg(lineage) if path.endswith(".svg") else page_html(lineage)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(content)
    return path
