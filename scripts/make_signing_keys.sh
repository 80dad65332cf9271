#!/usr/bin/env bash
# Throw-away keys for test/signing*.test.ts beside the reference vectors' own keys
# (test/fixtures/model-signing/keys/certificate, from model_signing): an unrelated root CA that
# issued nothing in the vectors, and a P-256 signing key. Run by hand; the outputs are committed.
set -euo pipefail
out="$(dirname "$0")/../test/fixtures/model-signing/keys/unrelated"
mkdir -p "$out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=unrelated-root" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
  -keyout "$out/ca-priv.pem" -out "$out/ca-cert.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/p256-key.pem"
openssl pkey -in "$out/p256-key.pem" -pubout -out "$out/p256-key-pub.pem"
