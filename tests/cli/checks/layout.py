"""The results file against the layout the program declares (`reciprocity --describe schema`),
and the documentation against the program's tables (tests/cli/test_schema.sh, test_describe.sh)."""
import json
import re
import subprocess

import h5py
import numpy as np
from reciprocity_tools import program

from common import Claims, text

# The optional parts of a file that need their own run (test_schema.sh): the datasets of these
# presences are checked in those files; full.h5 holds every other optional part.
PARTS = {"entities": ("entities", "entity_marginal", "entity_shapley", "entity_second_order"), "arrival": ("arrival",)}


def dataset_links(f):
    """Every dataset link of the file, hard links (coordinates linked into groups) included."""
    links = []

    def walk(group, prefix=""):
        for name in group:
            obj = group[name]
            if isinstance(obj, h5py.Group):
                walk(obj, prefix + name + "/")
            else:
                links.append(prefix + name)
    walk(f)
    return links


def check_dataset(f, path, schema, bad):
    """The dataset at `path` (a declared dataset or a coordinate) as declared; problems into bad."""
    dims = {d["name"]: d for d in schema["dimensions"]}
    homes = {d["path"].lstrip("/"): name for name, d in dims.items()}
    datasets = {d["path"].lstrip("/"): d for d in schema["datasets"]}
    ds = f[path]
    base = path.rsplit("/", 1)[-1]
    if path in homes or (base in dims and dims[base]["path"].lstrip("/") != path):
        name = homes.get(path, base)
        home = dims[name]["path"].lstrip("/")
        if path not in homes and ds.id != f[home].id:
            bad.append(f"/{path}: not a link to the coordinate /{home}")
        want = (dims[name]["element"], (name,), dims[name]["units"], dims[name]["description"])
        if dims[name]["coordinates"] and ds.attrs.get("NAME") != name.encode():
            bad.append(f"/{path}: dimension scale name {ds.attrs.get('NAME')!r}, expected {name!r}")
    else:
        d = datasets.get(path)
        if d is None:
            bad.append(f"/{path}: in the file, not declared by reciprocity --describe schema")
            return
        want = (d["element"], tuple(d["dims"]), d["units"], d["description"])
        for i, dim in enumerate(d["dims"]):
            scales = [s.name for s in ds.dims[i].values()]
            home = dims[dim]["path"]
            if not scales or f[scales[0]].id != f[home].id:
                bad.append(f"/{path}: dimension {i} has scales {scales}, expected {home}")
    got = (ds.dtype.name, tuple(d.label for d in ds.dims), text(ds.attrs.get("units", "(none)")),
           text(ds.attrs.get("description", "(none)")))
    if got != want:
        bad.append(f"/{path}: file {got} != declared {want}")


def check_attributes(f, schema, bad):
    """Every root attribute declared, with the declared type (numbers as numbers)."""
    declared = {a["name"]: a["type"] for a in schema["attributes"]}
    for name, value in f.attrs.items():
        if name not in declared:
            bad.append(f"root attribute {name}: not declared")
            continue
        kind = declared[name]
        numpy_kind = {"int64": "i", "uint64": "u", "float64": "f"}.get(kind)
        if numpy_kind and np.asarray(value).dtype.kind != numpy_kind:
            bad.append(f"root attribute {name}: {value!r} is not {kind}")
        if kind in ("text", "bool") and not isinstance(value, (str, bytes)):
            bad.append(f"root attribute {name}: {value!r} is not text")
        if kind == "bool" and text(value) not in ("true", "false"):
            bad.append(f"root attribute {name}: {value!r} is not true/false")


def file_matches_schema(path, part):
    """Every dataset of the file is declared with the same element type, dimensions, units and
    description and carries the dimension scales of its dimensions; every coordinate linked into a
    group is the dimension's own dataset; every declared dataset present for `part` (full: every
    optional part but those of PARTS; entities, arrival: those) is in the file; every root attribute
    is declared, with its type."""
    schema = program.describe("schema")
    bad = []
    with h5py.File(path, "r") as f:
        links = dataset_links(f)
        for link in links:
            check_dataset(f, link, schema, bad)
        special = {w for ws in PARTS.values() for w in ws}
        present = {d["path"].lstrip("/") for d in schema["datasets"]
                   if d["presence"] in PARTS.get(part, ()) or (part == "full" and d["presence"] not in special)}
        bad += [f"/{p}: declared, missing in the file" for p in sorted(p for p in present if p not in f)]
        check_attributes(f, schema, bad)
        count = len(f.attrs)
    for line in bad:
        print("    " + line)
    print(f"    checked {len(links)} dataset links and {count} root attributes")
    return not bad


def h5dump_describes(header):
    """`h5dump -H` (in the file `header`) shows a description, units and a dimension list on every
    dataset (a scale: its reference list), and at least 60 datasets."""
    dump = open(header).read()
    blocks = re.split(r'\n\s*DATASET "', dump)[1:]
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
    return not bad and len(blocks) >= 60


def describe_texts(bin_path):
    """{kind: (JSON text, Markdown text)} of `reciprocity --describe` for every kind."""
    out = {}
    for kind in ("schema", "options", "presets"):
        texts = [subprocess.run([bin_path, "--describe", kind, "--describe-format", f], capture_output=True,
                                text=True, check=True).stdout for f in ("json", "markdown")]
        out[kind] = tuple(texts)
    return out


def generated_block(document):
    """The text between the markers of a generated block of a Markdown document."""
    body = open(document).read()
    begin = re.search(r"<!-- begin generated: (.*?) -->\n", body)
    end = body.index("<!-- end generated -->", begin.end())
    return begin.group(1), body[begin.end():end]


def describe_documents(bin_path, io_readme, method, options_doc):
    """--describe prints valid JSON for every kind; src/io/README.md's generated block is the
    program's Markdown schema, byte for byte; docs/method.md's presets table holds every preset's
    numbers; docs/options.md's table names exactly the options --describe options lists."""
    claim = Claims()
    texts = describe_texts(bin_path)
    described = {}
    for kind, (js, _) in texts.items():
        try:
            described[kind] = json.loads(js)
            claim(True, f"--describe {kind}: valid JSON ({len(js)} bytes)")
        except ValueError as e:
            claim(False, f"--describe {kind}: not JSON ({e})")
    command, block = generated_block(io_readme)
    claim(command == "reciprocity --describe schema --describe-format markdown" and block == texts["schema"][1],
          f"src/io/README.md: the generated block is `{command}`'s output"
          + ("" if block == texts["schema"][1] else " (it differs: regenerate it, see tests/README.md)"))
    claim(presets_in_method(method, described["presets"]["presets"]),
          "docs/method.md section 8: the presets table holds every preset's values")
    names = {o["name"] for o in described["options"]["options"]}
    documented = set(re.findall(r"`(?:-\w, )?--([a-z][a-z-]*)", options_table(options_doc)))
    documented |= {"synthetic-" + w for w in ("items", "ratings", "rank")} if "synthetic-users" in documented else set()
    claim(documented == names, "docs/options.md's table names every option and no other"
          + (f" (undocumented: {sorted(names - documented)}; not options: {sorted(documented - names)})"
             if documented != names else ""))
    return claim.holds


def options_table(options_doc):
    """The first cells of the table of docs/options.md's section Options (the options' names)."""
    section = open(options_doc).read().split("## Options", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.split(r"(?<!\\)\|", line)[1] for line in section.splitlines() if line.startswith("| `"))


def presets_in_method(method, presets):
    """Each preset's splits x seeds, steps, learning rate, k, lambda, init-scale in a row of
    docs/method.md's presets table naming it (k, lambda, init-scale "-" for models without them)."""
    rows = [line for line in open(method).read().splitlines() if line.startswith("| `")]
    ok = True
    for p in presets:
        row = next((r for r in rows if f"`{p['name']}`" in r.split("|")[1]), None)
        if row is None:
            print(f"    preset {p['name']}: no row")
            ok = False
            continue
        cells = [c.strip() for c in row.split("|")[1:-1]]
        mf = p["model"] == "mf"
        want = [f"{p['splits']} x {p['seeds']}", str(p["steps"]), f"{p['learning-rate']:g}",
                str(p["embedding-dim"]) if mf else "-", f"{p['lambda']:g}" if mf else "-",
                f"{p['init-scale']:g}" if mf else "-"]
        if cells[2:8] != want:
            print(f"    preset {p['name']}: table {cells[2:8]}, program {want}")
            ok = False
    return ok


def result_options_recorded(path, bin_path):
    """Every config_<name> attribute of a file is the attribute of an option --describe options
    marks as determining the numbers, of the declared type, and every such option with
    `recorded: always` is in the file; the --describe schema attributes config_* are those of the
    options (no option without its attribute, no attribute without its option)."""
    claim = Claims()
    options = program.describe("options")["options"]
    by_attribute = {o["attribute"]: o for o in options if o["result"]}
    schema = {a["name"]: a["type"] for a in program.describe("schema")["attributes"] if a["name"].startswith("config_")}
    claim(set(schema) == set(by_attribute), f"the {len(schema)} config_ attributes are those of the result options"
          + ("" if set(schema) == set(by_attribute) else f" ({sorted(set(schema) ^ set(by_attribute))})"))
    claim(all(by_attribute[a]["attribute_type"] == t for a, t in schema.items() if a in by_attribute),
          "each result option's attribute_type is the schema's")
    with h5py.File(path, "r") as f:
        recorded = {k for k in f.attrs if k.startswith("config_")}
        claim(recorded <= set(by_attribute), f"{path}: every config_ attribute is a result option's "
              f"({sorted(recorded - set(by_attribute))} are not)")
        always = {a for a, o in by_attribute.items() if o["recorded"] == "always"}
        claim(always <= recorded, f"{path}: every option recorded always is there ({sorted(always - recorded)} missing)")
        rank = text(f.attrs.get("config_rank", "?"))
    embedding = [o for o in options if o["name"] == "embedding-dim"]
    claim(embedding and embedding[0]["attribute"] == "config_rank" and rank == "3",
          f"--embedding-dim 3 is recorded as config_rank ({rank}), as --describe says")
    return claim.holds


def option_names(options_json):
    """Print the --name of every option of `reciprocity --describe options` (its JSON in the file)."""
    print("\n".join("--" + o["name"] for o in json.load(open(options_json))["options"]))
    return True
