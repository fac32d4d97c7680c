# Assertions for the end-to-end network tests (source it). `check WHAT CMD...` runs CMD and
# counts it as passed or failed; `check_summary` prints "N passed, N failed" and returns non-zero
# when anything failed.
passed=0
failed=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
    passed=$((passed + 1))
  else
    echo "FAIL $what"
    failed=$((failed + 1))
  fi
}
check_summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
