"""A real HTTP server speaking the OpenAI Chat Completions protocol, replaying scripted behaviours.

It is the only stand-in the tests use (for a remote LLM service). Each request pops the next scripted step
(or repeats the default step): ``grounded`` answers by citing facts from the prompt's FACTS block,
``fabricate`` adds an invented number, ``status:429`` / ``status:500`` fail, ``sleep:S`` stalls before
answering (client timeouts), ``truncate`` answers with finish_reason "length".
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FACT_LINE = re.compile(r"^\[F:([^\]]+)\] (.*?) = (.+?)(?: \(|$)", re.M)


def grounded_answer(prompt: str, limit: int = 6) -> str:
    """A plan that states the first ``limit`` facts with a value, each cited — what a good model writes."""
    lines = ["## Customer Lifecycle Overview", "The lifecycle below rests only on computed facts."]
    for fact_id, _label, display in FACT_LINE.findall(prompt)[: limit * 3]:
        if display != "no data" and limit > 0:
            lines.append(f"- Metric {fact_id.replace('.', ' ')} is {display} [F:{fact_id}].")
            limit -= 1
    return "\n".join(lines)


class ScriptedOpenAI:
    """Start with ``with ScriptedOpenAI(["status:429", "grounded"]) as server: server.base_url``."""

    def __init__(self, script: list[str] | None = None, default: str = "grounded") -> None:
        self.script: deque[str] = deque(script or [])
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.auth_headers: list[str] = []
        self._lock = threading.Lock()
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with owner._lock:
                    owner.requests.append(body)
                    owner.auth_headers.append(self.headers.get("Authorization", ""))
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}})
                step = owner.next_step()
                if step.startswith("status:"):
                    code = int(step.split(":")[1])
                    return self._send(code, {"error": {"message": f"scripted {code}", "type": "scripted"}})
                if step.startswith("sleep:"):
                    time.sleep(float(step.split(":")[1]))
                    step = owner.default
                prompt = body["messages"][1]["content"] if len(body.get("messages", [])) > 1 else ""
                text = grounded_answer(prompt)
                finish = "stop"
                if step == "fabricate":
                    text += "\n- Expansion is 5-7x cheaper than acquisition and we will reach $9,999,999 next year."
                elif step == "truncate":
                    text, finish = text[: len(text) // 2], "length"
                elif step.startswith("text:"):
                    text = step[5:]
                self._send(200, {
                    "id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
                    "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4,
                              "total_tokens": (len(prompt) + len(text)) // 4},
                })

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
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
