# Licensed under a 3-clause BSD style license - see LICENSE
"""Model cards as files: where they are, reading one, and the facts every stage derives from it.

Below the stages (no torch, no timm): `galzoo_cnn.cutouts` frames its cutouts
from the default model's card, `galzoo_cnn.models` loads models from them.
"""

import json
import math
import re
from importlib.resources import files
from pathlib import Path

from ..exceptions import InputError

#: Keys every model card has (the rest are optional documentation).
CARD_KEYS = ("objective", "backbone", "classes", "input", "weights", "weights_sha256")


def model_dirs():
    """The bundled model directory, then the user's (`galzoo_cnn.config.conf.model_dirs`)."""
    from ..config import conf

    return [Path(str(files("galzoo_cnn") / "data" / "models"))] + [Path(d).expanduser()
                                                                  for d in conf.model_dirs]


def model_names():
    """Names of the models found by name: bundled, then user directories."""
    names = []
    for directory in model_dirs():
        if directory.is_dir():
            names += [p.stem for p in sorted(directory.glob("*.json")) if p.stem not in names]
    return names


def card_path(name_or_path):
    """The card file of a model name or of a card / weights path."""
    if not str(name_or_path).strip():
        raise InputError(f"the model name is empty; give a model name ({model_names()}) or a card's path")
    path = Path(str(name_or_path)).expanduser()
    if not path.name or path.name in (".", ".."):
        raise InputError(f"model {str(name_or_path)!r} is a directory, not a model name or a card's path")
    if path.suffix in (".json", ".safetensors"):
        path = path.with_suffix(".json")
    elif not path.name.endswith(".json"):
        path = path.with_name(path.name + ".json")
    if path.is_file():
        return path
    for directory in model_dirs():
        if (directory / f"{name_or_path}.json").is_file():
            return directory / f"{name_or_path}.json"
    raise InputError(f"no model {str(name_or_path)!r}: not a known model ({model_names()}) "
                     f"and no model card at {str(path)!r}")


def read_card(path):
    """The JSON model card at ``path`` as a validated `ModelCard` (see `ModelCard.read`)."""
    return ModelCard.read(path)


def update_card_file(name_or_path, change):
    """Apply ``change`` (a function editing the card's dict in place) to a model's card file.

    The card is rewritten as strict JSON (`galzoo_cnn.utils._json.dumps`)
    through a temporary file, so an interrupted update leaves the old card.
    The scripts that measure a model and write their figures into its card
    use it.

    Parameters
    ----------
    name_or_path : str or path
        A model name or a card's path (`card_path`).
    change : callable
        Called with the card's dict; edits it in place.

    Returns
    -------
    `~pathlib.Path`
        The card file.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from galzoo_cnn.utils._cards import update_card_file
    >>> path = Path(tempfile.mkdtemp()) / "m.json"
    >>> _ = path.write_text('{"metrics": {}}')
    >>> _ = update_card_file(path, lambda card: card["metrics"].update(auc=float("nan")))
    >>> json.loads(path.read_text())
    {'metrics': {'auc': None}}
    """
    import os
    import tempfile

    from ._files import current_umask
    from ._json import dumps

    path = card_path(name_or_path)
    card = json.loads(path.read_text())
    change(card)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(dumps(card, indent=2) + "\n")
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp's 0600 would hide the card from others
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


#: The card entries that name files of the training run (`portable_run_paths`).
RUN_PATHS = {"training": ("table",), "config": ("table", "output", "image_dir")}


def portable_run_paths(card, roots):
    """The card's `RUN_PATHS` sections with each absolute path made relative to the first of ``roots``
    holding it, for a card that travels (a bundled model's names no file of the machine that made it).

    A note after the path (``"file (what it is)"``) is kept; other paths are left as they are.

    Parameters
    ----------
    card : dict
        A model card.
    roots : list of `~pathlib.Path`
        Absolute folders, e.g. the data folder and the folder the runs were made from.

    Returns
    -------
    dict
        ``{section: entries}``, to give to `~galzoo_cnn.models.derived_model` or `update_card_file`.

    Examples
    --------
    >>> from pathlib import Path
    >>> card = {"config": {"table": "/data/gz/votes.csv", "output": "/home/me/runs/a"}}
    >>> portable_run_paths(card, [Path("/data"), Path("/home/me")])["config"]
    {'table': 'gz/votes.csv', 'output': 'runs/a'}
    """
    sections = {}
    for section, keys in RUN_PATHS.items():
        entries = dict(card.get(section) or {})
        for key in keys:
            value = entries.get(key)
            path = value.split(" (")[0] if isinstance(value, str) else ""
            root = next((r for r in roots if Path(path).is_absolute() and Path(path).is_relative_to(r)), None)
            if root is not None:
                entries[key] = Path(path).relative_to(root).as_posix() + value[len(path):]
        sections[section] = entries
    return sections


class ModelCard(dict):
    """A model card: the JSON mapping saved beside a model's weights, with one property per fact
    that code derives from it.

    A `dict` (so it is written back as JSON unchanged); cards written by
    earlier versions are converted here and only here. Properties never
    raise on a card being built for a new model: a missing fact reads as
    its default.

    Examples
    --------
    >>> from galzoo_cnn.models import ModelCard
    >>> card = ModelCard({"task": "five_class", "backbone": "test_resnet", "classes": ["a", "b"],
    ...                   "input": {"size": 100, "pixel_scale": {"unit": "R90", "per_pixel": 0.06}}})
    >>> card.objective, card.name, card.crop, card.frame_r90, card.temperature
    ('five_class', 'test_resnet', 1.0, 6.0, 1.0)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "objective" not in self and "task" in self:  # cards written before 0.1
            self["objective"] = self.pop("task")
        self.pop("task", None)

    @classmethod
    def read(cls, path):
        """The card at ``path``, checked for every key and value `~galzoo_cnn.models.load_model`
        and the prediction path rely on (`InputError` naming the file and the key)."""
        path = Path(path)
        try:
            card = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"model card {str(path)!r} is not valid JSON: {err}") from None
        if not isinstance(card, dict):
            raise InputError(f"model card {str(path)!r} is not a JSON object")
        card = cls(card)
        missing = [k for k in CARD_KEYS if k not in card]
        if missing:
            raise InputError(f"model card {str(path)!r} lacks the key(s) {', '.join(missing)}")
        if not isinstance(card["input"], dict) or "size" not in card["input"]:
            raise InputError(f"model card {str(path)!r}: 'input' must give the image 'size'")
        for where, value, valid, expected in _card_checks(card):
            if not valid(value):
                raise InputError(f"model card {str(path)!r}: {where} is {value!r}; expected {expected}")
        return card

    @property
    def name(self):
        """The model's name; its backbone's for a model never named."""
        return self.get("name") or self.get("backbone")

    @property
    def objective(self):
        """Name of the objective (`galzoo_cnn.objectives`)."""
        return self.get("objective")

    @property
    def backbone(self):
        """Name of the timm backbone."""
        return self.get("backbone")

    @property
    def classes(self):
        """Output names in order, as a tuple."""
        return tuple(self.get("classes") or ())

    @property
    def input(self):
        """The ``input`` section (size, crop, frame); empty for a card being built."""
        return self.get("input") or {}

    @property
    def input_size(self):
        """Side of the square input image, in pixels."""
        return int(self.input["size"])

    @property
    def crop(self):
        """Central fraction of a bare image the model reads (1: the whole frame)."""
        return float(self.input.get("crop", 1.0))

    @property
    def frame_r90(self):
        """Width of the frame a model reads, in Petrosian radii R90, or None.

        ``input['frame_r90']``; older cards that give the scale of one
        input pixel in R90 (``input['pixel_scale']``, unit ``R90``) imply it
        as ``per_pixel * size``.
        """
        if self.input.get("frame_r90") is not None:
            return float(self.input["frame_r90"])
        scale = self.input.get("pixel_scale") or {}
        if scale.get("unit") == "R90" and scale.get("per_pixel"):
            return round(float(scale["per_pixel"]) * int(self.input["size"]), 6)
        return None

    @property
    def frame_range_r90(self):
        """Frame widths (R90) the model was measured to hold on, ``(low, high)``, or None."""
        frame_range = self.input.get("frame_range_r90")
        return tuple(float(v) for v in frame_range) if frame_range else None

    @property
    def pixel_scale(self):
        """The angular scale of one input pixel (``{'unit', 'per_pixel', ...}``), or None."""
        return self.input.get("pixel_scale")

    @property
    def head(self):
        """The ``head`` section (hidden width, pooling, view pooling)."""
        return self.get("head") or {}

    @property
    def view_pooling(self):
        """How views of a galaxy are pooled before the head (None: one view)."""
        return self.head.get("view_pooling")

    @property
    def temperature(self):
        """The calibration temperature dividing the logits (1: none)."""
        return float((self.get("calibration") or {}).get("temperature", 1.0))

    @property
    def decision_weights(self):
        """Per-class factors of the ``'balanced'`` decision (``card['decision']['weights']``; empty:
        none fitted): the predicted class is the one of highest probability times its factor."""
        return dict((self.get("decision") or {}).get("weights") or {})

    @property
    def thresholds(self):
        """Per-feature decision thresholds of a multi-label model (empty: 0.5 for all)."""
        return dict(self.get("thresholds") or {})

    @property
    def weights_sha256(self):
        """SHA-256 of the weights file; ``'unsaved'`` for a model never saved."""
        return self.get("weights_sha256", "unsaved")

    @property
    def references(self):
        """Bibliographic references of the model (ADS bibcodes or DOIs)."""
        return list(self.get("references") or [])

    @property
    def test_metrics(self):
        """The metrics measured on the test split when it was trained (empty: none)."""
        return dict((self.get("metrics") or {}).get("test") or {})

    @property
    def training(self):
        """The ``training`` section (table, rows, augmentation, epochs run)."""
        return self.get("training") or {}


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _card_checks(card):
    """``(where, value, valid, expected)`` for each value of a card that code relies on."""
    card_input = card["input"]
    yield ("'weights'", card["weights"],
           lambda v: isinstance(v, str) and v.endswith(".safetensors") and Path(v).name == v
           and v not in (".safetensors",) and "\\" not in v,
           "the name of a .safetensors file beside the card (no directory part)")
    yield ("'weights_sha256'", card["weights_sha256"],
           lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) is not None,
           "64 lower-case hex digits")
    yield ("'classes'", card["classes"],
           lambda v: isinstance(v, list) and len(v) > 0 and all(isinstance(c, str) and c for c in v)
           and len(set(v)) == len(v), "a list of distinct non-empty class names")
    yield ("'backbone'", card["backbone"], lambda v: isinstance(v, str) and v != "", "a timm model name")
    yield ("'objective'", card["objective"], lambda v: isinstance(v, str) and v != "", "an objective name")
    yield ("input 'size'", card_input["size"],
           lambda v: isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4096,
           "an integer number of pixels in [8, 4096]")
    for key, low, high in (("crop", 0.0, 2.0), ("frame_r90", 0.0, 1000.0)):
        if card_input.get(key) is not None:
            yield (f"input {key!r}", card_input[key], lambda v, lo=low, hi=high: _number(v) and lo < v <= hi,
                   f"a number in ({low:g}, {high:g}]")
    calibration = card.get("calibration")
    if calibration is not None:
        yield ("'calibration'", calibration, lambda v: isinstance(v, dict), "a mapping")
        if isinstance(calibration, dict) and calibration.get("temperature") is not None:
            yield ("calibration 'temperature'", calibration["temperature"], lambda v: _number(v) and v > 0,
                   "a positive number")
    decision = card.get("decision")
    if decision is not None:
        yield ("'decision'", decision, lambda v: isinstance(v, dict) and isinstance(v.get("weights"), dict),
               "a mapping with 'weights'")
        if isinstance(decision, dict) and isinstance(decision.get("weights"), dict):
            yield ("decision 'weights'", decision["weights"],
                   lambda v: set(v) == set(card["classes"]) and all(_number(w) and w > 0 for w in v.values()),
                   "a positive number for each of the card's classes")


def default_frame_r90():
    """The frame of the default model (`galzoo_cnn.config.conf.default_model`), in R90, or None."""
    from ..config import conf

    return ModelCard.read(card_path(conf.default_model)).frame_r90
