# Licensed under a 3-clause BSD style license - see LICENSE
"""
CNN classifiers: a timm backbone with global max pooling and the head of an objective.

The head, loss and outputs of each kind of model belong to its objective
(`galzoo_cnn.objectives`: ``five_class``, ``features``, ``adversarial``).
Models are saved as safetensors weights plus a JSON model card and loaded
without unpickling anything.

Examples
--------
>>> from galzoo_cnn.models import build_model
>>> model = build_model(objective="five_class", backbone="test_resnet")
>>> model.classes
('completely_round', 'rounded_in_between', 'cigar_shaped', 'edge_on', 'spiral')
"""

from pathlib import Path

import timm
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from .exceptions import GalzooError, InputError
from .images import IMAGE_SIZE
from .objectives import get_objective
from .tables import atomic_write, file_sha256
from .utils._cards import ModelCard, card_path, model_names
from .utils._deprecation import keyword_options
from .utils._json import dumps as strict_json
from .utils._timm import require_backbone

__all__ = ["GalaxyClassifier", "ModelCard", "build_model", "derived_model", "save_model", "load_model",
           "available_models", "models_table", "dihedral_views", "PAPER_BACKBONES", "VIEW_POOLINGS"]

#: The eleven backbones compared in the paper, as timm names.
PAPER_BACKBONES = ("resnet50", "resnet101", "resnet152", "inception_v3", "inception_resnet_v2",
                   "densenet121", "densenet169", "densenet201", "nasnetalarge", "vgg16",
                   "legacy_xception")


def dihedral_views(images):
    """The eight views of ``(B, C, H, W)`` images under rotations by 90 degrees and flips: a galaxy has
    no up, so each view is an equally valid image of it (test-time augmentation, `VIEW_POOLINGS`).

    Parameters
    ----------
    images : `torch.Tensor`
        A batch ``(B, C, H, W)``.

    Returns
    -------
    list of `torch.Tensor`
        The four rotations, then the same mirrored.

    Examples
    --------
    >>> import torch
    >>> from galzoo_cnn.models import dihedral_views
    >>> views = dihedral_views(torch.arange(4.).reshape(1, 1, 2, 2))
    >>> len(views), len({tuple(v.flatten().tolist()) for v in views})
    (8, 8)
    """
    turns = [torch.rot90(images, k, dims=(-2, -1)) for k in range(4)]
    return turns + [torch.flip(view, dims=(-1,)) for view in turns]


#: How a model may pool the views of a galaxy before its head (``card['head']['view_pooling']``).
VIEW_POOLINGS = {
    "dihedral": "pooled backbone features averaged over the eight views of the image under 90-degree "
                "rotations and flips (as Dieleman et al. 2015 combined rotated views): the head reads "
                "features that do not depend on the galaxy's orientation on the sky",
}


class GalaxyClassifier(nn.Module):
    """A backbone, global max pooling and the dense head of an objective.

    ``forward`` takes preprocessed ``(B, 3, 100, 100)`` tensors (Eq. 1) and
    returns logits; `predict_proba` applies the objective's softmax or
    sigmoid.

    Attributes
    ----------
    objective : `~galzoo_cnn.objectives.Objective`
        What the model outputs (head, loss, output columns).
    classes : tuple of str
        Output names in order (classes, or features for ``features``).
    card : `ModelCard`
        The model card (see `save_model`): a dict with one property per derived fact.
    num_features : int
        Width of the pooled features the head reads.
    """

    def __init__(self, objective, classes, backbone, pretrained=False, card=None, *, view_pooling=None,
                 head_hidden=None):
        super().__init__()
        self.objective = get_objective(objective)
        self.classes = tuple(classes)
        self.backbone = _create_backbone(backbone, pretrained)
        # the width of what forward() returns: models with a layer after the pooling (MobileNetV3's
        # conv_head, VGG's pre-logits) report it as head_hidden_size
        self.num_features = getattr(self.backbone, "head_hidden_size", None) or self.backbone.num_features
        card = ModelCard(card or {})
        head_hidden = card.head.get("hidden") if head_hidden is None else head_hidden
        self.head = self.objective.build_head(self.num_features, len(self.classes), head_hidden)
        self.view_pooling = view_pooling or card.view_pooling
        if self.view_pooling not in (None, *VIEW_POOLINGS):
            raise InputError(f"view_pooling={self.view_pooling!r}; expected None or one of "
                             f"{list(VIEW_POOLINGS)}")
        head = self.objective.card_head(head_hidden)
        if self.view_pooling:
            head["view_pooling"] = self.view_pooling
        self.card = ModelCard(card, objective=self.objective.name, classes=list(self.classes),
                              backbone=backbone, head=head,
                              input=card.input or {"size": IMAGE_SIZE, "channels": "gri RGB", "crop": 1.0,
                                                   "scaling": "(I - 127.5) / 255 (Eq. 1)"})

    def forward(self, images):
        """Logits for preprocessed ``(B, 3, 100, 100)`` images."""
        return self.head(self.pooled_features(images))

    def pooled_features(self, images):
        """What the head reads: the backbone's pooled features, averaged over the dihedral views of
        each image if the model pools views (`VIEW_POOLINGS`); differentiable (`embed` is not)."""
        if self.view_pooling is None:
            return self.backbone(images)
        views = dihedral_views(images)
        if self.training:  # BatchNorm's batch statistics are taken over all the views together
            return self.backbone(torch.cat(views)).reshape(len(views), len(images), -1).mean(0)
        # in evaluation each image's features are its own: one forward per view keeps each forward the
        # batch's size (eight batches in one forward outgrow a CPU's caches, benchmarks/bench_classify.py)
        return torch.stack([self.backbone(view) for view in views]).mean(0)

    @torch.no_grad()
    def predict_proba(self, images):
        """Class probabilities (softmax) or feature probabilities (sigmoid), as the objective says.

        Examples
        --------
        >>> import torch
        >>> from galzoo_cnn.models import build_model
        >>> model = build_model(objective="five_class", backbone="test_resnet").eval()
        >>> p = model.predict_proba(torch.zeros(2, 3, 100, 100))
        >>> p.shape, bool(torch.allclose(p.sum(1), torch.ones(2)))
        (torch.Size([2, 5]), True)
        """
        return self.objective.probabilities(self(images) / self.temperature)

    @property
    def temperature(self):
        """The card's calibration temperature (``card['calibration']['temperature']``; 1: none).

        `predict_proba` divides the logits by it (temperature scaling, Guo et
        al. 2017): the class of highest probability is unchanged, the
        probabilities match the observed frequencies better
        (`galzoo_cnn.calibration`).

        Examples
        --------
        >>> from galzoo_cnn.models import load_model
        >>> load_model("sample-gz2").temperature      # fitted on its validation rows
        0.97
        """
        return self.card.temperature

    @property
    def frame_r90(self):
        """Width of the frame the model reads, in Petrosian radii R90 (r band), or `None`.

        ``card['input']['frame_r90']``; cards that give the scale of one
        input pixel in R90 (``input['pixel_scale']``, unit ``R90``) imply it
        as ``per_pixel * size``.  `~galzoo_cnn.classify_table` reframes
        each row's image to it when the table gives the cutout's field of
        view and the galaxy's radius.

        Examples
        --------
        >>> from galzoo_cnn.models import load_model
        >>> load_model("sample-gz2").frame_r90
        6.0
        """
        return self.card.frame_r90

    @torch.no_grad()
    def embed(self, images):
        """The pooled backbone features the head reads, ``(B, num_features)``: the model's view of
        each galaxy, used by `galzoo_cnn.similarity` (paper Sect. 6, Figs. 5 and 8).

        Examples
        --------
        >>> import torch
        >>> from galzoo_cnn.models import build_model
        >>> model = build_model(objective="five_class", backbone="test_resnet").eval()
        >>> model.embed(torch.zeros(2, 3, 100, 100)).shape[1] == model.num_features
        True
        """
        return self.pooled_features(images)


def _create_backbone(name, pretrained):
    require_backbone(name)
    options = {}
    if isinstance(pretrained, (str, Path)):  # local weights, e.g. downloaded once elsewhere
        if not Path(pretrained).is_file():
            raise FileNotFoundError(f"pretrained weights file {str(pretrained)!r} does not exist")
        options["pretrained_cfg_overlay"] = {"file": str(pretrained)}
    return timm.create_model(name, pretrained=bool(pretrained), num_classes=0, global_pool="max", **options)


@keyword_options
def build_model(objective="five_class", backbone=None, classes=None, pretrained=False, *, view_pooling=None,
                head_hidden=None):
    """A new, untrained classifier.

    Parameters
    ----------
    objective : str or `~galzoo_cnn.objectives.Objective`
        What the model outputs (`galzoo_cnn.objectives.list_objectives`).
    backbone : str, optional
        Any timm model name; default is the objective's (``densenet201``, or
        ``resnet101`` for ``adversarial``).
    classes : sequence of str, optional
        Output names; default is the objective's (the five classes, the 34
        features, or ``('inference', 'training')``).
    pretrained : bool or str
        `True` loads timm's pretrained weights from the hub (needs network);
        a path loads them from a local file.
    view_pooling : {None, 'dihedral'}
        Average the pooled features over the eight dihedral views of each
        image before the head (`VIEW_POOLINGS`); eight backbone passes per
        image.
    head_hidden : int, optional
        Width of the head's hidden layer (default: the objective's, e.g.
        the paper's 512 for ``features``); 0 makes the head one dense layer.

    Examples
    --------
    >>> from galzoo_cnn.models import build_model
    >>> model = build_model(objective="features", backbone="test_efficientnet")
    >>> len(model.classes), model.head[0].in_features == model.num_features, model.head[0].out_features
    (34, True, 512)
    """
    objective = get_objective(objective)
    return GalaxyClassifier(objective, classes or objective.default_classes,
                            backbone or objective.default_backbone, pretrained, view_pooling=view_pooling,
                            head_hidden=head_hidden)


def derived_model(model, **card):
    """A new model with ``model``'s weights and its card changed by ``card``.

    For a model read another way than it was trained (e.g. ``head`` with
    ``view_pooling: dihedral``, another ``input`` crop): the card loses the
    weights file and SHA-256 of the source, which belong to a saved file, and
    an entry given as `None` is removed (e.g. ``calibration=None``, a
    temperature fitted to the source's outputs).

    Parameters
    ----------
    model : `GalaxyClassifier`
        The source model.
    **card
        Model-card entries to set, or to remove where `None`.

    Returns
    -------
    `GalaxyClassifier`
        In evaluation mode; `save_model` gives it a weights file of its own.

    Examples
    --------
    >>> from galzoo_cnn.models import build_model, derived_model
    >>> model = build_model(backbone="test_resnet")
    >>> pooled = derived_model(model, head=dict(model.card["head"], view_pooling="dihedral"))
    >>> model.view_pooling, pooled.view_pooling
    (None, 'dihedral')
    """
    changed = {k: v for k, v in model.card.items() if k not in ("weights", "weights_sha256")}
    changed.update(card)
    changed = {k: v for k, v in changed.items() if v is not None}
    derived = GalaxyClassifier(model.objective.name, model.classes, model.card.backbone, card=changed)
    derived.load_state_dict(model.state_dict())
    return derived.eval()


def save_model(model, path, **card):
    """Save weights as ``<path>.safetensors`` and the model card as ``<path>.json``.

    The card holds the objective, classes, backbone, head, input and scaling, the
    package version, the SHA-256 of the weights file and whatever is passed
    in ``card`` (training data summary, metrics, seed...).  Both files are
    written atomically; weights are stored in float32.

    Parameters
    ----------
    model : `GalaxyClassifier`
        The model.
    path : str or `~pathlib.Path`
        Basename of the two files.
    **card
        More model-card entries (metrics, training data, seed...).

    Returns
    -------
    `~pathlib.Path`
        The card's path.

    Examples
    --------
    >>> import tempfile
    >>> from galzoo_cnn.models import build_model, load_model, save_model
    >>> path = save_model(build_model(backbone="test_resnet"), tempfile.mkdtemp() + "/tiny",
    ...                   name="tiny")
    >>> load_model(path).card["name"]
    'tiny'
    """
    from . import __version__

    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights = stem.with_name(stem.name + ".safetensors")
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    atomic_write(weights, lambda tmp: save_file(tensors, tmp, metadata={"format": "pt"}))
    full_card = ModelCard(model.card, **card, package_version=__version__, weights=weights.name,
                          weights_sha256=file_sha256(weights))
    card_path = stem.with_name(stem.name + ".json")
    atomic_write(card_path, lambda tmp: Path(tmp).write_text(strict_json(full_card, indent=2) + "\n"))
    model.card = full_card
    return card_path


def available_models():
    """Names of the models that `load_model` finds by name: bundled, then user directories.

    Examples
    --------
    >>> from galzoo_cnn.models import available_models
    >>> "sample-gz1" in available_models()
    True
    """
    return model_names()


def _mean(values):
    return sum(values) / len(values) if values else float("nan")


@keyword_options
def models_table(names=None):
    """One row per model with what its card says: classes, data, scale, metrics.

    Parameters
    ----------
    names : sequence of str, optional
        Models by name or card path; default: `available_models`.

    Returns
    -------
    `~astropy.table.Table`
        ``name``, ``objective``, ``classes``, ``backbone``, ``weights_MB``,
        ``input`` (size, crop and angular scale), ``trained_on``,
        ``test_accuracy`` (own held-out split), ``other_sources`` (grouped
        smooth / edge-on / spiral accuracy on other image sources, when the
        card has them).

    Examples
    --------
    >>> from galzoo_cnn.models import models_table
    >>> models_table(names=["sample-gz1"])["name", "backbone", "test_accuracy"].pprint()
       name            backbone        test_accuracy
    ---------- --------------------- -------------
    sample-gz1 mobilenetv3_small_100         0.844
    """
    from astropy.table import Table

    rows = []
    for name in available_models() if names is None else names:
        path = card_path(name)
        card = ModelCard.read(path)
        metrics = card.get("metrics", {})
        scale = card.pixel_scale
        scale_text = (f", {scale['per_pixel']:g} {scale['unit']}/px" if scale else "") + (
            f" (trained {scale['trained_range'][0]:g}-{scale['trained_range'][1]:g})"
            if scale and scale.get("trained_range") else "")
        others = metrics.get("other_sources", {})
        aucs = card.test_metrics.get("roc_auc") or {}
        rows.append({
            "name": card.get("name", path.stem), "objective": card.objective,
            "classes": ", ".join(card.classes), "backbone": card.backbone,
            "weights_MB": round(path.with_name(card["weights"]).stat().st_size / 2**20, 1),
            "input": f"{card.input_size} px, crop {card.crop:g}{scale_text}",
            "trained_on": str(card.training.get("table", "")).split(" (")[0],
            "test_accuracy": round(card.test_metrics.get("accuracy", float("nan")), 3),
            "test_mean_roc_auc": round(_mean([v for v in aucs.values() if v is not None]), 3),
            "other_sources": "; ".join(f"{k} {v['grouped_accuracy']:.3f}" for k, v in others.items()),
        })
    return Table(rows=rows, names=list(rows[0]) if rows else ["name"])


@keyword_options
def load_model(name_or_path, device="cpu"):
    """Load a bundled model by name, or a saved model from its path.

    Reads the JSON card, builds the architecture (no download), checks the
    weights' SHA-256 and loads them with safetensors: nothing is unpickled.

    Parameters
    ----------
    name_or_path : str or `~pathlib.Path`
        A model name (`available_models`) or the path of a model card.
    device : str or `torch.device`
        Where to put the model.

    Returns
    -------
    `GalaxyClassifier`
        In evaluation mode, with ``.classes`` and ``.card``.

    Examples
    --------
    >>> from galzoo_cnn.models import load_model
    >>> load_model("no-such-model")
    Traceback (most recent call last):
    ...
    galzoo_cnn.exceptions.InputError: no model 'no-such-model': ...
    """
    path = card_path(name_or_path)
    card = ModelCard.read(path)
    weights = path.with_name(card["weights"])
    if not weights.is_file():
        raise FileNotFoundError(f"weights {str(weights)!r} of model card {str(path)!r} are missing")
    if file_sha256(weights) != card.weights_sha256:
        raise InputError(f"weights {str(weights)!r} do not match the SHA-256 in {str(path)!r}: "
                         f"the file is corrupt or was replaced")
    try:
        model = GalaxyClassifier(card.objective, card.classes, card.backbone, card=card)
    except (RuntimeError, KeyError, GalzooError) as err:  # timm: unknown backbone; an unknown objective
        raise InputError(f"model card {str(path)!r}: {err}") from None
    try:
        with safe_open(weights, framework="pt") as stored:  # shapes from the header, no tensor read yet
            found = {k: tuple(stored.get_slice(k).get_shape()) for k in stored.keys()}
    except Exception as err:  # SafetensorError (not importable by name) on a file of another format
        raise InputError(f"weights {str(weights)!r} of model card {str(path)!r} are not a safetensors file "
                         f"({' '.join(str(err).split())})") from None
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if found != expected:  # say how the card and the weights disagree, not torch's size mismatch
        wrong = sorted(k for k in expected.keys() & found.keys() if expected[k] != found[k])
        detail = (f"{wrong[0]} is {found[wrong[0]]} in the weights, {expected[wrong[0]]} for the card's "
                  f"{card.backbone} with {len(card.classes)} outputs" if wrong else
                  f"{len(expected.keys() - found.keys())} tensor(s) missing, "
                  f"{len(found.keys() - expected.keys())} unexpected")
        raise InputError(f"model card {str(path)!r} does not match its weights {str(weights)!r}: "
                         f"{detail}")
    state = load_file(weights, device="cpu")
    model.load_state_dict(state)
    return model.to(device).eval()
