#!/usr/bin/env bash
# Options plumbing: --version, --help, a --config file (the command line wins), presets in the
# file's configuration, --save-split-mask consistent with the run sizes, --flow-interval
# (checkpoint flows recorded, checked on --resume and --merge; files without it count as 1).
# Usage: test_options.sh <reciprocity binary> <shared data dir> <source dir>
set -u
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0
check() {  # check <name> <command...>: the command must succeed
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

check version bash -c "'$bin' --version | grep -Eq '^reciprocity [0-9]+\.[0-9]+\.[0-9]+ \(git '"
# Every option of docs/options.md's table is documented by --help.
"$bin" --help > help.txt
for opt in dataset data model csv-individual synthetic-users splits seeds seed train-fraction rank lambda \
           init-scale steps learning-rate batch-fraction flow-interval marginal marginal-splits marginal-step embedding-dim out resume save-split-mask \
           ranks-per-run split-range merge summarize on-divergence progress-format beta quiet config; do
  grep -q -- "--$opt" help.txt || { echo "FAIL --help lacks --$opt"; fails=$((fails + 1)); }
done

small="--synthetic-users 60 --synthetic-items 40 --synthetic-ratings 1500 --learning-rate 1.5"
cat > run.cfg <<CFG
# a comment
splits = 2
seeds = 1
steps = 40
learning-rate = 99
CFG
"$bin" -q --config run.cfg $small --out cfg.h5 > cfg.log 2>&1 || { echo "FAIL config run"; cat cfg.log; fails=$((fails + 1)); }
"$bin" -q --splits 2 --seeds 1 --steps 40 $small --out cli.h5 > cli.log 2>&1 || { echo "FAIL cli run"; fails=$((fails + 1)); }
/usr/bin/python3 - <<'PY' || fails=$((fails + 1))
import h5py, numpy as np, sys
a, b = h5py.File("cfg.h5", "r"), h5py.File("cli.h5", "r")
ok = True
# The config file's values are used, and the command line (--learning-rate 1.5) wins over it;
# numbers are stored as numbers.
for key, want in (("config_steps", 40), ("config_learning-rate", 1.5), ("config_seeds", 1)):
    if a.attrs[key] != want or isinstance(a.attrs[key], (str, bytes)):
        print(f"FAIL config file: {key} = {a.attrs[key]!r}, expected {want!r}"); ok = False
if not np.array_equal(a["flows/tracin/inflow"][...], b["flows/tracin/inflow"][...]):
    print("FAIL config file run differs from the same options on the command line"); ok = False
if a.attrs["configuration"] != b.attrs["configuration"]:
    print("FAIL configuration attribute differs"); ok = False
print("ok   config file" if ok else "")
sys.exit(0 if ok else 1)
PY

"$bin" -q --splits 2 --seeds 2 --steps 20 $small --save-split-mask --out mask.h5 > mask.log 2>&1 || { echo "FAIL mask run"; fails=$((fails + 1)); }
/usr/bin/python3 - <<'PY' || fails=$((fails + 1))
import h5py, numpy as np, sys
f = h5py.File("mask.h5", "r")
m = f["splits/train_mask"][...]
n_train = f["runs/train_examples"][...]
ok = m.shape == (2, f.attrs["examples"]) and all((m[s].sum() == n_train[s]).all() for s in range(2))
ok = ok and 0.7 < m.mean() < 0.9 and not np.array_equal(m[0], m[1])
print("ok   split mask" if ok else f"FAIL split mask: shape {m.shape}, sums {m.sum(axis=1)}, train {n_train}")
sys.exit(0 if ok else 1)
PY
# --flow-interval: recorded; a resume or merge with another interval is refused naming it; a file
# written before the option existed (no config_flow-interval) resumes as interval 1.
"$bin" -q --splits 2 --seeds 1 --steps 40 $small --flow-interval 4 --out fi4.h5 > fi4.log 2>&1 || { echo "FAIL flow-interval run"; fails=$((fails + 1)); }
"$bin" -q --splits 2 --seeds 1 --steps 40 $small --out fi1.h5 > fi1.log 2>&1 || { echo "FAIL flow-interval 1 run"; fails=$((fails + 1)); }
check flow-interval-resume-refused bash -c "! '$bin' -q --splits 2 --seeds 1 --steps 40 $small --resume --out fi4.h5 > r.log 2>&1 && grep -q -- '--flow-interval: file has 4, requested 1' r.log"
check flow-interval-merge-refused bash -c "! '$bin' -q --merge fi1.h5 fi4.h5 --out m.h5 > m.log 2>&1 && grep -q -- '--flow-interval' m.log"
check flow-interval-zero-refused bash -c "! '$bin' --flow-interval 0 > z.log 2>&1 && grep -q 'flow-interval: 0 is out of range' z.log"
/usr/bin/python3 - <<'PY' || fails=$((fails + 1))
import h5py, numpy as np, sys
a, b = h5py.File("fi4.h5", "r"), h5py.File("fi1.h5", "r")
ok = a.attrs["config_flow-interval"] == 4 and b.attrs["config_flow-interval"] == 1
# Discrepancy only at the checkpoints 0, 4, 8, ...; the flows are close to, but not, the exact ones.
d = a["runs/discrepancy"][...]
ok = ok and np.isfinite(d[..., ::4]).all() and np.isnan(np.delete(d, np.s_[::4], axis=-1)).all()
fa, fb = a["flows/tracin/outflow"][...], b["flows/tracin/outflow"][...]
rel = np.abs(fa - fb).max() / np.abs(fb).max()
ok = ok and 0 < rel < 0.2 and np.corrcoef(fa.ravel(), fb.ravel())[0, 1] > 0.99
print("ok   flow-interval file" if ok else f"FAIL flow-interval file: rel diff {rel}")
sys.exit(0 if ok else 1)
PY
cp fi1.h5 old.h5
/usr/bin/python3 - <<'PY' || fails=$((fails + 1))
import h5py
f = h5py.File("old.h5", "r+")
del f.attrs["config_flow-interval"]
f.attrs["configuration"] = "\n".join(l for l in f.attrs["configuration"].decode().split("\n") if not l.startswith("flow-interval")) \
    if isinstance(f.attrs["configuration"], bytes) else \
    "\n".join(l for l in f.attrs["configuration"].split("\n") if not l.startswith("flow-interval"))
PY
check flow-interval-old-file-resumes "$bin" -q --splits 3 --seeds 1 --steps 40 $small --resume --out old.h5

# --marginal-step: recorded; the two conventions give different Marginal flows; a file written
# before the option (no config_marginal-step: batch-mean) resumes with its own convention, and
# its new runs equal a fresh batch-mean run; asking for the other convention, or merging the two,
# is refused naming the option.
ms="-q --seeds 1 --steps 30 --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 --learning-rate 1.5 --marginal"
"$bin" $ms --splits 1 --out mkeep.h5 > mk.log 2>&1 || { echo "FAIL marginal keep run"; fails=$((fails + 1)); }
"$bin" $ms --splits 1 --marginal-step batch-mean --out mmean.h5 > mm.log 2>&1 || { echo "FAIL marginal batch-mean run"; fails=$((fails + 1)); }
"$bin" $ms --splits 2 --marginal-step batch-mean --out mmean2.h5 > mm2.log 2>&1 || { echo "FAIL marginal batch-mean 2-split run"; fails=$((fails + 1)); }
cp mmean.h5 mold.h5
/usr/bin/python3 - <<'PY' || { echo "FAIL marginal-step attributes"; fails=$((fails + 1)); }
import h5py, numpy as np
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
k, m = h5py.File("mkeep.h5", "r"), h5py.File("mmean.h5", "r")
assert text(k.attrs["config_marginal-step"]) == "keep", k.attrs["config_marginal-step"]
assert text(m.attrs["config_marginal-step"]) == "batch-mean"
a, b = k["flows/marginal/outflow"][...], m["flows/marginal/outflow"][...]
assert np.abs(a - b).max() > 1e-6 * np.abs(a).max(), "conventions give the same flows"
f = h5py.File("mold.h5", "r+")
del f.attrs["config_marginal-step"]
PY
check marginal-step-old-file-resumes bash -c "'$bin' $ms --splits 2 --resume --out mold.h5 > mo.log 2>&1 && grep -q 'written with --marginal-step batch-mean; continuing with it' mo.log"
/usr/bin/python3 - <<'PY' || { echo "FAIL marginal-step old file continued with batch-mean"; fails=$((fails + 1)); }
import h5py, numpy as np
o, c = h5py.File("mold.h5", "r"), h5py.File("mmean2.h5", "r")
for side in ("inflow", "outflow", "self"):
    x, y = o[f"flows/marginal/{side}"][...], c[f"flows/marginal/{side}"][...]
    assert np.array_equal(x, y), (side, np.abs(x - y).max())
PY
check marginal-step-resume-refused bash -c "! '$bin' $ms --splits 2 --marginal-step keep --resume --out mmean.h5 > mr.log 2>&1 && grep -q -- '--marginal-step: file has batch-mean, requested keep' mr.log"
check marginal-step-merge-refused bash -c "! '$bin' -q --merge mkeep.h5 mmean.h5 --out mx.h5 > mx.log 2>&1 && grep -q -- '--marginal-step' mx.log"
check marginal-step-bad-value bash -c "! '$bin' --marginal-step mean > mb.log 2>&1 && grep -q 'marginal-step: \"mean\"' mb.log"

# --embedding-dim (-k) is the embedding dimension; --rank its alias: the same file configuration;
# both at once is refused.
"$bin" -q --splits 1 --seeds 1 --steps 5 $small --embedding-dim 5 --out ed.h5 > ed.log 2>&1 || { echo "FAIL embedding-dim run"; fails=$((fails + 1)); }
"$bin" -q --splits 1 --seeds 1 --steps 5 $small --rank 5 --out rk.h5 > rk.log 2>&1 || { echo "FAIL rank alias run"; fails=$((fails + 1)); }
check embedding-dim-alias /usr/bin/python3 -c "
import h5py, numpy as np
a, b = h5py.File('ed.h5', 'r'), h5py.File('rk.h5', 'r')
assert a.attrs['config_rank'] == b.attrs['config_rank'] and str(a.attrs['config_rank']) in ('5', \"b'5'\")
assert np.array_equal(a['flows/tracin/inflow'][...], b['flows/tracin/inflow'][...])"
check embedding-dim-and-rank-refused bash -c "! '$bin' --embedding-dim 4 --rank 4 > er.log 2>&1 && grep -q 'cannot both be given' er.log"
check embedding-dim-range bash -c "! '$bin' -k 0 > e0.log 2>&1 && grep -q 'option --embedding-dim: 0 is out of range' e0.log"

# --progress-interval 0: a report within the run after every step (text and JSON); refused below 0.
"$bin" --splits 1 --seeds 1 --steps 5 $small --progress-interval 0 --out pi.h5 > pi.log 2>&1 || { echo "FAIL progress-interval run"; fails=$((fails + 1)); }
check progress-interval-steps bash -c "[ \$(grep -c '^  split 0 seed 0: step [1-4]/5, train loss' pi.log) -eq 4 ]"
"$bin" --splits 1 --seeds 1 --steps 5 $small --progress-interval 0 --progress-format json --out pj.h5 > pj.log 2>&1 || { echo "FAIL progress-interval json run"; fails=$((fails + 1)); }
check progress-interval-json bash -c "[ \$(grep -c '^{\"event\": \"step\", \"split\": 0, \"seed\": 0, \"step\": [1-4], \"steps\": 5' pj.log) -eq 4 ]"
check progress-interval-negative-refused bash -c "! '$bin' --progress-interval -1 > n.log 2>&1 && grep -q 'progress-interval' n.log"
"$bin" --help | grep -q -- --progress-interval || { echo "FAIL --help lacks --progress-interval"; fails=$((fails + 1)); }

echo "$fails failure(s)"
exit $((fails > 0))
