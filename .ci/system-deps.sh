#!/usr/bin/env bash
# System packages the end-to-end tests need (tests/e2e): a headless Chromium for the UI
# test (Playwright drives /usr/bin/chromium; it never downloads a browser) and fonts so the
# Dagster UI renders legible text in screenshots; Java 17 for the local Spark session of the
# Spark tests (tests/spark: pyspark bundles Spark's jars). Idempotent; run as root, no prompts.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

packages=(
    chromium
    fonts-liberation
    fonts-dejavu-core
    ca-certificates
    openjdk-17-jre-headless
)

apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"

/usr/bin/chromium --version
java -version
