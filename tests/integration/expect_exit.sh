#!/usr/bin/env bash
# expect_exit.sh CODE REGEX COMMAND...: runs COMMAND and passes when it exits with CODE ("nonzero" for any
# failure) and its combined output matches the extended regular expression REGEX.
set -u
expected=$1 pattern=$2
shift 2
output=$("$@" 2>&1)
code=$?
printf '%s\n' "$output"
if [ "$expected" = nonzero ]; then
  [ "$code" -ne 0 ] || { echo "expect_exit: expected a failure, got exit 0"; exit 1; }
elif [ "$code" -ne "$expected" ]; then
  echo "expect_exit: expected exit $expected, got $code"; exit 1
fi
grep -Eq -- "$pattern" <<<"$output" || { echo "expect_exit: output does not match /$pattern/"; exit 1; }
