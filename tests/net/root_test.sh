#!/usr/bin/env bash
# Runs a network test that needs root (namespaces, netfilter). Without root it is skipped with a
# reason (exit 77, ctest's SKIP_RETURN_CODE), except under CI=true where a skip is a failure.
# Usage: tests/net/root_test.sh SCRIPT [ARGS...]
set -u
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: $1 needs root (network namespaces); run the tests as root" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: under CI=true a skipped network test is a failure" >&2
    exit 1
  fi
  exit 77
fi
exec bash "$@"
