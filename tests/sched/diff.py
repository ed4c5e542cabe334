#!/usr/bin/python3
"""
diff.py - crier's sched_next() against an independent reference.

The reference expands each RRULE with python3-dateutil in floating local
time from crier's implicit DTSTART (Monday 2000-01-03T00:00), and turns every
local occurrence into an instant with the standard library's zoneinfo, fold=0,
from the system files in /usr/share/zoneinfo: a local time that occurs twice
is its first instant, one in a gap is read with the offset before the gap.
The next occurrence after an instant is then the smallest such instant after
it. The "after" instants are each offset change of the zone (t-1, t, t+1) and
the occurrences (o-1, o, o+1) near a change, plus a seeded sample of the rest,
so runs are reproducible. All queries go through the C driver (sched-query)
in one batch, split over the CPUs; any mismatch or driver error fails.

usage: diff.py [-v] [-j JOBS] path/to/sched-query
"""

import argparse
import bisect
import operator
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from zoneinfo import ZoneInfo

ZONEDIR = "/usr/share/zoneinfo"
ANCHOR = datetime(2000, 1, 3)           # crier's DTSTART, a Monday, floating
EPOCH = datetime(1970, 1, 1)
DAY = 86400
MAX_EXAMPLES = 30

# The digest frequencies shipped in rules.d.
SHIPPED = [
    "FREQ=HOURLY;BYMINUTE=0",
    "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
    "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
]

# Every quarter hour from midnight to 04:45: the hours where clocks change.
QUARTERS = ["FREQ=DAILY;BYHOUR=%d;BYMINUTE=%d" % (h, m)
            for h in range(5) for m in (0, 15, 30, 45)]

# Other plausible digest schedules, and a few aimed at the changes.
OTHERS = [
    "FREQ=MINUTELY;INTERVAL=15",
    "FREQ=MINUTELY;INTERVAL=30;BYHOUR=1,2,3",
    "FREQ=HOURLY;INTERVAL=6;BYMINUTE=30",
    "FREQ=HOURLY;BYHOUR=0,1,2,3;BYMINUTE=0,30",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;BYHOUR=9;BYMINUTE=0",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;BYHOUR=9;BYMINUTE=0;WKST=SU",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=8,17;BYMINUTE=0",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0",
    "FREQ=DAILY;INTERVAL=3;BYHOUR=9;BYMINUTE=0",
    "FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=30",
    "FREQ=DAILY;BYHOUR=8,12,17;BYMINUTE=0;BYSETPOS=-1",
    "FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=1,2,3;BYMINUTE=0,30",
    "FREQ=MONTHLY;BYDAY=SU;BYHOUR=1,2,3;BYMINUTE=30;BYSETPOS=-2",
]

# What DTSTART supplies when the rule leaves it out.
DEFAULTS = ["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY"]

# RFC 5545 section 3.8.5.3 examples within crier's subset, without COUNT or
# UNTIL; most with a time of day, some left at DTSTART's midnight.
RFC = [
    "FREQ=MONTHLY;BYDAY=1FR;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU,-1SU;BYHOUR=1;BYMINUTE=30",
    "FREQ=MONTHLY;BYDAY=-2MO;BYHOUR=7;BYMINUTE=45",
    "FREQ=MONTHLY;BYMONTHDAY=-3",
    "FREQ=MONTHLY;BYMONTHDAY=2,15;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;BYMONTHDAY=1,-1;BYHOUR=0;BYMINUTE=30",
    "FREQ=MONTHLY;INTERVAL=18;BYMONTHDAY=10,11,12,13,14,15;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;BYMONTH=6,7;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=1;BYDAY=SU;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;BYMONTH=1;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;BYDAY=20MO",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=TH;BYHOUR=9;BYMINUTE=0",
    "FREQ=DAILY;BYMONTH=1",
    "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH",
    "FREQ=WEEKLY;INTERVAL=2;WKST=MO;BYDAY=TU,SU;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9;BYMINUTE=0",
]

RULES = SHIPPED + QUARTERS + OTHERS + DEFAULTS + RFC

# Rules also checked in the past and far-future windows.
EDGE_RULES = SHIPPED + DEFAULTS[:1] + [
    "FREQ=DAILY;BYHOUR=0;BYMINUTE=30",
    "FREQ=DAILY;BYHOUR=1;BYMINUTE=30",
    "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
    "FREQ=DAILY;BYHOUR=3;BYMINUTE=45",
    "FREQ=MINUTELY;INTERVAL=30;BYHOUR=1,2,3",
    "FREQ=HOURLY;INTERVAL=6;BYMINUTE=30",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;BYHOUR=9;BYMINUTE=0",
    "FREQ=MONTHLY;BYDAY=-1SU;BYHOUR=1,2,3;BYMINUTE=0,30",
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU,-1SU;BYHOUR=1;BYMINUTE=30",
    "FREQ=MONTHLY;INTERVAL=18;BYMONTHDAY=10,11,12,13,14,15;BYHOUR=9;BYMINUTE=0",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9;BYMINUTE=0",
]

ZONES = [
    "Europe/Berlin", "Europe/Paris", "Europe/London", "Europe/Dublin",
    "Europe/Moscow", "America/New_York", "America/Los_Angeles",
    "America/St_Johns", "America/Sao_Paulo", "America/Santiago",
    "America/Havana", "America/Nuuk", "America/Asuncion", "Asia/Kolkata",
    "Asia/Kathmandu", "Asia/Tehran", "Asia/Tokyo", "Asia/Gaza",
    "Asia/Beirut", "Asia/Jerusalem", "Africa/Casablanca", "Africa/Cairo",
    "Australia/Adelaide", "Australia/Lord_Howe", "Australia/Sydney",
    "Australia/Eucla", "Pacific/Auckland", "Pacific/Chatham", "Pacific/Fiji",
    "Pacific/Apia", "Pacific/Tongatapu", "Pacific/Kiritimati",
    "Pacific/Pago_Pago", "Etc/GMT+12", "Etc/GMT-14", "Antarctica/Troll",
    "UTC",
]

# (name, first year, last year, rules): windows of local time.
WINDOWS = [
    ("2026-2030", 2026, 2030, RULES),
    ("2010-2012", 2010, 2012, EDGE_RULES),      # Pacific/Apia skips 2011-12-30
    ("2038-2042", 2038, 2042, EDGE_RULES),      # beyond 32 bits, zone-file footers
]

# Occurrences this close to an offset change are all queried (closer for
# the dense rules, to keep to some 400,000 cases); far from one, FAR_SAMPLE
# of them per rule, zone and window, plus RANDOM_AFTERS instants anywhere.
NEAR = {"MINUTELY": 3 * 3600, "HOURLY": DAY // 2, "DAILY": 3 * DAY, "WEEKLY": 3 * DAY,
        "MONTHLY": 3 * DAY, "YEARLY": 3 * DAY}
FAR_SAMPLE = 12
RANDOM_AFTERS = 4

# Offset changes are looked for this often, then bisected to the second.
STEP = 3 * 3600

# Hand-checked answers of the reference itself: (rule, zone, after, next).
SELF_CHECK = [
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Berlin",
     "2027-03-27T12:00:00Z", "2027-03-28T01:30:00Z"),   # gap: 03:30 CEST
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Berlin",
     "2027-03-28T01:30:00Z", "2027-03-29T00:30:00Z"),
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Paris",
     "2027-03-28T00:00:00Z", "2027-03-28T01:30:00Z"),
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Berlin",
     "2027-10-30T12:00:00Z", "2027-10-31T00:30:00Z"),   # twice: the first
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Europe/Berlin",
     "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"),   # and only once
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Pacific/Auckland",
     "2027-09-25T12:00:00Z", "2027-09-25T14:30:00Z"),
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "Pacific/Auckland",
     "2027-04-03T12:00:00Z", "2027-04-03T13:30:00Z"),
    ("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", "America/Los_Angeles",
     "2027-11-07T01:00:00Z", "2027-11-07T08:30:00Z"),
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "America/St_Johns",
     "2027-03-14T00:00:00Z", "2027-03-14T06:00:00Z"),
    ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "Australia/Adelaide",
     "2027-04-02T22:30:00Z", "2027-04-03T23:30:00Z"),
    ("FREQ=DAILY", "America/Havana",                    # 00:00 is in the gap
     "2027-03-13T12:00:00Z", "2027-03-14T05:00:00Z"),
    ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "Pacific/Apia",  # 30 Dec 2011 skipped
     "2011-12-29T20:00:00Z", "2011-12-30T19:00:00Z"),
    ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "Pacific/Apia",
     "2011-12-30T19:00:00Z", "2011-12-31T19:00:00Z"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=0", "UTC",
     "2027-06-01T00:00:00Z", "2027-06-14T09:00:00Z"),   # 10031 days after 2000-01-03
    ("FREQ=WEEKLY;INTERVAL=2;WKST=MO;BYDAY=TU,SU;BYHOUR=9;BYMINUTE=0", "UTC",
     "2027-06-02T00:00:00Z", "2027-06-06T09:00:00Z"),   # fortnight from Mon 05-31
    ("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,SU;BYHOUR=9;BYMINUTE=0", "UTC",
     "2027-06-02T00:00:00Z", "2027-06-13T09:00:00Z"),   # fortnight from Sun 05-30
    ("FREQ=WEEKLY", "UTC", "2027-06-01T00:00:00Z", "2027-06-07T00:00:00Z"),
    ("FREQ=MONTHLY", "UTC", "2027-06-03T00:00:00Z", "2027-07-03T00:00:00Z"),
    ("FREQ=YEARLY", "UTC", "2027-06-03T00:00:00Z", "2028-01-03T00:00:00Z"),
]


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse3339(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp())


def naive_seconds(dt):
    """A floating local time as seconds, as if it were UTC."""
    return (dt - EPOCH) // timedelta(seconds=1)


_zones = {}


def zone(name):
    """The zone from the system file itself, not from a tzdata wheel."""
    if name not in _zones:
        with open(os.path.join(ZONEDIR, name), "rb") as f:
            _zones[name] = ZoneInfo.from_file(f, key=name)
    return _zones[name]


def rule_parts(rule):
    parts = dict(p.split("=", 1) for p in rule.split(";"))
    return parts["FREQ"], int(parts.get("INTERVAL", "1"))


def dtstart_before(rule, start):
    """
    A DTSTART on the phase of the anchor, a whole period and a week before
    start: moving DTSTART by whole INTERVAL periods keeps every occurrence
    from there on, and nothing before it is needed.
    """
    freq, interval = rule_parts(rule)
    if freq in ("MONTHLY", "YEARLY"):
        months = 12 * interval if freq == "YEARLY" else interval
        target = start - relativedelta(months=months) - timedelta(days=7)
        have = (target.year - ANCHOR.year) * 12 + target.month - ANCHOR.month
        return ANCHOR + relativedelta(months=(have // months) * months)
    period = interval * {"MINUTELY": timedelta(minutes=1), "HOURLY": timedelta(hours=1),
                         "DAILY": timedelta(days=1), "WEEKLY": timedelta(weeks=1)}[freq]
    target = start - period - timedelta(days=7)
    return ANCHOR + ((target - ANCHOR) // period) * period


_local = {}


def local_occurrences(rule, first, last):
    """Floating local occurrences from a little before year first to after year last."""
    key = (rule, first, last)
    if key not in _local:
        lo = datetime(first, 1, 1) - timedelta(days=2)
        hi = datetime(last + 1, 1, 1) + timedelta(days=2)
        occ = rrulestr(rule, dtstart=dtstart_before(rule, lo)).between(lo, hi, inc=True)
        _local[key] = (occ, [naive_seconds(o) for o in occ])
    return _local[key]


def instants(rule, zname, first, last):
    """The sorted, distinct instants of the local occurrences in zone zname."""
    occ, secs = local_occurrences(rule, first, last)
    offs = list(map(zone(zname).utcoffset, occ))        # each o.fold == 0
    seconds = {off: off // timedelta(seconds=1) for off in set(offs)}
    out = [s - seconds[off] for s, off in zip(secs, offs)]
    if not all(map(operator.lt, out, out[1:])):
        out = sorted(set(out))
    return out


def offset_changes(zname, start, end):
    """
    Instants t in [start, end) where the UTC offset differs from at t-1,
    from the offsets every STEP seconds: no zone changes twice that fast.
    """
    z = zone(zname)

    def off(t):
        return datetime.fromtimestamp(t, z).utcoffset()

    changes = []
    prev, prev_off = start - 1, off(start - 1)
    for t in range(start - 1 + STEP, end + STEP, STEP):
        o = off(t)
        if o != prev_off:
            lo, hi = prev, t                    # off(lo) == prev_off != off(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            if start <= hi < end:
                changes.append(hi)
        prev, prev_off = t, o
    return changes


def cases_for(wname, first, last, rule, zname, changes):
    """The queries (after, expected next) for one rule, zone and window."""
    inst = instants(rule, zname, first, last)
    w0, w1 = naive_seconds(datetime(first, 1, 1)), naive_seconds(datetime(last + 1, 1, 1))
    near = NEAR[rule_parts(rule)[0]]
    rng = random.Random("%s|%s|%s" % (wname, rule, zname))
    afters = set()
    for c in changes:
        afters.update((c - 1, c, c + 1))
        for o in inst[bisect.bisect_left(inst, c - near):bisect.bisect_right(inst, c + near)]:
            afters.update((o - 1, o, o + 1))
    i0, i1 = bisect.bisect_left(inst, w0), bisect.bisect_left(inst, w1)
    taken = 0
    for _ in range(4 * FAR_SAMPLE if i1 > i0 else 0):
        o = inst[rng.randrange(i0, i1)]
        i = bisect.bisect_left(changes, o)
        if any(abs(o - changes[j]) <= near for j in (i - 1, i) if 0 <= j < len(changes)):
            continue
        afters.update((o - 1, o, o + 1))
        taken += 1
        if taken == FAR_SAMPLE:
            break
    for _ in range(RANDOM_AFTERS):
        afters.add(rng.randrange(w0, w1))
    out = []
    for a in sorted(afters):
        i = bisect.bisect_right(inst, a)
        # Inside the window, and the answer well inside what was expanded.
        if w0 <= a < w1 and i < len(inst) and inst[i] < w1 + DAY:
            out.append((a, inst[i]))
    return out


def self_check():
    """The reference against SELF_CHECK; the number of wrong answers."""
    bad = 0
    for rule, zname, after, want in SELF_CHECK:
        a, w = parse3339(after), parse3339(want)
        year = datetime.fromtimestamp(a, timezone.utc).year
        inst = instants(rule, zname, year, year + 1)
        i = bisect.bisect_right(inst, a)
        got = inst[i] if i < len(inst) else None
        if got != w:
            print("reference self-check: %s %s after %s: %s, want %s"
                  % (rule, zname, after, got and rfc3339(got), want))
            bad += 1
    return bad


def run_driver(driver, lines, jobs):
    """The driver's answers, in order: the batch split over jobs processes."""
    chunks = [lines[i * len(lines) // jobs:(i + 1) * len(lines) // jobs] for i in range(jobs)]
    with tempfile.TemporaryDirectory(prefix="sched-diff.") as tmp:
        procs = []
        for n, chunk in enumerate(chunks):
            qpath, apath = os.path.join(tmp, "q%d" % n), os.path.join(tmp, "a%d" % n)
            with open(qpath, "w") as q:
                q.writelines(chunk)
            with open(qpath) as q, open(apath, "w") as a:
                procs.append((subprocess.Popen([driver], stdin=q, stdout=a), apath, chunk))
        answers = []
        for proc, apath, chunk in procs:
            rc = proc.wait()
            with open(apath) as a:
                got = a.read().splitlines()
            if rc != 0 or len(got) != len(chunk):
                stuck = chunk[len(got)].rstrip("\n") if len(got) < len(chunk) else "-"
                sys.exit("sched diff: %s exited %d after %d of %d answers; next query: %s"
                         % (driver, rc, len(got), len(chunk), stuck))
            answers.extend(got)
    return answers


def pick_examples(examples):
    """
    Up to MAX_EXAMPLES mismatches, as varied as they come: the first of each
    rule, then the first of each rule and window, of each rule and zone, and
    then the rest in order.
    """
    picked, seen = [], set()
    for key in (lambda e: e[1], lambda e: (e[1], e[0]), lambda e: (e[1], e[2]), id):
        for e in examples:
            if len(picked) >= MAX_EXAMPLES:
                return picked
            k = key(e)
            if k not in seen:
                seen.add(k)
                if e not in picked:
                    picked.append(e)
    return picked


def local(t, zname):
    return datetime.fromtimestamp(t, zone(zname)).isoformat()


def main():
    ap = argparse.ArgumentParser(description="Compare sched_next() with dateutil and zoneinfo.")
    ap.add_argument("driver", help="path to tests/sched/sched-query")
    ap.add_argument("-j", "--jobs", type=int, default=min(os.cpu_count() or 1, 4),
                    help="driver processes to run at once")
    ap.add_argument("-v", "--verbose", action="store_true", help="say where the time goes")
    args = ap.parse_args()
    t0 = time.monotonic()

    if self_check():
        print("sched diff: the reference itself is wrong; no comparison made")
        return 99

    # Every rule must be one crier accepts.
    rules = list(dict.fromkeys(r for w in WINDOWS for r in w[3]))
    refused = 0
    for rule, answer in zip(rules, run_driver(args.driver, ["CHECK\t%s\n" % r for r in rules], 1)):
        if answer != "OK":
            print("refused: %s: %s" % (rule, answer))
            refused += 1

    cases, lines = [], []
    for wname, first, last, wrules in WINDOWS:
        w0 = naive_seconds(datetime(first, 1, 1))
        w1 = naive_seconds(datetime(last + 1, 1, 1))
        for zname in ZONES:
            changes = offset_changes(zname, w0, w1)
            for rule in wrules:
                for after, want in cases_for(wname, first, last, rule, zname, changes):
                    cases.append((wname, rule, zname, after, want))
                    lines.append("%s\t%s\t%d\n" % (rule, zname, after))
    t1 = time.monotonic()
    answers = run_driver(args.driver, lines, max(1, args.jobs))
    t2 = time.monotonic()

    mismatches, errors, per_pair, examples = 0, 0, {}, []
    for (wname, rule, zname, after, want), got in zip(cases, answers):
        if got == str(want):
            continue
        mismatches += 1
        if got.startswith("ERR"):
            errors += 1
        per_pair.setdefault((rule, zname), {}).setdefault(wname, 0)
        per_pair[(rule, zname)][wname] += 1
        examples.append((wname, rule, zname, after, want, got))
    for wname, rule, zname, after, want, got in pick_examples(examples):
        print("MISMATCH %s %s after %s (%s) [%s]"
              % (rule, zname, rfc3339(after), local(after, zname), wname))
        print("    want %s (%s)" % (rfc3339(want), local(want, zname)))
        if got.lstrip("-").isdigit():
            print("    got  %s (%s)" % (rfc3339(int(got)), local(int(got), zname)))
        else:
            print("    got  %s" % got)
    if per_pair:
        print("mismatches per rule, zone: count [window: count]:")
        for rule in rules:
            zs = ["%s: %d [%s]" % (z, sum(w.values()),
                                   ", ".join("%s: %d" % wn for wn in sorted(w.items())))
                  for (r, z), w in sorted(per_pair.items()) if r == rule]
            if zs:
                print("  %s\n    %s" % (rule, "\n    ".join(zs)))
    if args.verbose:
        print("reference and checks %.1f s, driver %.1f s, compare %.1f s"
              % (t1 - t0, t2 - t1, time.monotonic() - t2))
    print("sched diff: %d cases, %d rules, %d zones, %d mismatches (%d errors), %d rules refused"
          % (len(cases), len(rules), len(ZONES), mismatches, errors, refused))
    return 1 if mismatches or refused else 0


if __name__ == "__main__":
    sys.exit(main())
