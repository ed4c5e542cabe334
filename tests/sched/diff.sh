#!/bin/bash
# diff.sh - automake test: crier's digest schedules (sched_next) against the
# independent reference in diff.py (python3-dateutil and zoneinfo), through
# the driver tests/sched/sched-query. Skips only when Debian's python3 or
# python3-dateutil is missing; otherwise diff.py's status is the result.
here=$(dirname "$0")

if [ -n "$top_builddir" ]; then
    driver=$top_builddir/tests/sched/sched-query
else
    driver=$here/sched-query
fi
if [ -n "$srcdir" ] && [ -f "$srcdir/tests/sched/diff.py" ]; then
    script=$srcdir/tests/sched/diff.py
else
    script=$here/diff.py
fi

if [ ! -x /usr/bin/python3 ]; then
    echo "SKIP: /usr/bin/python3 is missing"
    exit 77
fi
if ! /usr/bin/python3 -c 'import dateutil.rrule' 2>/dev/null; then
    echo "SKIP: python3-dateutil is missing (apt-get install python3-dateutil)"
    exit 77
fi
if [ ! -x "$driver" ]; then
    echo "FAIL: no driver at $driver (make tests/sched/sched-query)"
    exit 99
fi
exec /usr/bin/python3 "$script" -v "$driver"
