#!/usr/bin/python3
"""Fails when a registered CTest entry runs nothing (the CTest entry `registered_tests`).

Usage: check_registered.py <ctest> <build dir> <catch2 binary>...

Reads every test of the build directory from `ctest --show-only=json-v1` and checks, by kind:
- a Catch2 binary (run directly or under mpiexec): its arguments, given back to the binary with
  --list-test-names-only, select test cases: for an entry catch_discover_tests made, exactly the case
  its CTest name names (a name CTest split at `;`, or one Catch2 reads as another test spec, selects
  none or another); for a whole-binary entry (the MPI tests), at least one case. The entry passes
  --warn NoTests (a spec that matches nothing then exits non-zero when run), and a discovered entry
  has the SKIP_REGULAR_EXPRESSION of tests/support/skip.hpp (else a skipped case counts as Passed).
  Every case a discovered binary lists has exactly one CTest entry;
- a script run by bash or python3: the file exists and is not empty; a shell script that can exit 77
  (skip; tests/cli/lib.sh's finish does after a skip) has SKIP_RETURN_CODE 77 (else a skip counts
  as Failed);
- any other command: refused, so that a new kind of test is classified here first.
No two entries have the same name. Exit 0 and one line per kind, or 1 and a FAIL line per fault.
"""
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys

SKIP_MARKER = "RECIPROCITY_CASE_SKIPPED"
SCRIPT_RUNNERS = ("bash", "sh", "python3")


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    ctest, build = argv[1], argv[2]
    catch2 = {os.path.realpath(b) for b in argv[3:]}
    listing = json.loads(subprocess.run([ctest, "--show-only=json-v1"], cwd=build, check=True,
                                        capture_output=True, text=True).stdout)
    faults = []
    fail = faults.append
    counts = collections.Counter()
    names = collections.Counter(t["name"] for t in listing["tests"])
    for name, n in names.items():
        if n > 1:
            fail(f"{n} CTest entries named {name!r}")
    discovered = collections.defaultdict(list)  # binary -> CTest names of its one-case entries
    # A listing needs no other process: an isolated singleton starts in half the time.
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_ess_singleton_isolated="1")

    def list_cases(binary, args):
        # tests/main.cpp exits 1 when Catch2 listed a case (Catch2's own status is the count), else 0.
        # A start-up failure of MPI (seen once in 170 listings on a loaded machine) is retried.
        for attempt in range(3):
            try:
                r = subprocess.run([binary, *args, "--list-test-names-only"], capture_output=True, text=True,
                                   env=env, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as e:
                fail(f"{binary}: cannot list its cases ({e})")
                return []
            cases = [line for line in r.stdout.splitlines() if line.strip()]
            if r.returncode == (1 if cases else 0) and not r.stderr.strip():
                return cases
        fail(f"{binary} {' '.join(args)} --list-test-names-only: exit {r.returncode}, {len(cases)} case(s) listed, "
             f"stderr {r.stderr.strip()[-300:]!r}")
        return cases

    def catch2_args(cmd):  # (binary, its arguments) if the command runs a Catch2 binary, else None
        if not cmd or os.path.basename(cmd[0]) in SCRIPT_RUNNERS:
            return None
        where = next((i for i, c in enumerate(cmd) if os.path.realpath(c) in catch2), None)
        return None if where is None else (cmd[where], tuple(a for a in cmd[where + 1:] if a != ""))

    # Each listing starts the binary (MPI_Init included): run them side by side.
    runs = {catch2_args(t.get("command") or []) for t in listing["tests"]} - {None}
    runs |= {(binary, ()) for binary, _ in runs}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        listed = dict(zip(runs, pool.map(lambda r: list_cases(*r), runs)))

    for t in listing["tests"]:
        name, cmd = t["name"], t.get("command") or []
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        run = catch2_args(cmd)
        if run is not None:
            binary, args = run
            if "--warn" not in args and "-w" not in args:
                fail(f"{name!r}: no --warn NoTests ({binary} exits 0 when its spec matches no case)")
            spec = []
            for a in args:  # the test spec: the arguments before the first option
                if a.startswith("-"):
                    break
                spec.append(a)
            cases = listed[run]
            if spec:
                counts["Catch2 case"] += 1
                discovered[binary].append(name)
                if cases != [name]:
                    fail(f"{name!r}: its arguments {spec!r} select {cases!r} in {os.path.basename(binary)}, "
                         f"not the case it names")
                regex = props.get("SKIP_REGULAR_EXPRESSION") or []
                if SKIP_MARKER not in " ".join(regex if isinstance(regex, list) else [regex]):
                    fail(f"{name!r}: no SKIP_REGULAR_EXPRESSION {SKIP_MARKER} (a skipped case would pass)")
            else:
                counts["Catch2 binary"] += 1
                if not cases:
                    fail(f"{name!r}: {binary} holds no test case")
        elif len(cmd) >= 2 and os.path.basename(cmd[0]) in SCRIPT_RUNNERS:
            script = cmd[1]
            if not os.path.isabs(script):
                script = os.path.join(props.get("WORKING_DIRECTORY", build), script)
            if not os.path.isfile(script) or os.path.getsize(script) == 0:
                fail(f"{name!r}: script {cmd[1]!r} is absent or empty")
                continue
            counts["script"] += 1
            text = open(script, encoding="utf-8", errors="replace").read()
            can_skip = os.path.basename(cmd[0]) != "python3" and re.search(r"(?m)^[^#\n]*(\bexit 77\b|source .*lib\.sh)", text)
            if can_skip and str(props.get("SKIP_RETURN_CODE")) != "77":
                fail(f"{name!r}: {cmd[1]} can exit 77 (skip) but SKIP_RETURN_CODE is {props.get('SKIP_RETURN_CODE')}")
        else:
            fail(f"{name!r}: unknown kind of command {cmd!r}: classify it in {sys.argv[0]}")
    for binary, entries in discovered.items():
        cases = collections.Counter(listed[(binary, ())])
        have = collections.Counter(entries)
        for case in sorted(set(cases) | set(have)):
            if cases[case] != have[case]:
                fail(f"{os.path.basename(binary)}: case {case!r} listed {cases[case]} time(s), "
                     f"{have[case]} CTest entr(ies)")
    for f in faults:
        print("FAIL", f)
    print(f"{len(listing['tests'])} CTest entries: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) +
          f"; {len(faults)} fault(s)")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
