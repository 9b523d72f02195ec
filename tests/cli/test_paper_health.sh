#!/usr/bin/env bash
# The health presets reproduce the paper's findings (statistical claims at fixed seeds: the
# presets' own seed 0, 100 splits, TracIn only; margins are the acceptance thresholds of the
# fidelity issue, docs/results.md has the measured values):
#   diabetes: alpha at beta 0.75 in expectation >= 0.5 and correlation >= 0.9; trained for 1000
#             steps, the mean deployment loss is higher (paper: about 1%; here between +0.3% and
#             +2%) and alpha is lower;
#   breast cancer: alpha in expectation >= 0.6.
# Usage: test_paper_health.sh <reciprocity binary> <shared data dir> <source dir>
[[ -f $2/health/breast_cancer.csv && -f $2/health/diabetes_data_raw.csv.gz ]] || { echo "skip: no health data"; exit 77; }
source "$(dirname "$0")/lib.sh" "$@"
health="$data/health"
run() { mpirun -n 2 --oversubscribe "$bin" -q "$@" > "${*: -1}.log" 2>&1 || { echo "FAIL run $*"; cat "${*: -1}.log"; exit 1; }; }
run --dataset diabetes --data "$health" --out diabetes.h5
run --dataset diabetes --data "$health" --steps 1000 --out diabetes_1000.h5
run --dataset breast-cancer --data "$health" --out breast_cancer.h5
/usr/bin/python3 - <<'PY'
import h5py, sys
def s(path, name):
    return float(h5py.File(path, "r")[f"summary/{name}"][0])
def loss(path):
    f = h5py.File(path, "r")
    return float(f["runs/deploy_loss_final"][...].mean())
checks = []
a, c = s("diabetes.h5", "alpha"), s("diabetes.h5", "correlation")
checks.append((f"diabetes alpha {a:.3f} >= 0.5", a >= 0.5))
checks.append((f"diabetes correlation {c:.3f} >= 0.9", c >= 0.9))
a1 = s("diabetes_1000.h5", "alpha")
rise = loss("diabetes_1000.h5") / loss("diabetes.h5") - 1
checks.append((f"diabetes 1000 steps: deployment loss {100 * rise:+.2f}% in [+0.3%, +2%]", 0.003 <= rise <= 0.02))
checks.append((f"diabetes 1000 steps: alpha {a1:.3f} < {a:.3f}", a1 < a))
b = s("breast_cancer.h5", "alpha")
checks.append((f"breast cancer alpha {b:.3f} >= 0.6", b >= 0.6))
bad = 0
for text, ok in checks:
    print(("ok   " if ok else "FAIL ") + text)
    bad += not ok
sys.exit(1 if bad else 0)
PY
status=$?
# tools/report --paper on this directory: the health rows with their verdicts, MovieLens "missing".
"$src/tools/report" --paper . diabetes.h5 --out report --no-plots > report.log 2>&1 || { echo "FAIL report --paper"; cat report.log; exit 1; }
/usr/bin/python3 - <<'PY' || status=1
import csv, sys
rows = list(csv.DictReader(open("report/paper_vs_ours.csv")))
def find(experiment, start):
    return [r for r in rows if r["experiment"] == experiment and r["what"].startswith(start)]
checks = [
    ("MovieLens rows say missing", all(r["verdict"] == "missing" for r in rows if r["experiment"] == "MovieLens 100K")),
    ("diabetes 1000-step loss row reproduced", [r["verdict"] for r in find("diabetes", "1000 steps instead")] == ["reproduced"]),
    ("breast cancer alpha row reproduced", [r["verdict"] for r in find("breast cancer", "TracIn in expectation")] == ["reproduced"]),
    ("the hardest individual named", any("id " in r["ours"] for r in find("breast cancer", "one individual"))),
]
for text, ok in checks:
    print(("ok   " if ok else "FAIL ") + text)
sys.exit(0 if all(ok for _, ok in checks) else 1)
PY
exit $status
