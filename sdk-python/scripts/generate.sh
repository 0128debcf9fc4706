#!/usr/bin/env bash
# Regenerates the Python stubs of proto/taskwire/v1 into sdk-python/taskwire/v1.
#
# The proto package is taskwire.v1, so the stubs live at taskwire/v1 inside the SDK's own
# `taskwire` package: the generated `from taskwire.v1 import task_run_pb2` then resolves
# as written, with no sys.path changes and no edits to generated code.
#
# Usage: sdk-python/scripts/generate.sh   (from anywhere; uses $PYTHON or sdk-python/.venv)
# CI: run it, then `git diff --exit-code sdk-python/taskwire/v1`.
set -euo pipefail

sdk_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_dir="$(cd "$sdk_dir/.." && pwd)"
out_dir="$sdk_dir/taskwire/v1"

python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$sdk_dir/.venv/bin/python" ]]; then python="$sdk_dir/.venv/bin/python"; else python=python3; fi
fi

# The stubs embed a protobuf version check; the pinned grpcio-tools decides it.
if ! "$python" -c 'import grpc_tools' 2>/dev/null; then
  "$python" -m pip install --quiet "grpcio-tools==1.76.0"
fi

rm -f "$out_dir"/*_pb2.py "$out_dir"/*_pb2.pyi "$out_dir"/*_pb2_grpc.py
mkdir -p "$out_dir"
"$python" -m grpc_tools.protoc \
  -I "$repo_dir/proto" \
  --python_out="$sdk_dir" \
  --pyi_out="$sdk_dir" \
  --grpc_python_out="$sdk_dir" \
  "$repo_dir"/proto/taskwire/v1/*.proto
printf '"""Generated from proto/taskwire/v1 by scripts/generate.sh; do not edit."""\n' > "$out_dir/__init__.py"
