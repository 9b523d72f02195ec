#!/usr/bin/env bash
# `reciprocity --describe schema|options|presets` (docs/options.md, "The program's tables"): the
# program's own tables, for the Python tools (JSON) and the documentation (Markdown):
#   - every kind prints valid JSON, exit 0, without MPI's launcher; a bad kind, a bad format and
#     --describe-format alone are refused (exit 2) naming the option;
#   - src/io/README.md's layout tables are the program's Markdown output, byte for byte;
#     docs/method.md's presets table holds every preset's values; docs/options.md's table names
#     exactly the options the program has;
#   - --describe options lists every option --help shows, and no other;
#   - the result options (recorded as config_<name>) are the schema's config_ attributes; a file
#     records them as --describe says (--embedding-dim as config_rank, every "always" option).
# Usage: test_describe.sh <reciprocity binary> <shared data dir> <source dir>
source "$(dirname "$0")/lib.sh" "$@"

if pycheck layout.describe_documents "$bin" "$src/src/io/README.md" "$src/docs/method.md" "$src/docs/options.md"; then
  echo "ok   the documents are the program's tables"
else
  fail "the documents differ from --describe (src/io/README.md: paste \`reciprocity --describe schema --describe-format markdown\` between its markers)"
fi

refused_option "--describe nonsense" 'option --describe: "nonsense" is not schema, options or presets' --describe nonsense
refused_option "--describe-format html" 'option --describe-format: "html" is neither json nor markdown' --describe schema --describe-format html
refused_option "--describe-format alone" 'option --describe-format: needs --describe' --describe-format json

# --help and --describe options list the same options.
"$bin" --help > help.txt
"$bin" --describe options > options.json
help_names=$(grep -oE '^  (-[a-zA-Z] \[ )?--[a-z][a-z-]*' help.txt | grep -oE -- '--[a-z][a-z-]*' | sort)
described=$(pycheck layout.option_names options.json | sort)
check "--describe options lists every option of --help ($(wc -w <<<"$help_names"))" test "$help_names" == "$described"

"$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 --splits 1 --seeds 1 --steps 3 \
  --embedding-dim 3 --learning-rate 1 --out small.h5 > small.log 2>&1 || fail "the engine did not run: $(tail -2 small.log)"
check "a file records the result options as --describe options says" pycheck layout.result_options_recorded small.h5 "$bin"
finish
