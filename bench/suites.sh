#!/usr/bin/env bash
# Runs looplint on the runtimes' own test suites, seen the way users' code sees the runtime: as a
# dependency. tokio's `tests/` (pinned in the corpus) is copied into a scratch crate that depends
# on tokio, and CPython's `test/test_asyncio` into a scratch folder outside the standard library.
# Inside their own packages these suites resolve `tokio::`/`asyncio` to the package itself, so the
# corpus run does not exercise them as users' code.
#
#   bench/suites.sh [rust|python|all]
#
# Prints every error (tests that pass in the runtimes' CI, so each error needs review: it is
# either a test that provokes the failure and asserts it in a way looplint does not read, or a
# false error) and the count of expected failures (`--show-expected` notes: tests that assert
# the failure looplint finds).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
CORPUS_DIR=${CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/looplint-corpus}
[ -d "$CORPUS_DIR/rust" ] || bash ../shared/corpus.sh >/dev/null
cargo build --release --quiet --bin looplint
bin=$PWD/target/release/looplint
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

report() {
  local label=$1 dir=$2
  local out="$scratch/$label.txt"
  "$bin" check --all-targets --show-expected --output-format concise "$dir" >"$out" 2>&1 || true
  echo "== $label: $(grep -c 'error\[' "$out" || true) errors, $(grep -c 'note\[' "$out" || true) expected failures"
  grep 'error\[' "$out" | sed "s|$dir/||" || true
}

if [ "$what" = rust ] || [ "$what" = all ]; then
  tokio=$(ls -d "$CORPUS_DIR"/rust/tokio-1.* | head -n 1)
  crate="$scratch/tokio-suite"
  mkdir -p "$crate/src"
  cp -r "$tokio/tests" "$crate/tests"
  : >"$crate/src/lib.rs"
  cat >"$crate/Cargo.toml" <<'EOF'
[package]
name = "tokio-suite"
version = "0.0.0"
edition = "2021"

[dependencies]
tokio = { version = "1", features = ["full"] }
tokio-test = "0.4"
futures = "0.3"
EOF
  report tokio-tests "$crate"
fi

if [ "$what" = python ] || [ "$what" = all ]; then
  stdlib=$(ls -d "$CORPUS_DIR"/python/cpython-stdlib-* | head -n 1)
  mkdir -p "$scratch/cpython-suite"
  cp -r "$stdlib/test/test_asyncio" "$scratch/cpython-suite/test_asyncio"
  report cpython-test-asyncio "$scratch/cpython-suite"
fi
