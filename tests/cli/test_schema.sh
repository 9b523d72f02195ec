#!/usr/bin/env bash
# One schema: the file the program writes (src/io/schema.cpp), the Python tools' tables
# (tools/reciprocity_results.py) and src/io/README.md declare the same layout.
#   - every dataset of a new file (with every optional part: Marginal, split masks, summary) is
#     declared in the Python table with the same element type, dimensions, units and
#     description, and carries HDF5 dimension scales: the coordinate datasets of its dimensions;
#     every declared dataset present for that configuration is in the file;
#   - every coordinate linked into a group is the dimension's own dataset (a hard link);
#   - every root attribute is declared, with the declared type (numbers as numbers);
#   - `h5dump -H` shows a description, units and dimension list on every dataset;
#   - src/io/README.md's tables list every declared dataset and dimension with the same dimensions, type
#     and units.
# Usage: test_schema.sh <reciprocity binary> <shared data dir> <source dir>
set -u
bin=$(realpath "$1")
src=$(realpath "$3")
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

if ! mpirun -n 2 --oversubscribe "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 \
    --splits 2 --seeds 2 --steps 10 --learning-rate 1.5 --marginal --save-split-mask --out full.h5 > full.log 2>&1; then
  echo "FAIL the engine did not run:"; cat full.log; exit 1
fi

# The entity datasets (--entities, with --marginal: also the leave-one-entity-out flows) come
# from a second file.
printf 'id,entity\n' > groups.csv
for u in $(seq 0 19); do echo "$u,group-$((u % 3))"; done >> groups.csv
if ! mpirun -n 2 --oversubscribe "$bin" -q --synthetic-users 20 --synthetic-items 15 --synthetic-ratings 300 \
    --splits 2 --seeds 2 --steps 10 --learning-rate 1.5 --entities map:groups.csv --marginal --out entities.h5 > entities.log 2>&1; then
  echo "FAIL the engine did not run with --entities:"; cat entities.log; exit 1
fi

# A time-ordered split (--split-order time, on a small u.data with timestamps) adds
# /individuals/arrival.
for u in $(seq 1 12); do for i in $(seq 1 8); do
  echo -e "$u\t$i\t$(( (u * i) % 5 + 1 ))\t$((880000000 + 1000 * u + 37 * i))"
done; done > u.data
if ! "$bin" -q --dataset movielens --data u.data --split-order time --seeds 2 --steps 10 --learning-rate 1 \
    --embedding-dim 3 --out arrival.h5 > arrival.log 2>&1; then
  echo "FAIL the engine did not run with --split-order time:"; cat arrival.log; exit 1
fi

# check_layout FILE PART: the file against the Python table; PART entities: the entity datasets
# must be present, arrival: /individuals/arrival, full: every other declared dataset.
check_layout() {
TOOLS="$src/tools" PART=$2 "$py" - "$1" <<'EOF'
import os, sys
import h5py, numpy as np
sys.path.insert(0, os.environ["TOOLS"])
import reciprocity_results as rr
bad = []
f = h5py.File(sys.argv[1], "r")
homes = {v[0].lstrip("/"): name for name, v in rr.DIMENSIONS.items()}
links = []                     # every dataset link, hard links included
def walk(group, prefix=""):
    for name in group:
        obj = group[name]
        path = prefix + name
        if isinstance(obj, h5py.Group):
            walk(obj, path + "/")
        else:
            links.append(path)
walk(f)
text = rr.as_text
for path in links:
    ds = f[path]
    dims = tuple(d.label for d in ds.dims)
    base = path.rsplit("/", 1)[-1]
    if path in homes or (base in rr.DIMENSIONS and rr.DIMENSIONS[base][0].lstrip("/") != path):
        name = homes.get(path, base)
        home, coords, element, units, description, _ = rr.DIMENSIONS[name]
        if path not in homes and ds.id != f[home.lstrip("/")].id:
            bad.append(f"/{path}: not a link to the coordinate {home}")
        want = (element, (name,), units, description)
        if coords and ds.attrs.get("NAME") != name.encode():
            bad.append(f"/{path}: dimension scale name {ds.attrs.get('NAME')!r}, expected {name!r}")
    else:
        d = rr.DATASET.get(path)
        if d is None:
            bad.append(f"/{path}: in the file, not declared in tools/reciprocity_results.py")
            continue
        want = (d.element, d.dims, d.units, d.description)
        for i, dim in enumerate(d.dims):
            scales = [s.name for s in ds.dims[i].values()]
            home = rr.DIMENSIONS[dim][0]
            if not scales or f[scales[0]].id != f[home.lstrip("/")].id:
                bad.append(f"/{path}: dimension {i} has scales {scales}, expected {home}")
    got = (ds.dtype.name, dims, text(ds.attrs.get("units", "(none)")), text(ds.attrs.get("description", "(none)")))
    if got != want:
        bad.append(f"/{path}: file {got} != declared {want}")
parts = {"entities": ("entities", "entity_marginal"), "arrival": ("arrival",)}
special = {w for ws in parts.values() for w in ws}
part = os.environ["PART"]                 # full.h5 has every optional part but these
present = {d.path for d in rr.DATASETS
           if d.when in parts.get(part, ()) or (part == "full" and d.when not in special)}
missing = sorted(p for p in present if p not in f)
bad += [f"/{p}: declared, missing in the file" for p in missing]
for name, value in f.attrs.items():
    if name not in rr.ATTRIBUTES:
        bad.append(f"root attribute {name}: not declared")
        continue
    kind = rr.ATTRIBUTES[name][0]
    numpy_kind = {"int64": "i", "uint64": "u", "float64": "f"}.get(kind)
    if numpy_kind and np.asarray(value).dtype.kind != numpy_kind:
        bad.append(f"root attribute {name}: {value!r} is not {kind}")
    if kind in ("text", "bool") and not isinstance(value, (str, bytes)):
        bad.append(f"root attribute {name}: {value!r} is not text")
    if kind == "bool" and text(value) not in ("true", "false"):
        bad.append(f"root attribute {name}: {value!r} is not true/false")
for line in bad:
    print("    " + line)
print(f"    checked {len(links)} dataset links and {len(f.attrs)} root attributes")
sys.exit(1 if bad else 0)
EOF
}
for args in "full.h5 full" "entities.h5 entities" "arrival.h5 arrival"; do
  if check_layout $args; then ok "$args: the file and the Python table declare the same layout"
  else bad "$args: the file and tools/reciprocity_results.py differ"; fi
done

# h5dump -H: every dataset shows description, units and (unless a scale itself) DIMENSION_LIST.
if h5dump -H full.h5 > header.txt 2>&1 && "$py" - header.txt <<'EOF'; then ok "h5dump -H shows description, units and dimensions of every dataset"; else bad "h5dump -H"; fi
import re, sys
text = open(sys.argv[1]).read()
blocks = re.split(r'\n\s*DATASET "', text)[1:]
bad = []
for b in blocks:
    name = b.split('"', 1)[0]
    body = b.split("\n   }", 1)[0]
    if body.split("\n", 1)[1].lstrip().startswith("HARDLINK"):
        continue            # a coordinate linked into a group: shown once, where h5dump meets it first
    need = ['ATTRIBUTE "description"', 'ATTRIBUTE "units"']
    need.append('ATTRIBUTE "REFERENCE_LIST"' if 'ATTRIBUTE "CLASS"' in body else 'ATTRIBUTE "DIMENSION_LIST"')
    if 'ATTRIBUTE "NAME"' in body and "REFERENCE_LIST" not in body:
        need[-1] = 'ATTRIBUTE "CLASS"'     # a scale no dataset uses
    bad += [f"{name}: no {n}" for n in need if n not in body]
print(f"    {len(blocks)} datasets in h5dump -H" + ("; " + "; ".join(bad) if bad else ""))
sys.exit(1 if bad or len(blocks) < 60 else 0)
EOF

# The tables of src/io/README.md.
if TOOLS="$src/tools" "$py" - "$src/src/io/README.md" <<'EOF'; then ok "src/io/README.md lists the declared layout"; else bad "src/io/README.md's layout tables differ from the schema"; fi
import os, re, sys
sys.path.insert(0, os.environ["TOOLS"])
import reciprocity_results as rr
readme = open(sys.argv[1]).read()
section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
rows = {}
for line in section.splitlines():
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
    if cells and cells[0].startswith("`"):
        rows[cells[0].strip("`")] = cells
bad = []
for d in rr.DATASETS:
    if d.path.startswith("summary/marginal_"):
        continue          # "the same with the prefix marginal_"
    row = rows.get("/" + d.path)
    want = [", ".join(d.dims), d.element, d.units or "-"]
    if row is None or row[1:4] != want:
        bad.append(f"/{d.path}: doc {row[1:4] if row else 'absent'}, schema {want}")
for name, (path, coords, element, units, description, _) in rr.DIMENSIONS.items():
    row = rows.get(name)
    if row is None or (units or "-") != row[2] or path not in row[1]:
        bad.append(f"dimension {name}: doc {row}, schema {path} {units!r}")
for line in bad:
    print("    " + line)
sys.exit(1 if bad else 0)
EOF

echo "$fails failure(s)"
exit $((fails > 0))
