#!/usr/bin/env bash
# Options plumbing: --version, --help, a --config file (the command line wins), presets in the
# file's configuration, --save-split-mask consistent with the run sizes, --flow-interval
# (checkpoint flows recorded, checked on --resume and --merge; files without it count as 1).
# Usage: test_options.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"

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
check "config file" pycheck options.config_file_used cfg.h5 cli.h5

"$bin" -q --splits 2 --seeds 2 --steps 20 $small --save-split-mask --out mask.h5 > mask.log 2>&1 || { echo "FAIL mask run"; fails=$((fails + 1)); }
check "split mask" pycheck options.split_mask mask.h5
# --flow-interval: recorded; a resume or merge with another interval is refused naming it; a file
# written before the option existed (no config_flow-interval) resumes as interval 1.
"$bin" -q --splits 2 --seeds 1 --steps 40 $small --flow-interval 4 --out fi4.h5 > fi4.log 2>&1 || { echo "FAIL flow-interval run"; fails=$((fails + 1)); }
"$bin" -q --splits 2 --seeds 1 --steps 40 $small --out fi1.h5 > fi1.log 2>&1 || { echo "FAIL flow-interval 1 run"; fails=$((fails + 1)); }
check flow-interval-resume-refused bash -c "! '$bin' -q --splits 2 --seeds 1 --steps 40 $small --resume --out fi4.h5 > r.log 2>&1 && grep -q -- '--flow-interval: file has 4, requested 1' r.log"
check flow-interval-merge-refused bash -c "! '$bin' -q --merge fi1.h5 fi4.h5 --out m.h5 > m.log 2>&1 && grep -q -- '--flow-interval' m.log"
check flow-interval-zero-refused bash -c "! '$bin' --flow-interval 0 > z.log 2>&1 && grep -q 'flow-interval: 0 is out of range' z.log"
check "flow-interval file" pycheck options.flow_interval fi4.h5 fi1.h5
cp fi1.h5 old.h5
pycheck options.forget_option old.h5 flow-interval || fails=$((fails + 1))
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
pycheck options.marginal_step_conventions mkeep.h5 mmean.h5 && pycheck files.remove_attributes mold.h5 config_marginal-step ||
  { echo "FAIL marginal-step attributes"; fails=$((fails + 1)); }
check marginal-step-old-file-resumes bash -c "'$bin' $ms --splits 2 --resume --out mold.h5 > mo.log 2>&1 && grep -q 'written with --marginal-step batch-mean; continuing with it' mo.log"
pycheck options.same_marginal mold.h5 mmean2.h5 || { echo "FAIL marginal-step old file continued with batch-mean"; fails=$((fails + 1)); }
check marginal-step-resume-refused bash -c "! '$bin' $ms --splits 2 --marginal-step keep --resume --out mmean.h5 > mr.log 2>&1 && grep -q -- '--marginal-step: file has batch-mean, requested keep' mr.log"
check marginal-step-merge-refused bash -c "! '$bin' -q --merge mkeep.h5 mmean.h5 --out mx.h5 > mx.log 2>&1 && grep -q -- '--marginal-step' mx.log"
check marginal-step-bad-value bash -c "! '$bin' --marginal-step mean > mb.log 2>&1 && grep -q 'marginal-step: \"mean\"' mb.log"

# --embedding-dim (-k) is the embedding dimension; --rank its alias: the same file configuration;
# both at once is refused.
"$bin" -q --splits 1 --seeds 1 --steps 5 $small --embedding-dim 5 --out ed.h5 > ed.log 2>&1 || { echo "FAIL embedding-dim run"; fails=$((fails + 1)); }
"$bin" -q --splits 1 --seeds 1 --steps 5 $small --rank 5 --out rk.h5 > rk.log 2>&1 || { echo "FAIL rank alias run"; fails=$((fails + 1)); }
check embedding-dim-alias pycheck options.embedding_dim_alias ed.h5 rk.h5
check embedding-dim-and-rank-refused bash -c "! '$bin' --embedding-dim 4 --rank 4 > er.log 2>&1 && grep -q 'cannot both be given' er.log"
check embedding-dim-range bash -c "! '$bin' -k 0 > e0.log 2>&1 && grep -q 'option --embedding-dim: 0 is out of range' e0.log"

# --progress-interval 0: a report within the run after every step (text and JSON); refused below 0.
"$bin" --splits 1 --seeds 1 --steps 5 $small --progress-interval 0 --out pi.h5 > pi.log 2>&1 || { echo "FAIL progress-interval run"; fails=$((fails + 1)); }
check progress-interval-steps bash -c "[ \$(grep -c '^  split 0 seed 0: step [1-4]/5, train loss' pi.log) -eq 4 ]"
"$bin" --splits 1 --seeds 1 --steps 5 $small --progress-interval 0 --progress-format json --out pj.h5 > pj.log 2>&1 || { echo "FAIL progress-interval json run"; fails=$((fails + 1)); }
check progress-interval-json bash -c "[ \$(grep -c '^{\"event\": \"step\", \"split\": 0, \"seed\": 0, \"step\": [1-4], \"steps\": 5' pj.log) -eq 4 ]"
check progress-interval-negative-refused bash -c "! '$bin' --progress-interval -1 > n.log 2>&1 && grep -q 'progress-interval' n.log"
"$bin" --help | grep -q -- --progress-interval || { echo "FAIL --help lacks --progress-interval"; fails=$((fails + 1)); }

finish
