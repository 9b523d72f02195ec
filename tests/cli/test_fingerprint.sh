#!/usr/bin/env bash
# Inputs identified by content (src/io/README.md: data_fingerprint): the file records
# the CRC-32 and size of every input file read (data_fingerprint, data_files); --resume and
# --merge refuse changed data (also changed in place, at the same path) with exit 2 naming both
# fingerprints and the files, the results file byte-for-byte unchanged; the same data at another
# path (a copy in another directory, a symlink, gzip or plain) are accepted and the resumed file
# equals one made in one go. Files without a fingerprint (written before it existed) are still
# compared by path, and the message says so. CSV always; health and MovieLens when present.
# Usage: test_fingerprint.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}

# run <args...>: 2 ranks; output in $out, exit status in $rc.
run() {
  out=$(timeout 120 mpirun -n 2 --oversubscribe "$bin" "$@" 2>&1)
  rc=$?
  [[ $rc -eq 124 ]] && fail "hang: $*"
}
attr() { pycheck files.attr "$1" "$2" 2>/dev/null; }
# value <file...>: the expected data_fingerprint of these input files (zlib's crc32 and size each).
value() { pycheck files.fingerprint "$@"; }
# same <reference> <file>: every dataset under /flows and /runs equal, all runs complete.
same() { pycheck runs.equal_to_reference "$1" "$2"; }
# accepted <name> <reference> <file> <note regex>: exit 0, the note printed, file equal to reference.
accepted() {
  local msg
  if [[ $rc -ne 0 ]]; then fail "$1: exit $rc"; echo "$out" | grep -v '^ \|^$' | tail -4
  elif ! grep -Eq -- "$4" <<<"$out"; then fail "$1: no note matching /$4/"; echo "$out" | head -3
  elif ! msg=$(same "$2" "$3"); then fail "$1: $msg"
  else echo "ok   $1: $msg"; fi
}
# refused <name> <file> <message regex>: exit 2, the message, the results file unchanged.
refused() {
  local err
  err=$(sed -n '/reciprocity: error:/,$p' <<<"$out" | grep -v '^---\|^$')  # (with the lines a message lists)
  if [[ $rc -ne 2 ]]; then fail "$1: exit status $rc, expected 2"; echo "$out" | tail -3
  elif ! grep -Eq -- "$3" <<<"$err"; then fail "$1: message does not match /$3/: ${err:-$out}"
  elif [[ -n $2 ]] && ! cmp -s "$2" "$2.before"; then fail "$1: $2 was modified"
  else echo "ok   $1: ${err:0:400}"; fi
}
re() { sed 's/[][\.*^$/()+?{}|]/\\&/g' <<<"$1"; }  # a literal in an extended regex
# bump <in> <line> <out>: a copy of <in> whose last digit on <line> is changed (same size).
bump() { pycheck files.bump_digit "$1" "$2" "$3"; }

# --- CSV: 40 rows, each its own individual ---
mkdir d1 d2 d3 changed
pycheck files.linear_rows_csv > d1/d.csv
csv=(--dataset csv --model linear --seeds 1 --steps 20 --learning-rate 0.05)  # (not -q: the notes are checked)
d1=$work/d1/d.csv
run "${csv[@]}" --splits 2 --data "$d1" --out A.h5
[[ $rc -eq 0 ]] || { echo "$out"; echo "first run failed"; exit 1; }
fp=$(value "$d1")
size=$(stat -c %s "$d1")
if [[ $(attr A.h5 data_fingerprint) == "$fp" && $(attr A.h5 data_files) == "$d1: $size bytes, crc32 ${fp:6:8}" ]]; then
  echo "ok   data_fingerprint $fp and data_files recorded"
else
  fail "attributes: data_fingerprint $(attr A.h5 data_fingerprint) (expected $fp), data_files $(attr A.h5 data_files)"
fi
cp A.h5 A.h5.before
run "${csv[@]}" --splits 3 --data "$d1" --out ref3.h5
run "${csv[@]}" --splits 4 --data "$d1" --out ref4.h5

# Changed contents, same size: in another directory, then in place (the same path).
bump "$d1" 5 changed/d.csv
cmp -s "$d1" changed/d.csv && { echo "the changed copy is not changed"; exit 1; }
fp2=$(value changed/d.csv)
run "${csv[@]}" --splits 3 --data changed/d.csv --resume --out A.h5
refused "resume on changed data" A.h5 "^reciprocity: error: --resume: the data differ from those \"A\.h5\" was written from: data fingerprint $(re "$fp") \($(re "$d1"): $size bytes, crc32 ${fp:6:8}\) in the file, $(re "$fp2") \(changed/d\.csv: $size bytes, crc32 ${fp2:6:8}\) now; a results file never mixes two data sets"
cp "$d1" d1/original.csv
cp changed/d.csv "$d1"
run "${csv[@]}" --splits 3 --data "$d1" --resume --out A.h5
refused "resume on data changed in place" A.h5 "data fingerprint $(re "$fp") .* in the file, $(re "$fp2") \($(re "$d1"): .*\) now"
mv d1/original.csv "$d1"

# The same data elsewhere: a copy under another name, a symlink.
cp "$d1" d2/copy.csv
run "${csv[@]}" --splits 3 --data d2/copy.csv --resume --out A.h5
accepted "resume from a copy in another directory" ref3.h5 A.h5 \
  "reciprocity: --resume: data read from \"d2/copy\.csv\", the file was written from \"$(re "$d1")\": same contents \(data fingerprint $(re "$fp")\)"
[[ $(attr A.h5 config_data) == "$d1" ]] || fail "config_data changed to $(attr A.h5 config_data)"
ln -s ../d1/d.csv d3/link.csv
run "${csv[@]}" --splits 4 --data d3/link.csv --resume --out A.h5
accepted "resume through a symlink" ref4.h5 A.h5 "same contents \(data fingerprint $(re "$fp")\)"

# --- merge: the same data at two paths merge; other data are refused ---
run "${csv[@]}" --splits 2 --split-range 0:1 --data "$d1" --out P0.h5
run "${csv[@]}" --splits 2 --split-range 1:2 --data d2/copy.csv --out P1.h5
run --merge P0.h5 P1.h5 --out M.h5 -q
accepted "merge of parts read from two paths of the same data" A.h5.before M.h5 "results: M\.h5 \(complete\)"
run "${csv[@]}" --splits 2 --split-range 1:2 --data changed/d.csv --out P1x.h5
run --merge P0.h5 P1x.h5 --out Mx.h5 -q
refused "merge of parts made from other data" "" "^reciprocity: error: --merge: \"P1x\.h5\" was made from other data than \"P0\.h5\": data fingerprint $(re "$fp") \($(re "$d1"): .*\) in \"P0\.h5\", $(re "$fp2") \(changed/d\.csv: .*\) in \"P1x\.h5\"; a results file never mixes two data sets"
[[ -e Mx.h5 ]] && fail "the refused merge created Mx.h5"

# --- files without a fingerprint (before it existed): identified by path, and said so ---
strip() { pycheck files.remove_attributes "$1" data_fingerprint data_files; }
cp A.h5.before old.h5 && strip old.h5 && cp old.h5 old.h5.before
run "${csv[@]}" --splits 3 --data d2/copy.csv --resume --out old.h5
refused "old file, data at another path" old.h5 "^  --data: file has $(re "$d1"), requested d2/copy\.csv \(\"old\.h5\" has no data_fingerprint: it was written before the data were identified by content, so its data are identified by their path, --data, alone\)"
run "${csv[@]}" --splits 3 --data "$d1" --resume --out old.h5
accepted "old file, same path" ref3.h5 old.h5 "reciprocity: --resume: note: \(\"old\.h5\" has no data_fingerprint: .*\); the contents cannot be checked"
cp P0.h5 P0old.h5 && strip P0old.h5
run --merge P0old.h5 P1.h5 --out Mo.h5 -q
refused "merge of an old file with data at another path" "" "^  --data: \"P0old\.h5\" has $(re "$d1"), \"P1\.h5\" has d2/copy\.csv \(\"P0old\.h5\" has no data_fingerprint: it was written before"

# --- health: gzip or plain files, the same bytes parsed ---
if [[ -f $data/health/diabetes_data_raw.csv.gz ]]; then
  mkdir h1 h2 h3
  cp "$data"/health/diabetes_*.csv.gz h1/
  for f in diabetes_data_raw diabetes_target; do gzip -dc "h1/$f.csv.gz" > "h2/$f.csv"; done
  diab=(--dataset diabetes --seeds 1 --steps 5)
  run "${diab[@]}" --splits 1 --data h1 --out D.h5
  run "${diab[@]}" --splits 2 --data h1 --out D2.h5
  dfp=$(value h2/diabetes_data_raw.csv h2/diabetes_target.csv)
  [[ $(attr D.h5 data_fingerprint) == "$dfp" ]] && echo "ok   diabetes: the fingerprint of both files' decompressed bytes" ||
    fail "diabetes fingerprint $(attr D.h5 data_fingerprint), expected $dfp"
  grep -q "h1/diabetes_target.csv.gz: [0-9]* bytes (decompressed), crc32" <<<"$(attr D.h5 data_files)" || fail "diabetes data_files: $(attr D.h5 data_files)"
  cp D.h5 D.h5.before
  cp h2/diabetes_data_raw.csv h3/ && bump h2/diabetes_target.csv 1 h3/diabetes_target.csv
  run "${diab[@]}" --splits 2 --data h3 --resume --out D.h5
  refused "diabetes: a changed target file" D.h5 "data fingerprint $(re "$dfp") .* in the file, .*h3/diabetes_target\.csv: .* now"
  run "${diab[@]}" --splits 2 --data h2 --resume --out D.h5
  accepted "diabetes: resume from the uncompressed copy" D2.h5 D.h5 "same contents"
else
  skip "health gzip or plain: no $data/health/diabetes_data_raw.csv.gz"
fi

# --- MovieLens: the partitioned load (each rank reads its users), fingerprint from the scan ---
if [[ -f $data/ml-100k/u.data ]]; then
  mkdir m1 m2 m4
  cp "$data/ml-100k/u.data" m1/
  cp m1/u.data m2/
  ln -s m1 m3
  awk -F'\t' -v OFS='\t' 'NR == 10 { $3 = ($3 == 5 ? 4 : $3 + 1) } 1' m1/u.data > m4/u.data
  ml=(--dataset movielens-100k --seeds 1 --steps 3)
  run "${ml[@]}" --splits 1 --data m1 --out ML.h5
  run "${ml[@]}" --splits 3 --data m1 --out ML3.h5
  mfp=$(value m1/u.data)
  [[ $(attr ML.h5 data_fingerprint) == "$mfp" ]] && echo "ok   MovieLens: data_fingerprint $mfp" ||
    fail "MovieLens fingerprint $(attr ML.h5 data_fingerprint), expected $mfp"
  cp ML.h5 ML.h5.before
  run "${ml[@]}" --splits 2 --data m4 --resume --out ML.h5
  refused "MovieLens: one rating changed" ML.h5 "data fingerprint $(re "$mfp") .* in the file, $(re "$(value m4/u.data)") \(m4/u\.data: .*\) now"
  run "${ml[@]}" --splits 2 --data m2 --resume --out ML.h5
  [[ $rc -eq 0 ]] && echo "ok   MovieLens: resume from a copy" || fail "MovieLens copy: exit $rc"
  run "${ml[@]}" --splits 3 --data m3 --resume --out ML.h5
  accepted "MovieLens: resume through a symlinked directory" ML3.h5 ML.h5 "same contents"
else
  skip "MovieLens partitioned load: no $data/ml-100k/u.data"
fi

# --- synthetic data: the generator's specification ---
run --synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --splits 1 --seeds 1 --steps 3 -q --out S.h5
[[ $(attr S.h5 data_fingerprint) == generator-crc32:* && $(attr S.h5 data_files) == synthetic\(users=30,* ]] &&
  echo "ok   synthetic: fingerprint of the generator's specification" || fail "synthetic: $(attr S.h5 data_fingerprint)"

"$bin" --help > help.txt
grep -q 'their fingerprint: the same data at another path' help.txt && grep -q 'a --resume or --merge on$' help.txt &&
  echo "ok   --help documents the data fingerprint" || fail "--help lacks the data fingerprint"

finish
