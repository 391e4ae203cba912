#!/bin/sh
# npm run bench: raise the soft file-descriptor limit to the hard one (every connection is a
# file descriptor, in the server child and in this load process alike), then run the bench.
hard=$(ulimit -Hn)
if [ "$hard" = "unlimited" ]; then ulimit -n 1048576 2>/dev/null || true; else ulimit -n "$hard" 2>/dev/null || true; fi
echo "ulimit -n: $(ulimit -n) (hard $(ulimit -Hn))"
# `--bigroom` first runs the big-room bench (dist/src/bigroom.js) instead of the five scenarios.
if [ "$1" = "--bigroom" ]; then shift; exec node "$(dirname "$0")/dist/src/bigroom.js" "$@"; fi
# `--scale` runs the scale scenario (dist/src/scale/run.js: 100,000 connections, issue 18).
if [ "$1" = "--scale" ]; then shift; exec node "$(dirname "$0")/dist/src/scale/run.js" "$@"; fi
exec node "$(dirname "$0")/dist/src/bench.js" "$@"
