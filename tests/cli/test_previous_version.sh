#!/usr/bin/env bash
# Files of earlier versions: 0.4.0 (section 7) and the previous layout (tests/cli/data/results-0.2.0.h5, written by version 0.2.0: no
# descriptions, units or dimension scales, numbers of the configuration as text) and this one:
#   - the same options give the same numbers: every dataset the two files share is equal (NaN
#     where NaN), the configuration too (as the options' text);
#   - the old file is summarised (--summarize prints the same figures as for the new file), and
#     that first write brings it up to date (descriptions, units, scales, typed numbers) without
#     changing a number;
#   - it resumes with more splits, and merges with a new file, both giving the file a fresh
#     sweep of the new version gives;
#   - tools/report reports it as it reports the new file, and the Python reader
#     (tools/reciprocity_tools/results.py) reads it with the dimensions and coordinates of the
#     schema the program declares.
# Usage: test_previous_version.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"
old="$src/tests/cli/data/results-0.2.0.h5"
ok() { echo "ok   $*"; }
bad() { fail "$*"; }
opts=(-q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 --seeds 2 --steps 10 --learning-rate 1.5
      --marginal --save-split-mask)
run() {  # run <log> <options...>
  local log=$1; shift
  "$bin" "$@" >"$log" 2>&1 || { bad "reciprocity $*:"; tail -3 "$log"; return 1; }
}

# compare <a.h5> <b.h5> [<only these groups>...]: every dataset both hold is equal; the
# configuration too. Prints what it compared.
compare() { pycheck versions.compare_files "$@"; }

[[ -f $old ]] || { echo "FAIL missing $old"; exit 1; }
cp "$old" old.h5
chmod u+w old.h5

# 1. The same options, the same numbers.
run new.log "${opts[@]}" --splits 2 --out new.h5 &&
  { compare old.h5 new.h5 && ok "version 0.2.0 and this one write the same numbers" || bad "numbers differ from version 0.2.0"; }

# 2. --summarize: the same figures; the file is brought up to date, its numbers unchanged.
cp old.h5 summarized.h5
if "$bin" -q --summarize summarized.h5 > old-summary.txt 2>&1 && "$bin" -q --summarize new.h5 > new-summary.txt 2>&1; then
  # (the first line and the closing "Next: tools/report <file>" name the file)
  sed -i '/^Next: tools\/report /d' old-summary.txt new-summary.txt
  if diff <(tail -n +2 old-summary.txt) <(tail -n +2 new-summary.txt) > /dev/null; then
    ok "--summarize of the old file prints the new file's figures"
  else
    bad "--summarize figures differ:"; diff <(tail -n +2 old-summary.txt) <(tail -n +2 new-summary.txt) | head
  fi
else
  bad "--summarize failed:"; cat old-summary.txt new-summary.txt | tail -5
fi
compare old.h5 summarized.h5 flows runs splits individuals > /dev/null &&
  ok "--summarize left every run's numbers as they were" || bad "--summarize changed numbers"
if pycheck versions.describes_itself summarized.h5; then ok "the summarised old file describes itself"
else bad "the summarised old file lacks descriptions"; fi

# 3. --resume with a third split: the file a fresh 3-split sweep gives.
run fresh3.log "${opts[@]}" --splits 3 --out fresh3.h5
cp old.h5 resumed.h5
run resumed.log "${opts[@]}" --splits 3 --resume --out resumed.h5 &&
  { compare fresh3.h5 resumed.h5 flows runs splits individuals &&
      ok "the old file resumes to 3 splits, equal to a fresh sweep" || bad "the resumed old file differs"; }

# 4. --merge of the old file with a new one holding split 2: the fresh 3-split sweep again.
run part.log "${opts[@]}" --splits 3 --split-range 2:3 --out part.h5 &&
  run merged.log -q --merge old.h5 part.h5 --out merged.h5 &&
  { compare fresh3.h5 merged.h5 flows runs splits individuals summary &&
      ok "the old file merges with a new one, equal to a fresh sweep" || bad "the merged file differs"; }

# 5. tools/report: the same table for the old and the new file.
if "$src/tools/report" --no-plots old.h5 --out rep-old > /dev/null 2>rep-old.err &&
   "$src/tools/report" --no-plots new.h5 --out rep-new > /dev/null 2>rep-new.err &&
   diff <(cut -d, -f2- rep-old/summary.csv) <(cut -d, -f2- rep-new/summary.csv) > /dev/null; then
  ok "tools/report reports the old file as the new one"
else
  bad "tools/report on the old file:"; cat rep-old.err; diff rep-old/summary.csv rep-new/summary.csv | head -5
fi

# 6. The reader labels the old file from the schema.
if pycheck versions.reader_labels_old old.h5 new.h5; then ok "the reader labels the old file as the new one"
else bad "the reader on the old file"; fi

# 7. Version 0.4.0 (tests/cli/data/results-0.4.0.h5: entities, leave-one-entity-out Marginal and a
#    journal, whose Marginal files name no measure): the same options give the same numbers, and a
#    damaged copy is rebuilt by --resume from its 0.4 journal, equal to the fresh sweep.
old4="$src/tests/cli/data/results-0.4.0.h5"
cp "$src/tests/cli/data/entities-0.4.0.csv" .  # config_entities names it by this relative path
opts4=("${opts[@]}" --splits 2 --entities map:entities-0.4.0.csv)
run new4.log "${opts4[@]}" --out new4.h5 &&
  { compare "$old4" new4.h5 && ok "version 0.4.0 and this one write the same numbers (entities included)" ||
      bad "numbers differ from version 0.4.0"; }
cp "$old4" damaged4.h5 && cp -r "$old4.journal" damaged4.h5.journal && chmod -R u+w damaged4.h5 damaged4.h5.journal
dd if=/dev/zero of=damaged4.h5 bs=1024 count=2 conv=notrunc status=none
run rebuilt4.log "${opts4[@]}" --resume --out damaged4.h5 &&
  grep -q "rebuilding" rebuilt4.log &&
  { compare new4.h5 damaged4.h5 flows runs splits individuals &&
      ok "a damaged 0.4.0 file is rebuilt from its 0.4 journal, equal to a fresh sweep" ||
      bad "the file rebuilt from the 0.4 journal differs"; } || { bad "--resume did not rebuild from the 0.4 journal:"; tail -3 rebuilt4.log; }

finish
