#!/usr/bin/env bash
# --entities end to end (docs/method.md section 10), on a small generated MovieLens-format set (u.data +
# u.user) and CSV: bad groupings are refused with file and line (exit 3) or option (exit 2); the
# entity matrix is the same on 1 and 3 ranks, its total equals the individual flows' total
# (outflow + self), its off-diagonal sums are the entity flows; --resume and --merge refuse a
# file with other entities; tools/report draws the entity figures.
# Usage: test_entities.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
py=/usr/bin/python3
run() { mpirun -n "$1" --oversubscribe "$bin" -q "${@:2}"; }

# expect <name> <status> <regex> -- args...
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  local out rc
  out=$(run 2 "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $status ]]; then fail "$name: exit status $rc, expected $status"; echo "$out" | tail -3; return; fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then fail "$name: message does not match /$pattern/"; echo "$out" | tail -3; return; fi
  echo "ok   $name: $(grep -E -- "$pattern" <<<"$out" | head -1)"
}

mkdir -p ml bad nouser nofile
pycheck files.movielens_with_users ml || fail "writing ml/"
cp ml/u.data bad/ && cp ml/u.data nouser/ && cp ml/u.data nofile/
sed '2s/|M|/|X|/;2s/|F|/|X|/' ml/u.user > bad/u.user
head -n 29 ml/u.user > nouser/u.user
printf 'id,entity\n1,a\n99,b\n' > map-unknown.csv
printf '1,a\n2,\n' > map-empty.csv
small=(--dataset movielens-100k --splits 2 --seeds 1 --steps 8 --learning-rate 0.5 --embedding-dim 4)

expect bad-user-line 3 'u.user line 2: gender "X" is not M or F' -- "${small[@]}" --data bad --entities gender --out x.h5
expect missing-user-file 3 'cannot open ".*u.user' -- "${small[@]}" --data nofile --entities occupation --out x.h5
expect user-without-line 3 'u.user: 1 individual\(s\) of the data have no entity \(first: id 30\)' -- "${small[@]}" --data nouser --entities occupation --out x.h5
expect map-unknown-id 3 'map-unknown.csv line 3: individual 99 is not in the data' -- "${small[@]}" --data ml --entities map:map-unknown.csv --out x.h5
expect map-empty-group 3 'map-empty.csv line 2: empty entity name' -- "${small[@]}" --data ml --entities map:map-empty.csv --out x.h5
expect unknown-grouping 2 'option --entities: "shoe-size" is not' -- "${small[@]}" --data ml --entities shoe-size --out x.h5
expect occupation-not-movielens 2 'option --entities: "occupation" needs MovieLens' -- --dataset synthetic --entities occupation --out x.h5
printf 'a,b,y\n1,2,0\n' > d.csv
expect missing-column 3 'd.csv line 1: no column "site"' -- --dataset csv --model linear --data d.csv --entities column:site --out x.h5
[[ -e x.h5 ]] && fail "a refused run left x.h5"

check occupation-1-rank run 1 "${small[@]}" --data ml --entities occupation --out one.h5
check occupation-3-ranks run 3 "${small[@]}" --data ml --entities occupation --ranks-per-run 3 --out three.h5
check entity-matrix pycheck readers.entity_matrix one.h5 three.h5

check gender-file run 2 "${small[@]}" --data ml --entities gender --out gender.h5
expect resume-other-entities 2 'entities: file has gender, requested occupation' -- "${small[@]}" --data ml --entities occupation --resume --out gender.h5
expect resume-no-entities 2 'entities: file has gender, requested' -- "${small[@]}" --data ml --resume --out gender.h5
check plain-file run 2 "${small[@]}" --data ml --out plain.h5
expect merge-mixture 2 'entities' -- --merge gender.h5 plain.h5 --out merged.h5
check merge-same run 2 --merge one.h5 three.h5 --out merged-same.h5 --force
# A grouping file changed in place, under the same entity names: --resume and --merge tell it
# by the recorded assignment (entity_assignment), not by the names.
{ echo 'id,entity'; for u in $(seq 1 30); do echo "$u,g$((u % 2))"; done; } > groups.csv
check map-file run 2 "${small[@]}" --data ml --entities map:groups.csv --split-range 0:1 --out map0.h5
{ echo 'id,entity'; for u in $(seq 1 30); do echo "$u,g$(((u + 1) % 2))"; done; } > groups.csv
expect resume-changed-grouping 2 'grouping assigns the individuals to entities otherwise than "map0.h5"' -- "${small[@]}" --data ml --entities map:groups.csv --split-range 0:1 --resume --out map0.h5
check map-file-changed run 2 "${small[@]}" --data ml --entities map:groups.csv --split-range 1:2 --out map1.h5
expect merge-changed-grouping 2 'groups the individuals into entities otherwise' -- --merge map0.h5 map1.h5 --out map.h5
check report $py "$src/tools/report" --out rep one.h5
for f in one_entities.csv one_entities_matrix.png one_entities_flows.png; do
  [[ -s rep/$f ]] || fail "report: rep/$f missing"
done
finish
