"""A real HTTP server speaking the OpenAI protocol (Chat Completions, Files, Batches), replaying scripted behaviours.

It is the only stand-in the tests use (for a remote LLM service). Each chat request — sent directly or as one
line of a batch — pops the next scripted step (or repeats the default step): ``grounded`` answers by citing
facts from the prompt's FACTS block, ``fabricate`` adds an invented number, ``status:429`` / ``status:500``
fail, ``sleep:S`` stalls before answering (client timeouts; ignored in batches), ``truncate`` answers with
finish_reason "length", ``no_choices`` answers 200 with an empty ``choices`` list, ``text:…`` answers that text.

Structured output: a request with a JSON-schema ``response_format`` is answered with JSON of the plan schema
(``structured="json"``), refused with HTTP 400 (``"refuse"``, a server without the feature) or answered in
prose regardless (``"ignore"``, a server that drops the field).

Batch API: ``POST /files`` (multipart, purpose ``batch``), ``POST /batches``, ``GET /batches/{id}`` (each
retrieval advances validating → in_progress → the outcome after ``batch_polls`` retrievals),
``GET /files/{id}/content`` (output and error JSONL), ``POST /batches/{id}/cancel``. ``batch_outcome`` is
``completed``, ``failed`` or ``expired`` (expired batches still return the lines they finished: none here).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FACT_LINE = re.compile(r"^\[F:([^\]]+)\] (.*?) = (.+?)(?: \(|$)", re.M)
FABRICATION = "- Expansion is 5-7x cheaper than acquisition and we will reach $9,999,999 next year."


def grounded_lines(prompt: str, limit: int = 6) -> list[tuple[str, str]]:
    """(fact id, sentence citing it) for the first ``limit`` facts with a value — what a good model writes."""
    lines = []
    for fact_id, _label, display in FACT_LINE.findall(prompt)[: limit * 3]:
        if display != "no data" and len(lines) < limit:
            lines.append((fact_id, f"- Metric {fact_id.replace('.', ' ')} is {display} [F:{fact_id}]."))
    return lines


def grounded_answer(prompt: str, limit: int = 6) -> str:
    """A plan in prose that states the first ``limit`` facts with a value, each cited."""
    body = [line for _fid, line in grounded_lines(prompt, limit)]
    return "\n".join(["## Customer Lifecycle Overview", "The lifecycle below rests only on computed facts.", *body])


def structured_answer(prompt: str, extra: str = "") -> str:
    """The same plan as JSON of the plan schema (``prompts.structured.PlanAnswer``)."""
    lines = grounded_lines(prompt)
    content = "\n".join(["The lifecycle below rests only on computed facts.", *(line for _f, line in lines)] + ([extra] if extra else []))
    return json.dumps({"title": "Lifecycle plan", "sections": [
        {"heading": "Customer Lifecycle Overview", "content": content, "fact_ids": [fid for fid, _l in lines]}]})


class ScriptedOpenAI:
    """Start with ``with ScriptedOpenAI(["status:429", "grounded"]) as server: server.base_url``."""

    def __init__(self, script: list[str] | None = None, default: str = "grounded", structured: str = "json",
                 batch_polls: int = 2, batch_outcome: str = "completed", batch_api: bool = True) -> None:
        self.script: deque[str] = deque(script or [])
        self.default = default
        self.structured = structured
        self.batch_polls = batch_polls
        self.batch_outcome = batch_outcome
        self.batch_api = batch_api  # False: /files and /batches answer 404, like llama-server
        self.requests: list[dict[str, Any]] = []  # chat requests sent directly
        self.batch_lines: list[dict[str, Any]] = []  # chat requests sent in batches
        self.auth_headers: list[str] = []
        self.api_key_headers: list[str] = []  # Azure-style ``api-key`` header
        self.paths: list[str] = []  # every request's path and query, in order
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_step(self) -> str:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    def chat(self, body: dict[str, Any], in_batch: bool = False) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer to one Chat Completions request body."""
        step = self.next_step()
        if step.startswith("status:"):
            code = int(step.split(":")[1])
            return code, {"error": {"message": f"scripted {code}", "type": "scripted"}}
        if step.startswith("sleep:"):
            if not in_batch:
                time.sleep(float(step.split(":")[1]))
            step = self.default
        wants_schema = (body.get("response_format") or {}).get("type") == "json_schema"
        if wants_schema and self.structured == "refuse":
            return 400, {"error": {"message": "response_format is not supported by this server", "type": "invalid_request_error"}}
        messages = body.get("messages", [])
        prompt = messages[1]["content"] if len(messages) > 1 else ""
        extra = FABRICATION if step == "fabricate" else ""
        if step.startswith("text:"):
            text = step[5:]
        elif wants_schema and self.structured == "json":
            text = structured_answer(prompt, extra)
        else:
            text = grounded_answer(prompt) + ("\n" + extra if extra else "")
        finish = "stop"
        if step == "no_choices":
            return 200, {"id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": "scripted", "choices": []}
        if step == "truncate":
            text, finish = text[: len(text) // 2], "length"
        return 200, {
            "id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4,
                      "total_tokens": (len(prompt) + len(text)) // 4},
        }

    def _new_file(self, content: bytes, purpose: str) -> dict[str, Any]:
        file_id = f"file-{len(self.files) + 1}"
        record = {"id": file_id, "object": "file", "bytes": len(content), "created_at": 0, "filename": f"{file_id}.jsonl",
                  "purpose": purpose, "status": "processed", "_content": content}
        self.files[file_id] = record
        return record

    def _run_batch(self, batch: dict[str, Any]) -> None:
        lines = self.files[batch["input_file_id"]]["_content"].decode().splitlines()
        output, errors = [], []
        for number, line in enumerate(lines):
            request = json.loads(line)
            self.batch_lines.append(request["body"])
            code, payload = self.chat(request["body"], in_batch=True)
            result = {"id": f"batch_req_{number}", "custom_id": request["custom_id"],
                      "response": {"status_code": code, "request_id": f"req_{number}", "body": payload}, "error": None}
            (output if code == 200 else errors).append(json.dumps(result))
        if output:
            batch["output_file_id"] = self._new_file("\n".join(output).encode() + b"\n", "batch_output")["id"]
        if errors:
            batch["error_file_id"] = self._new_file("\n".join(errors).encode() + b"\n", "batch_output")["id"]
        batch["request_counts"] = {"total": len(lines), "completed": len(output), "failed": len(errors)}

    def _advance(self, batch: dict[str, Any]) -> None:
        batch["_polls"] += 1
        if batch["status"] in ("completed", "failed", "expired", "cancelled"):
            return
        if batch["_polls"] < self.batch_polls:
            batch["status"] = "in_progress"
            return
        if self.batch_outcome == "completed":
            self._run_batch(batch)
        elif self.batch_outcome == "failed":
            batch["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "scripted failure", "line": 1}]}
        batch["status"] = self.batch_outcome

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with owner._lock:
                    owner.auth_headers.append(self.headers.get("Authorization", ""))
                    owner.api_key_headers.append(self.headers.get("api-key", ""))
                    owner.paths.append(self.path)
                path = self.path.split("?")[0]
                if path.endswith("/chat/completions"):
                    body = json.loads(raw or b"{}")
                    with owner._lock:
                        owner.requests.append(body)
                    return self._send(*owner.chat(body))
                if not owner.batch_api:
                    return self._send(404, {"error": {"message": "not found"}})
                if path.endswith("/files"):
                    fields = self._multipart(raw)
                    with owner._lock:
                        record = owner._new_file(fields["file"], fields["purpose"].decode())
                    return self._send(200, {k: v for k, v in record.items() if not k.startswith("_")})
                if path.endswith("/batches"):
                    body = json.loads(raw or b"{}")
                    if body.get("input_file_id") not in owner.files:
                        return self._send(400, {"error": {"message": "unknown input_file_id"}})
                    with owner._lock:
                        batch_id = f"batch_{len(owner.batches) + 1}"
                        owner.batches[batch_id] = batch = {
                            "id": batch_id, "object": "batch", "endpoint": body["endpoint"], "input_file_id": body["input_file_id"],
                            "completion_window": body["completion_window"], "status": "validating", "created_at": 0,
                            "request_counts": {"total": 0, "completed": 0, "failed": 0}, "_polls": 0}
                    return self._send(200, self._public(batch))
                match = re.search(r"/batches/([^/]+)/cancel$", path)
                if match and match.group(1) in owner.batches:
                    batch = owner.batches[match.group(1)]
                    batch["status"] = "cancelled"
                    return self._send(200, self._public(batch))
                return self._send(404, {"error": {"message": "not found"}})

            def do_GET(self) -> None:  # noqa: N802
                with owner._lock:
                    owner.paths.append(self.path)
                path = self.path.split("?")[0]
                match = re.search(r"/batches/([^/]+)$", path)
                if match and match.group(1) in owner.batches:
                    with owner._lock:
                        batch = owner.batches[match.group(1)]
                        owner._advance(batch)
                    return self._send(200, self._public(batch))
                match = re.search(r"/files/([^/]+)/content$", path)
                if match and match.group(1) in owner.files:
                    return self._send_bytes(200, owner.files[match.group(1)]["_content"], "application/octet-stream")
                return self._send(404, {"error": {"message": "not found"}})

            def _multipart(self, raw: bytes) -> dict[str, bytes]:
                header = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
                return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                        for part in message.iter_parts()}

            @staticmethod
            def _public(batch: dict[str, Any]) -> dict[str, Any]:
                return {k: v for k, v in batch.items() if not k.startswith("_")}

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                self._send_bytes(code, json.dumps(payload).encode(), "application/json")

            def _send_bytes(self, code: int, data: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


if __name__ == "__main__":  # run standalone for the kill-and-resume test and manual use
    import sys

    default = sys.argv[1] if len(sys.argv) > 1 else "grounded"
    with ScriptedOpenAI(default=default) as server:
        print(server.base_url, flush=True)
        while True:
            time.sleep(3600)
