"""Options as the program records and uses them (tests/cli/test_options.sh)."""
import h5py
import numpy as np

from common import Claims, text


def config_file_used(from_file, from_command_line):
    """A run configured by a --config file (command line winning for --learning-rate) records the
    file's values as numbers and equals the same options given on the command line."""
    a, b = h5py.File(from_file, "r"), h5py.File(from_command_line, "r")
    claim = Claims(quiet_ok=True)
    for key, want in (("config_steps", 40), ("config_learning-rate", 1.5), ("config_seeds", 1)):
        claim(a.attrs[key] == want and not isinstance(a.attrs[key], (str, bytes)),
              f"config file: {key} = {a.attrs[key]!r}, expected {want!r}")
    claim(np.array_equal(a["flows/tracin/inflow"][...], b["flows/tracin/inflow"][...]),
          "config file run equals the same options on the command line")
    claim(a.attrs["configuration"] == b.attrs["configuration"], "configuration attribute equal")
    return claim.holds


def split_mask(path):
    """/splits/train_mask of 2 splits: one row per example, as many ones as the split's training
    examples, 70-90% ones, the two splits different."""
    f = h5py.File(path, "r")
    m = f["splits/train_mask"][...]
    n_train = f["runs/train_examples"][...]
    ok = m.shape == (2, f.attrs["examples"]) and all((m[s].sum() == n_train[s]).all() for s in range(2))
    ok = ok and 0.7 < m.mean() < 0.9 and not np.array_equal(m[0], m[1])
    if not ok:
        print(f"shape {m.shape}, sums {m.sum(axis=1)}, train {n_train}")
    return bool(ok)


def flow_interval(every4, every1):
    """--flow-interval 4 is recorded (and 1); the discrepancy exists at the checkpoints 0, 4, 8, ...
    only; the flows are close to the exact ones (within 20%, correlation > 0.99), not equal."""
    a, b = h5py.File(every4, "r"), h5py.File(every1, "r")
    ok = a.attrs["config_flow-interval"] == 4 and b.attrs["config_flow-interval"] == 1
    d = a["runs/discrepancy"][...]
    ok = ok and np.isfinite(d[..., ::4]).all() and np.isnan(np.delete(d, np.s_[::4], axis=-1)).all()
    fa, fb = a["flows/tracin/outflow"][...], b["flows/tracin/outflow"][...]
    rel = np.abs(fa - fb).max() / np.abs(fb).max()
    ok = ok and 0 < rel < 0.2 and np.corrcoef(fa.ravel(), fb.ravel())[0, 1] > 0.99
    print(f"    relative difference {rel:.3g}")
    return bool(ok)


def forget_option(path, name):
    """The file as written before the option `name` existed: no config_<name>, no line of it in
    the configuration attribute."""
    with h5py.File(path, "r+") as f:
        del f.attrs["config_" + name]
        f.attrs["configuration"] = "\n".join(line for line in text(f.attrs["configuration"]).split("\n")
                                             if not line.startswith(name))
    return True


def marginal_step_conventions(keep, mean):
    """config_marginal-step keep and batch-mean recorded; the two conventions give different
    Marginal flows."""
    k, m = h5py.File(keep, "r"), h5py.File(mean, "r")
    assert text(k.attrs["config_marginal-step"]) == "keep", k.attrs["config_marginal-step"]
    assert text(m.attrs["config_marginal-step"]) == "batch-mean"
    a, b = k["flows/marginal/outflow"][...], m["flows/marginal/outflow"][...]
    assert np.abs(a - b).max() > 1e-6 * np.abs(a).max(), "conventions give the same flows"
    return True


def same_marginal(a_path, b_path):
    """The Marginal flows of the two files are equal, bit for bit."""
    a, b = h5py.File(a_path, "r"), h5py.File(b_path, "r")
    for side in ("inflow", "outflow", "self"):
        x, y = a[f"flows/marginal/{side}"][...], b[f"flows/marginal/{side}"][...]
        assert np.array_equal(x, y), (side, np.abs(x - y).max())
    return True


def embedding_dim_alias(a_path, b_path):
    """--embedding-dim 5 and --rank 5 record the same config_rank, 5, and give the same flows."""
    a, b = h5py.File(a_path, "r"), h5py.File(b_path, "r")
    assert a.attrs["config_rank"] == b.attrs["config_rank"] and text(a.attrs["config_rank"]) == "5"
    assert np.array_equal(a["flows/tracin/inflow"][...], b["flows/tracin/inflow"][...])
    return True
