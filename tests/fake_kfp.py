"""A local HTTP server that answers like Kubeflow Pipelines' v2beta1 API and records every request.

It keeps just enough state (pipelines, versions, experiments, recurring runs, runs) for kfp.Client's
deploy / schedule / run calls; tests then check every recorded body against kfp_server_api's models.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import threading
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/apis/v2beta1"


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict
    body: object  # parsed JSON, or {"file": bytes, "filename": str} for uploads
    authorization: str = ""  # the Authorization header, as the API server's auth reads it


class FakeKfp:
    def __init__(self, token: str = ""):
        # With `token`, every request must carry it as a bearer token, as a multi-user KFP behind
        # its auth proxy requires; others get 401 (healthz included).
        self.token = token
        self.requests: list[Request] = []
        self.pipelines: dict[str, dict] = {}
        self.versions: dict[str, list[dict]] = {}
        self.experiments: dict[str, dict] = {}
        self.recurring_runs: dict[str, dict] = {}
        self.runs: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = None
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("multipart/form-data"):
                    message = BytesParser(policy=default_policy).parsebytes(
                        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
                    for part in message.iter_parts():
                        if part.get_param("name", header="content-disposition") == "uploadfile":
                            body = {"file": part.get_payload(decode=True),
                                    "filename": part.get_filename()}
                elif raw:
                    body = json.loads(raw)
                path = url.path.removeprefix(PREFIX)
                authorization = self.headers.get("Authorization", "")
                fake.requests.append(Request(self.command, path, query, body, authorization))
                if fake.token and authorization != f"Bearer {fake.token}":
                    self._answer(401, {"error": "Unauthorized", "code": 16})
                    return
                status, payload = fake.route(self.command, path, query, body)
                self._answer(status, payload)

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _id(self, kind):
        return f"{kind}-{next(self._ids)}"

    def _now(self):
        return f"2026-01-01T00:00:{next(self._clock):02d}Z"

    @staticmethod
    def _name_filter(query):
        if "filter" not in query:
            return None
        for predicate in json.loads(query["filter"]).get("predicates", []):
            if predicate.get("key") in ("display_name", "name"):
                return predicate.get("string_value") or predicate.get("stringValue")
        return None

    def route(self, method, path, query, body):
        if path == "/healthz":
            return 200, {"multi_user": False}
        if path == "/pipelines" and method == "GET":
            name = self._name_filter(query)
            found = [p for p in self.pipelines.values() if name in (None, p["display_name"])]
            return 200, {"pipelines": found, "total_size": len(found)} if found else {}
        if path == "/pipelines/upload" and method == "POST":
            pipeline_id = self._id("pipeline")
            pipeline = {"pipeline_id": pipeline_id, "display_name": query["name"],
                        "created_at": self._now()}
            self.pipelines[pipeline_id] = pipeline
            self.versions[pipeline_id] = [self._version(pipeline_id, query["name"], body)]
            return 200, pipeline
        if path == "/pipelines/upload_version" and method == "POST":
            pipeline_id = query["pipelineid"]
            if pipeline_id not in self.pipelines:
                return 404, {"error": "pipeline not found"}
            version = self._version(pipeline_id, query["name"], body)
            self.versions[pipeline_id].append(version)
            return 200, version
        match = re.fullmatch(r"/pipelines/([^/]+)/versions", path)
        if match and method == "GET":
            versions = sorted(self.versions.get(match.group(1), []),
                              key=lambda v: v["created_at"],
                              reverse="desc" in query.get("sort_by", ""))
            return 200, {"pipeline_versions": versions, "total_size": len(versions)}
        if path == "/experiments" and method == "GET":
            name = self._name_filter(query)
            found = [e for e in self.experiments.values() if name in (None, e["display_name"])]
            return 200, {"experiments": found, "total_size": len(found)} if found else {}
        if path == "/experiments" and method == "POST":
            experiment = {**body, "experiment_id": self._id("experiment")}
            self.experiments[experiment["experiment_id"]] = experiment
            return 200, experiment
        if path == "/recurringruns" and method == "POST":
            recurring = {**body, "recurring_run_id": self._id("recurring"),
                         "created_at": self._now()}
            self.recurring_runs[recurring["recurring_run_id"]] = recurring
            return 200, recurring
        if path == "/recurringruns" and method == "GET":
            found = [r for r in self.recurring_runs.values()
                     if r.get("experiment_id") == query.get("experiment_id")]
            return 200, {"recurringRuns": found, "total_size": len(found)} if found else {}
        match = re.fullmatch(r"/recurringruns/([^/]+)", path)
        if match and method == "DELETE":
            self.recurring_runs.pop(match.group(1), None)
            return 200, {}
        if path == "/runs" and method == "POST":
            run = {**body, "run_id": self._id("run"), "state": "PENDING"}
            self.runs[run["run_id"]] = run
            return 200, run
        return 404, {"error": f"fake KFP has no route for {method} {path}"}

    def _version(self, pipeline_id, name, upload):
        return {"pipeline_id": pipeline_id, "pipeline_version_id": self._id("version"),
                "display_name": name, "created_at": self._now(),
                "pipeline_spec_bytes": len(upload["file"])}
