"""The OpenAI Batch API as a way to run ``lifecycle plan`` (``--batch``): half the price, answers within 24 hours.

Each target's coroutine asks :meth:`BatchCollector.complete` for an answer exactly as it would ask
:meth:`prompts.llm.ChatClient.complete`. The collector holds the request until every target still running is
waiting on one, then sends all held requests as one batch job — so a run makes one batch for the first drafts
and, when some drafts have unverified numbers, a second one for their revisions:

1. each request becomes a JSONL line ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``
   with the same body a direct call would send (``response_format`` included for structured output);
   ``custom_id`` is a hash of the body, so identical requests are asked once;
2. the file is uploaded (``purpose="batch"``), the batch created (``completion_window="24h"``), and polled every
   ``poll_interval_s`` seconds until it is completed, failed, expired or cancelled;
3. the output and error files are read; each answer is saved under ``<out>/.batch/responses/`` and handed to
   its waiting target, each failed line becomes that target's error.

Resumable: the batch id is written to ``<out>/.batch/`` as soon as the batch exists, keyed by the hash of its
input file. A killed or interrupted run, started again with the same inputs, finds the saved answers and
re-attaches to the batch in flight instead of paying for a new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prompts.files import write_file_atomically
from prompts.llm import ChatClient, Completion, LLMError, chat_messages, completion_from_response, translated_errors
from prompts.structured import response_format

ENDPOINT = "/v1/chat/completions"
AZURE_ENDPOINT = "/chat/completions"
"""Azure OpenAI's batch lines and ``endpoint`` omit the ``/v1`` (its batch guide); chosen when ``api_version`` is set."""
TERMINAL_STATUSES = ("completed", "failed", "expired", "cancelled")
StatusCallback = Callable[[str], None]
NO_BATCH_API = "the endpoint does not offer the Batch API (HTTP 404 on /files or /batches); run without --batch"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BatchCollector:
    """Gathers the chat requests of ``targets`` concurrently running targets into Batch API jobs."""

    def __init__(self, chat: ChatClient, state_dir: Path, targets: int, poll_interval_s: float = 30.0,
                 on_status: StatusCallback | None = None) -> None:
        self.settings = chat.settings
        self._chat = chat
        self._client = chat.openai_client
        self._state_dir = state_dir
        self._responses = state_dir / "responses"
        self._active = targets
        self._poll_interval_s = poll_interval_s
        self._on_status = on_status or (lambda message: None)
        self._endpoint = AZURE_ENDPOINT if chat.settings.api_version else ENDPOINT
        self._waiting: list[tuple[str, dict[str, Any], asyncio.Future[Completion]]] = []
        self._jobs: set[asyncio.Task[None]] = set()
        self.batch_ids: list[str] = []

    def request_body(self, prompt: str, revision_of: str | None = None, feedback: str | None = None) -> dict[str, Any]:
        """The Chat Completions body of one request (what a direct call would send)."""
        body: dict[str, Any] = {"model": self.settings.model, "messages": chat_messages(prompt, revision_of, feedback),
                                "temperature": self.settings.temperature}
        if self.settings.max_tokens is not None:
            body["max_tokens"] = self.settings.max_tokens
        if self.settings.structured != "off":
            body["response_format"] = response_format()
        return body

    async def complete(self, prompt: str, revision_of: str | None = None, feedback: str | None = None) -> Completion:
        """The answer to one request, once the batch it joins has finished."""
        body = self.request_body(prompt, revision_of, feedback)
        custom_id = "req-" + _hash(json.dumps(body, sort_keys=True).encode())[:32]
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        self._waiting.append((custom_id, body, future))
        self._maybe_flush()
        return await future

    def target_finished(self) -> None:
        """One target will ask for nothing more (done, skipped or failed)."""
        self._active -= 1
        self._maybe_flush()

    async def close(self) -> None:
        for job in list(self._jobs):
            await job
        await self._chat.close()

    def _maybe_flush(self) -> None:
        if self._waiting and len(self._waiting) >= self._active:
            waiting, self._waiting = self._waiting, []
            job = asyncio.get_running_loop().create_task(self._answer(waiting))
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)

    async def _answer(self, waiting: list[tuple[str, dict[str, Any], asyncio.Future[Completion]]]) -> None:
        try:
            results = self._saved_results({cid for cid, _b, _f in waiting})
            missing = {cid: body for cid, body, _f in waiting if cid not in results}
            failures: dict[str, str] = {}
            if missing:
                fresh, failures = await self._run_batch(missing)
                results.update(fresh)
            for cid, _body, future in waiting:
                if future.done():  # its target was cancelled (an interrupted run)
                    continue
                try:
                    if cid not in results:
                        raise LLMError(failures.get(cid, "the batch returned no answer for this request"))
                    future.set_result(self._completion(results[cid]))
                except LLMError as exc:
                    future.set_exception(exc)
        except Exception as exc:  # every waiting target gets the reason; none hangs
            error = exc if isinstance(exc, LLMError) else LLMError(f"batch run failed: {type(exc).__name__}: {exc}")
            for _cid, _body, future in waiting:
                if not future.done():
                    future.set_exception(error)

    def _completion(self, body: dict[str, Any]) -> Completion:
        from openai.types.chat import ChatCompletion

        response = ChatCompletion.model_validate(body)
        return completion_from_response(response, self.settings.model, structured=self.settings.structured != "off")

    def _saved_results(self, custom_ids: set[str]) -> dict[str, dict[str, Any]]:
        saved = {}
        for cid in custom_ids:
            try:
                saved[cid] = json.loads((self._responses / f"{cid}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
        return saved

    async def _run_batch(self, requests: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Send ``requests`` (custom_id → body) as one batch; (answers by custom_id, failure reasons by custom_id)."""
        lines = [json.dumps({"custom_id": cid, "method": "POST", "url": self._endpoint, "body": requests[cid]}, sort_keys=True)
                 for cid in sorted(requests)]
        content = ("\n".join(lines) + "\n").encode()
        state_path = self._state_dir / f"batch-{_hash(content)[:24]}.json"
        with translated_errors(self.settings, not_found=NO_BATCH_API):
            batch = await self._reattach(state_path)
            if batch is None:
                uploaded = await self._client.files.create(file=("lifecycle-plan.jsonl", content), purpose="batch")
                batch = await self._client.batches.create(input_file_id=uploaded.id, endpoint=self._endpoint,  # type: ignore[arg-type]
                                                          completion_window="24h")
                write_file_atomically(state_path, json.dumps({"batch_id": batch.id, "input_file_id": uploaded.id, "requests": len(lines)}))
                self._on_status(f"batch {batch.id} submitted with {len(lines)} request(s); a re-run re-attaches to it")
            self.batch_ids.append(batch.id)
            while batch.status not in TERMINAL_STATUSES:
                await asyncio.sleep(self._poll_interval_s)
                batch = await self._client.batches.retrieve(batch.id)
                counts = batch.request_counts
                done = f" ({counts.completed + counts.failed}/{counts.total})" if counts and counts.total else ""
                self._on_status(f"batch {batch.id}: {batch.status}{done}")
            results = await self._read_lines(batch.output_file_id) + await self._read_lines(batch.error_file_id)
        answers, failures = {}, {}
        for result in results:
            cid, response, error = result.get("custom_id"), result.get("response") or {}, result.get("error")
            if cid in requests and response.get("status_code") == 200 and not error:
                answers[cid] = response["body"]
                write_file_atomically(self._responses / f"{cid}.json", json.dumps(response["body"], sort_keys=True))
            elif cid in requests:
                message = (error or (response.get("body") or {}).get("error") or {}).get("message", "")
                failures[cid] = f"the batch request failed (HTTP {response.get('status_code', '?')}) {message}".strip()
        if batch.status != "completed":
            reason = "; ".join(e.message or "" for e in (batch.errors.data if batch.errors and batch.errors.data else [])[:3])
            for cid in requests.keys() - answers.keys() - failures.keys():
                failures[cid] = f"batch {batch.id} ended as {batch.status}" + (f": {reason}" if reason else "")
        return answers, failures

    async def _reattach(self, state_path: Path) -> Any:
        """The batch recorded at ``state_path`` when it can still deliver (in flight or completed), else None."""
        try:
            batch_id = json.loads(state_path.read_text(encoding="utf-8"))["batch_id"]
        except (OSError, ValueError, KeyError):
            return None
        batch = await self._client.batches.retrieve(batch_id)
        if batch.status in ("failed", "expired", "cancelled", "cancelling"):
            return None
        self._on_status(f"re-attached to batch {batch.id} ({batch.status})")
        return batch

    async def _read_lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if not file_id:
            return []
        content = await self._client.files.content(file_id)
        return [json.loads(line) for line in content.text.splitlines() if line.strip()]
