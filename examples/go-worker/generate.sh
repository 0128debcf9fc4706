#!/usr/bin/env bash
# Regenerates the Go stubs in gen/ from proto/ (the protocol's source of truth).
# Needs Go and the repository's node_modules (for buf); installs the pinned protoc
# plugins into $(go env GOPATH)/bin when they are not there yet.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

if [[ "$(protoc-gen-go --version 2>/dev/null)" != "protoc-gen-go $PROTOC_GEN_GO_VERSION" ]]; then
  go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
fi
if [[ "$(protoc-gen-go-grpc --version 2>/dev/null)" != "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]]; then
  go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
fi

cd "$here"
rm -rf gen
"$root/node_modules/.bin/buf" generate --template buf.gen.yaml
