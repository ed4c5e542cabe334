#!/bin/sh
# autogen.sh - bootstrap the build system from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf -fi
