"""The generate stage: a task's fixed dataset as a self-describing netCDF file."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from learnscope import store
from learnscope.config import to_json
from learnscope.kinds import task_kind
from learnscope.tasks.base import Task


def dataset_to_xarray(task: Task, arrays: dict[str, np.ndarray]) -> xr.Dataset:
    """Pack ``task.make_dataset()`` arrays with coords, names and units."""
    label, y_dims = task_kind(task.kind).label_name, task_kind(task.kind).y_dims
    ds = xr.Dataset(
        {
            "x_train": (("sample_train", "input"), arrays["x_train"], {"long_name": "training inputs"}),
            "y_train": (("sample_train",) + y_dims, arrays["y_train"], {"long_name": f"training labels ({label})"}),
            "x_test": (("sample_test", "input"), arrays["x_test"], {"long_name": "test inputs"}),
            "y_test": (("sample_test",) + y_dims, arrays["y_test"], {"long_name": f"test labels ({label})"}),
            "support": (("input",), arrays["support"].astype(np.int8),
                        {"long_name": "1 where the target depends on the coordinate", "units": "1"}),
        },
        coords={"input": np.arange(task.n_inputs),
                "feature_name": (("input",), np.array(task.feature_names(), dtype=object))},
        attrs={"kind": task.kind, "description": task.describe(), "n_outputs": task.n_outputs},
    )
    ds = ds.assign(task.dataset_variables(arrays))
    return ds


def generate(task: Task, out_path: str) -> None:
    """Write the task's fixed dataset to ``out_path`` (atomically, with provenance)."""
    ds = dataset_to_xarray(task, task.make_dataset())
    store.write(ds, out_path, "dataset", params_json=to_json(task))


def load_tensors(ds: xr.Dataset, device: torch.device) -> dict[str, torch.Tensor]:
    """x_train, y_train, x_test, y_test as tensors on ``device`` (labels int64 for multiclass)."""
    label_dtype = torch.int64 if ds.attrs["kind"] == "multiclass" else torch.float32
    out = {}
    for name in ("x_train", "y_train", "x_test", "y_test"):
        dtype = torch.float32 if name.startswith("x") else label_dtype
        out[name] = torch.as_tensor(ds[name].values).to(device=device, dtype=dtype)
    return out
