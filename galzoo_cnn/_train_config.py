# Licensed under a 3-clause BSD style license - see LICENSE
"""The training configuration, `TrainConfig`, without torch: a configuration file's keys and values
are checked in a second, before torch and Lightning load (`galzoo_cnn.training` runs it)."""

import dataclasses
import warnings
from pathlib import Path

from astropy.table import Table

from .exceptions import GalzooDeprecationWarning, InputError
from .objectives import get_objective
from .utils._frames import IMAGE_SIZE, MIN_CROP

__all__ = ["CLASS_WEIGHTS", "TrainConfig"]

#: Loss weights of the classes from their training counts ``n``, normalised
#: so that the mean weight over the training rows is 1.  ``None``: unweighted
#: (the paper); ``"inverse_sqrt"``: 1/sqrt(n), a moderate boost of rare classes
#: that keeps the overall accuracy; ``"inverse"``: 1/n, balanced classes.  A multi-label objective
#: weighs each feature's positive and negative labels this way, feature by feature.
CLASS_WEIGHTS = {None: None, "inverse_sqrt": lambda n: n ** -0.5, "inverse": lambda n: 1.0 / n}

#: `TrainConfig` fields whose values may be of more than one kind (checked by their own rules), and
#: those that may be None although their default is not (multi-label objectives have no label column).
_MIXED_KINDS = ("devices", "pretrained")
_MAY_BE_NONE = ("label_column",)

#: Kind of the `TrainConfig` fields that hold containers (checked before a run starts).
_CONTAINER_KINDS = {
    "class_map": (dict, "a mapping of label -> class name, e.g. {E: smooth_round}"),
    "pixel_scale": (dict, "a mapping such as {value: 0.396, unit: arcsec}"),
    "classes": (list, "a list of class names"),
    "label_columns": (list, "a list of column names"),
    "frame_fraction": (list, "a range [low, high] of frame fractions"),
    "k": ((list, tuple), "a range [low, high] of intensity factors"),
    "m": ((list, tuple), "a range [low, high] of shrink factors"),
}

#: Kind and range of the numeric `TrainConfig` fields (checked before a run starts).
_VALUE_RANGES = {
    "test_fraction": (float, lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    "val_fraction": (float, lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    "crop": (float, lambda v: MIN_CROP <= v <= 1, f"a fraction in [{MIN_CROP}, 1]"),
    "lr": (float, lambda v: v > 0, "a positive learning rate"),
    "factor": (float, lambda v: 0 < v < 1, "a factor in (0, 1)"),
    "epochs": (int, lambda v: v >= 1, "a positive integer"),
    "patience": (int, lambda v: v >= 0, "a non-negative integer"),
    "batch_size": (int, lambda v: v >= 1, "a positive integer"),
    "num_workers": (int, lambda v: v >= 0, "a non-negative integer"),
    "decode_size": (int, lambda v: v >= 16, "an integer of at least 16 pixels"),
    "head_hidden": (int, lambda v: v >= 0, "a non-negative width (0: one dense layer)"),
    "frame_r90": (float, lambda v: 0 < v < 1000, "the width of the model's frame in Petrosian R90 (> 0)"),
    "seed": (int, lambda v: v >= 0, "a non-negative integer"),
}


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run needs; `None` fields take the objective's defaults.

    ``table`` is a table file or an in-memory `~astropy.table.Table`;
    ``objective`` names a `galzoo_cnn.objectives` objective (``five_class``,
    ``features``, ``adversarial``); configuration files that still say
    ``task:`` are read with a deprecation warning.

    Examples
    --------
    >>> from galzoo_cnn.training import TrainConfig
    >>> TrainConfig(table="gz1.csv", output="run", objective="five_class").resolved().patience
    4
    """

    table: "str | Table | None" = None
    output: str | None = None
    objective: str = "five_class"
    name: str = "model"
    backbone: str | None = None
    pretrained: bool | str = False
    init_from: str | None = None
    freeze_backbone: bool = False
    view_pooling: str | None = None
    head_hidden: int | None = None
    image_column: str = "filename"
    image_dir: str | None = None
    label_column: str | None = "label"
    label_columns: list | None = None
    classes: list | None = None
    class_map: dict | None = None
    test_fraction: float = 0.2
    val_fraction: float = 0.25
    split_column: str | None = None
    epochs: int | None = None
    lr: float | None = None
    monitor: str | None = None
    patience: int | None = None
    factor: float | None = None
    batch_size: int = 64
    num_workers: int = 0
    adversarial_augmentation: bool = True
    k: tuple = (0.6, 1.0)
    m: tuple = (0.5, 1.0)
    pack_images: bool = False
    crop: float = 1.0
    decode_size: int = IMAGE_SIZE
    frame_fraction: list | None = None
    class_weights: str | None = None
    scheduler: str = "plateau"
    pixel_scale: dict | None = None
    frame_r90: float | None = None
    seed: int = 42
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str | None = None
    description: str = ""

    @classmethod
    def from_file(cls, path):
        """Read a YAML (or JSON) configuration file; relative paths are taken from its directory."""
        import yaml

        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise InputError(f"{str(path)!r} is not valid YAML: {' '.join(str(err).split())}") from None
        values = {} if values is None else values
        if not isinstance(values, dict):
            raise InputError(f"{str(path)!r}: expected a YAML mapping of configuration keys (table: ..., "
                             f"epochs: ...), got a {type(values).__name__}")
        if "task" in values and "objective" not in values:
            warnings.warn(GalzooDeprecationWarning(
                f"{str(path)!r}: the configuration key 'task' is now 'objective'"), stacklevel=2)
            values["objective"] = values.pop("task")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(known), key=str)
        if unknown:
            import difflib

            close = {k: difflib.get_close_matches(str(k), known, n=1) for k in unknown}
            hints = "; ".join(f"{k!r}: did you mean {m[0]!r}?" for k, m in close.items() if m)
            raise InputError(f"{str(path)!r}: unknown configuration keys {unknown}"
                             + (f" ({hints})" if hints else ""))
        for key in ("table", "output", "image_dir"):
            if values.get(key) is not None:
                values[key] = str((path.parent / Path(values[key]).expanduser()).resolve())
        return cls(**values)

    def _check_values(self):
        """Refuse values of the wrong kind or range, naming the key, before any work starts."""
        self._check_kinds()
        from .augment import AdversarialShrink  # torch: the shrink ranges are checked where they are defined
        from .utils._lightning import check_devices

        try:
            AdversarialShrink(k=tuple(self.k), m=tuple(self.m))
            check_devices(self.devices, accelerator=self.accelerator)
        except InputError as err:
            raise InputError(f"training configuration: {err}") from None

    def _check_kinds(self):
        """The kinds and ranges of the values, without torch (the command line checks them first)."""
        for field in dataclasses.fields(self):
            value, default = getattr(self, field.name), field.default
            if default is None or default is dataclasses.MISSING or field.name in _MIXED_KINDS \
                    or (value is None and field.name in _MAY_BE_NONE):
                continue
            kind = bool if isinstance(default, bool) else str if isinstance(default, str) else None
            if value is None or (kind is not None and not isinstance(value, kind)):
                expected = {bool: "true or false", str: "a string"}.get(kind, f"a value like {default!r}")
                raise InputError(f"training configuration: {field.name}={value!r}; expected {expected}")
        for key, (kind, valid, expected) in _VALUE_RANGES.items():
            value = getattr(self, key)
            if value is None:
                continue
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or (kind is int and not float(value).is_integer()) or not valid(value):
                raise InputError(f"training configuration: {key}={value!r}; expected {expected}")
        for key, (kind, expected) in _CONTAINER_KINDS.items():
            value = getattr(self, key)
            if value is not None and not isinstance(value, kind):
                raise InputError(f"training configuration: {key}={value!r}; expected {expected}")
        if self.test_fraction + self.val_fraction >= 1:
            raise InputError(f"training configuration: test_fraction + val_fraction = "
                             f"{self.test_fraction + self.val_fraction:g} leaves no training rows")

    def resolved(self):
        """A copy with the objective's defaults and label columns filled in."""
        missing = [k for k in ("table", "output") if getattr(self, k) is None]
        if missing:
            raise InputError(f"the training configuration needs {' and '.join(missing)}")
        self._check_values()  # kinds first: the checks below compare values
        if not isinstance(self.class_weights, (str, type(None))) or self.class_weights not in CLASS_WEIGHTS:
            raise InputError(f"class_weights={self.class_weights!r}; expected one of {tuple(CLASS_WEIGHTS)}")
        from .models import VIEW_POOLINGS

        if self.view_pooling is not None and self.view_pooling not in VIEW_POOLINGS:
            raise InputError(f"view_pooling={self.view_pooling!r}; expected one of {list(VIEW_POOLINGS)} "
                             f"or null")
        if self.scheduler not in ("plateau", "cosine"):
            raise InputError(f"scheduler={self.scheduler!r}; expected 'plateau' or 'cosine'")
        objective = get_objective(self.objective)
        values = {k: v for k, v in objective.defaults.items() if getattr(self, k) is None}
        values["label_column"], values["label_columns"] = objective.label_columns(self.label_column,
                                                                                  self.label_columns)
        return dataclasses.replace(self, **values)
