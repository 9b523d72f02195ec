#!/usr/bin/env bash
# Command-line and config-file hygiene: a stray argument is an error (not a silent default job),
# --merge still takes several files; every error in a --config file names the file and the line
# (unknown option, malformed line, bad value, option set twice, a value out of range); a
# directory as --config is refused; switches in a config file take true/false, 1/0, yes/no,
# on/off (any case).
# Usage: test_command_line.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"

pop=(--synthetic-users 30 --synthetic-items 20 --synthetic-ratings 300 --seeds 1 --steps 3 -q)
tiny=("${pop[@]}" --splits 1)

# expect <name> <status> <message regex> -- args...: exit status and a matching error line.
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  local out rc
  out=$(timeout 60 "$bin" "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $status ]]; then fail "$name: exit status $rc, expected $status"; echo "$out" | tail -3; return; fi
  if ! grep -Eq -- "$pattern" <<<"$(grep 'reciprocity: error:' <<<"$out")"; then
    fail "$name: message does not match /$pattern/:"; echo "$out" | tail -3; return
  fi
  echo "ok   $name: $(grep 'reciprocity: error:' <<<"$out" | head -1)"
}

# --- stray arguments ---
expect stray-arguments 2 'unexpected arguments "p0\.h5", "p1\.h5"' -- "${tiny[@]}" --out all.h5 p0.h5 p1.h5
[[ -e all.h5 ]] && fail "stray-arguments: the default job ran and wrote all.h5"
expect stray-after-switch 2 'unexpected argument "true"' -- "${tiny[@]}" --save-split-mask true --out s.h5
expect stray-after-terminator 2 'unexpected argument "x\.h5"' -- "${tiny[@]}" --out s.h5 -- x.h5
[[ -e s.h5 ]] && fail "a refused command line wrote s.h5"
# --merge is multitoken and still takes several files.
"$bin" "${pop[@]}" --split-range 0:1 --splits 2 --out p0.h5 > /dev/null 2>&1 || fail "part 0 run"
"$bin" "${pop[@]}" --split-range 1:2 --splits 2 --out p1.h5 > /dev/null 2>&1 || fail "part 1 run"
if "$bin" -q --merge p0.h5 p1.h5 --out all.h5 > merge.log 2>&1 && grep -q 'results: all.h5 (complete)' merge.log; then
  echo "ok   --merge p0.h5 p1.h5 --out all.h5"
else
  fail "--merge of two files"; tail -3 merge.log
fi

# --- config files: file and line in every message ---
cfg() { printf '%b' "$1" > run.cfg; }
cfg '# settings\nsplits = 2\n\nfrobnicate = 3\n'
expect config-unknown-option 2 'config file "run\.cfg" line 4: unrecogni[sz]ed option .frobnicate.' -- "${tiny[@]}" --config run.cfg --out c.h5
cfg 'splits = 2\nsteps\n'
expect config-malformed-line 2 'config file "run\.cfg" line 2: .*invalid line .steps.' -- "${tiny[@]}" --config run.cfg --out c.h5
cfg 'seeds = 1\nlearning-rate = fast\n'
expect config-bad-value 2 'config file "run\.cfg" line 2: .*fast.*learning-rate' -- "${tiny[@]}" --config run.cfg --out c.h5
# A bad value is an error even where the command line overrides it.
expect config-bad-value-overridden 2 'config file "run\.cfg" line 2:' -- "${tiny[@]}" --learning-rate 1 --config run.cfg --out c.h5
cfg 'splits = 1\nseeds = 1\nsplits = 2\n'
expect config-set-twice 2 'config file "run\.cfg" line 3: option .splits. is also set on line 1' -- "${tiny[@]}" --config run.cfg --out c.h5
cfg 'seeds = 1\n  splits = -3   # a typo\n'
expect config-out-of-range 2 'option --splits: -3 is out of range.*config file "run\.cfg" line 2' -- "${pop[@]}" --config run.cfg --out c.h5
cfg 'marginal =\n'
expect config-empty-value 2 'config file "run\.cfg" line 1: option .marginal. has no value' -- "${tiny[@]}" --config run.cfg --out c.h5
cfg 'save-split-mask = maybe\n'
expect config-bad-switch 2 'config file "run\.cfg" line 1: .*maybe' -- "${tiny[@]}" --config run.cfg --out c.h5
cfg '[section]\nsplits = 1\n'
expect config-section 2 'config file "run\.cfg" line 1: sections' -- "${tiny[@]}" --config run.cfg --out c.h5
mkdir cfgdir
expect config-directory 2 'option --config: "cfgdir" is a directory' -- "${tiny[@]}" --config cfgdir --out c.h5
expect config-missing 2 'option --config: cannot open "nowhere\.cfg"' -- "${tiny[@]}" --config nowhere.cfg --out c.h5
[[ -e c.h5 ]] && fail "a refused config file wrote c.h5"

# --- switches in a config file ---
for pair in true:true false:false 1:true 0:false yes:true no:false on:true off:false TRUE:true Off:false; do
  word=${pair%%:*} want=${pair#*:}
  printf 'save-split-mask = %s   # switch\n' "$word" > sw.cfg
  rm -f sw.h5
  if ! "$bin" "${tiny[@]}" --config sw.cfg --out sw.h5 > sw.log 2>&1; then fail "switch '$word': run failed"; tail -2 sw.log; continue; fi
  got=$(pycheck files.attr sw.h5 config_save-split-mask)
  [[ $got == "$want" ]] && echo "ok   config 'save-split-mask = $word' -> $got" || fail "config 'save-split-mask = $word' gave $got, expected $want"
done

# --help documents the config syntax and the switches.
"$bin" --help > help.txt
tr -s ' \n' ' ' < help.txt | grep -q 'a switch is `name = true` or false, also 1/0, yes/no, on/off' && echo "ok   --help documents switches in config files" || fail "--help lacks the config switch syntax"

finish
