"""`mlops ui`: a read-only runs browser on localhost. It lists the runs in ML Metadata (SQLite,
MySQL, or a store Kubeflow wrote) with their verdicts, serves each run's report page and each
model version's lineage, and compares two runs side by side. It binds to loopback only and never
writes to the store (SQLite is opened read-only)."""

from __future__ import annotations

import html
import ipaddress
import socket
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable, Optional

from mlops import metadata, report

PAGE_HEAD = ("<!doctype html><html lang=en><head><meta charset='utf-8'>"
             "<link rel='icon' href='data:,'><title>{title}</title><style>"
             "body{{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px}}"
             "table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px solid #ddd;"
             "padding:4px 8px;text-align:left}}th{{background:#f4f6f8}}a{{color:#3b6fb6}}"
             ".cols{{display:flex;gap:12px}}.cols iframe{{flex:1;height:1400px;border:1px solid "
             "#ddd}}.stopped,.no{{color:#c94040}}.yes{{color:#3b8f5a}}</style></head><body>")


class UIError(ValueError):
    """The server cannot start as asked (e.g. a non-loopback address)."""


def check_loopback(host: str) -> str:
    """`host` if it is a loopback address (127.0.0.0/8, ::1, localhost); else UIError."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        raise UIError(f"cannot resolve host {host!r}") from None
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback
                                for a in addresses):
        raise UIError(f"refusing to serve on {host}: the runs browser binds to loopback only "
                      "(127.0.0.1 or ::1); reach it from elsewhere through an SSH tunnel")
    return host


def _page(title: str, body: str) -> str:
    return PAGE_HEAD.format(title=html.escape(title)) + body + "</body></html>"


def runs_page(store, pipeline_name: str) -> str:
    rows = report.list_runs(store, pipeline_name)
    if not rows:
        others = [name for name in report.pipeline_names(store) if name != pipeline_name]
        held = f" The store holds runs of: {', '.join(others)}." if others else ""
        return _page("runs", f"<h1>{html.escape(pipeline_name)}</h1><p>No runs recorded yet."
                             f"{html.escape(held)}</p>")
    lines = []
    for row in reversed(rows):
        run = urllib.parse.quote(row["run_id"])
        blessed = "-" if row["blessed"] is None else ("yes" if row["blessed"] else "no")
        version = row["pushed_version"]
        lineage = (f'<a class="lineage" href="/lineage?version={version}">version {version}</a>'
                   if version else "-")
        lines.append(
            f'<tr class="run" data-run="{html.escape(row["run_id"])}">'
            f'<td><a class="report" href="/report?run={run}">{html.escape(row["run_id"])}</a></td>'
            f"<td>{row['status']}</td><td>{row['span'] if row['span'] is not None else '-'}</td>"
            f'<td class="{"stopped" if row.get("data") == "stopped" else ""}">'
            f"{html.escape(row.get('data') or '-')}</td>"
            f'<td class="{blessed}">{blessed}</td><td>{lineage}</td>'
            f"<td>{html.escape(row.get('metric') or '-')}</td><td>{row['seconds']:.1f}</td>"
            f'<td><input type="radio" name="a" value="{html.escape(row["run_id"])}">'
            f'<input type="radio" name="b" value="{html.escape(row["run_id"])}"></td></tr>')
    body = (f"<h1>{html.escape(pipeline_name)}: runs</h1><form action='/compare'>"
            "<table id=runs><tr><th>run</th><th>status</th><th>span</th><th>data</th>"
            "<th>blessed</th><th>published</th><th>metric</th><th>seconds</th>"
            "<th>compare a / b</th></tr>" + "".join(lines) + "</table>"
            "<p><button type=submit>Compare a and b</button></p></form>")
    return _page(f"{pipeline_name} runs", body)


def compare_page(store, pipeline_name: str, first: str, second: str) -> str:
    rows = {r["run_id"]: r for r in report.list_runs(store, pipeline_name)}
    missing = [run for run in (first, second) if run not in rows]
    if missing:
        raise KeyError(f"no run {missing[0]!r}")
    keys = ("status", "span", "data", "blessed", "pushed_version", "metric", "seconds",
            "executions", "cached")
    table = "".join(
        f"<tr><th>{key}</th><td data-run='a'>{html.escape(str(rows[first].get(key)))}</td>"
        f"<td data-run='b'>{html.escape(str(rows[second].get(key)))}</td></tr>" for key in keys)
    frames = "".join(f'<iframe title="{html.escape(run)}" src="/report?run='
                     f'{urllib.parse.quote(run)}"></iframe>' for run in (first, second))
    body = (f"<p><a href='/'>all runs</a></p><h1>{html.escape(first)} against "
            f"{html.escape(second)}</h1><table id=comparison><tr><th></th><th>a: "
            f"{html.escape(first)}</th><th>b: {html.escape(second)}</th></tr>{table}</table>"
            f"<div class=cols>{frames}</div>")
    return _page("compare runs", body)


def report_html(store, pipeline_name: str, run: str) -> str:
    from mlops import report_page, run_report

    return report_page.render(run_report.collect(store, pipeline_name, run))


def lineage_html(store, pipeline_name: str, version: str) -> str:
    from mlops import lineage, lineage_view

    return lineage_view.page_html(lineage.trace(store, pipeline_name, version=version))


def make_handler(open_store: Callable[[], object], pipeline_name: str):
    store_holder: dict[str, object] = {}

    def store():
        if "store" not in store_holder:
            store_holder["store"] = open_store()
        return store_holder["store"]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the terminal shows the URL only
            pass

        def _send(self, status: int, content: str) -> None:
            data = content.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urllib.parse.urlparse(self.path)
            query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            try:
                if url.path == "/":
                    content = runs_page(store(), pipeline_name)
                elif url.path == "/report" and "run" in query:
                    content = report_html(store(), pipeline_name, query["run"])
                elif url.path == "/lineage" and "version" in query:
                    content = lineage_html(store(), pipeline_name, query["version"])
                elif url.path == "/compare" and {"a", "b"} <= set(query):
                    content = compare_page(store(), pipeline_name, query["a"], query["b"])
                else:
                    self._send(HTTPStatus.NOT_FOUND, _page("not found", "<p>Not found. "
                                                           "<a href='/'>All runs</a></p>"))
                    return
            except LookupError as err:  # an unknown run or version
                self._send(HTTPStatus.NOT_FOUND, _page("not found", f"<p>{html.escape(str(err))}"
                                                       "</p><p><a href='/'>All runs</a></p>"))
                return
            self._send(HTTPStatus.OK, content)

        def _read_only(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, _page("read-only", "<p>Read-only.</p>"))

        do_POST = do_PUT = do_DELETE = do_PATCH = _read_only  # noqa: N815

    return Handler


def read_only_store(target):
    """The store opened so that it cannot be written: SQLite in read-only mode; MySQL as is (the
    browser issues reads only)."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    if target.kind == "sqlite":
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = target.path
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
        return metadata_store.MetadataStore(config)
    return metadata.open_store(target)


def serve(open_store: Callable[[], object], pipeline_name: str, host: str, port: int,
          ready: Optional[Callable[[str], None]] = None) -> None:
    check_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    class Server(HTTPServer):
        address_family = family

    server = Server((host, port), make_handler(open_store, pipeline_name))
    url_host = f"[{host}]" if ":" in host else host
    if ready:
        ready(f"http://{url_host}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    finally:
        server.server_close()
