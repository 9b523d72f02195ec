#!/usr/bin/env bash
# The layers of src/README.md, checked on the sources: which layer may include which, and that
# only src/mpi and src/h5 call the MPI and HDF5 C APIs. Usage: test_layers.sh <source root>.
set -uo pipefail
root=${1:?usage: test_layers.sh <source root>}
cd "$root" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# layer -> the layers it may include (besides itself): the USES of each reciprocity_layer() call in
# src/CMakeLists.txt (which links each layer's library to those alone). Models are rank-local maths:
# they see a core::Reducer, never a communicator; the split and the model share core::RunKey.
declare -A allowed=()
while read -r layer uses; do
  allowed[$layer]=$uses
done < <(sed -nE 's/^reciprocity_layer\(([a-z0-9_]+) USES( [a-z0-9_ ]*)?$/\1\2/p' src/CMakeLists.txt)
# Every directory of src/ and include/reciprocity/ is a layer of src/CMakeLists.txt and a row of
# src/README.md's table.
for dir in src/*/ include/reciprocity/*/; do
  layer=$(basename "$dir")
  [[ -v allowed[$layer] ]] || fail "${dir%/} is not a layer of src/CMakeLists.txt (reciprocity_layer($layer USES ...))"
  grep -qE "^\| \`$layer\`|, \`$layer\` \|" src/README.md || fail "${dir%/} has no row in src/README.md's table of layers"
done
layer_of() {  # src/<layer>/... or include/reciprocity/<layer>/...
  local p=${1#include/reciprocity/}; p=${p#src/}; echo "${p%%/*}"
}
while IFS= read -r line; do
  file=${line%%:*}
  target=$(sed -E 's#.*"reciprocity/([a-z0-9_]+)/.*#\1#' <<<"$line")
  layer=$(layer_of "$file")
  [[ -v allowed[$layer] ]] || continue  # main.cpp: the program itself
  [[ $target == "$layer" ]] && continue
  [[ " ${allowed[$layer]} " == *" $target "* ]] || fail "$file includes the $target layer (${layer} may include: ${allowed[$layer]:-nothing})"
done < <(grep -rn '#include "reciprocity/' src include)

# C API calls: MPI_Xxx( and H5Xxx( only in the mpi and h5 layers.
while IFS= read -r hit; do
  fail "MPI C API outside src/mpi: $hit"
done < <(grep -rnE '\bMPI_[A-Z][a-z_]+[[:space:]]*\(' src include | grep -vE '^(src|include/reciprocity)/(mpi|h5)/')
while IFS= read -r hit; do
  fail "HDF5 C API outside src/h5: $hit"
done < <(grep -rnE '\bH5[A-Z][A-Za-z_]*[[:space:]]*\(' src include | grep -vE '^(src|include/reciprocity)/h5/')
# No communicator in the model layer.
while IFS= read -r hit; do
  fail "a communicator in the model layer: $hit"
done < <(grep -rnE 'mpi::|MPI_Comm' src/model include/reciprocity/model)

# Self-check: the patterns must find the calls where they are allowed (else this test could not fail).
grep -rqE '\bMPI_[A-Z][a-z_]+[[:space:]]*\(' src/mpi || fail "self-check: no MPI call found in src/mpi"
grep -rqE '\bH5[A-Z][A-Za-z_]*[[:space:]]*\(' src/h5 || fail "self-check: no HDF5 call found in src/h5"
[[ ${allowed[train]:-} == *model* && -v allowed[core] ]] || fail "self-check: the layers were not read from src/CMakeLists.txt"

if ((failures)); then echo "$failures layer violation(s)"; exit 1; fi
echo "layers: OK"
