# Licensed under a 3-clause BSD style license - see LICENSE
"""
Model objectives: what a classifier is trained to output, as registered classes.

An objective owns everything that depends on what a model predicts: its
head (sized by the backbone's ``num_features``), the loss, the output
activation, the optimiser defaults of Khramtsov et al. (2022), the label
columns training reads, the metrics of a test set and the columns
classification writes.  Training, classification and the catalogues ask
the objective; a new kind of model is one class registered with
`register_objective` (as timm's ``@register_model``).

==================  ================  ==================================================
objective           backbone          head (after global max pooling), output
==================  ================  ==================================================
``five_class``      ``densenet201``   dense 128, LeakyReLU, dense N, softmax (Sect. 3.4)
``features``        ``densenet201``   dense 512, ReLU, dense 34, sigmoid (Sect. 3.5)
``adversarial``     ``resnet101``     dense 128, LeakyReLU, dense 2, softmax (Sect. 3.3)
==================  ================  ==================================================

``five_class`` serves any single-label model: the classes come from the
model card (five for the paper's model, four for ``sample-gz1``).

Examples
--------
>>> from galzoo_cnn.objectives import get_objective, list_objectives
>>> list_objectives()
['adversarial', 'features', 'five_class']
>>> get_objective("features").hidden, get_objective("features").output
(512, 'sigmoid')
"""

import numpy as np

from . import taxonomy
from .calibration import calibration_error
from .columns import FEATURE_PREFIX, FEATURE_PROBABILITY_PREFIX
from .exceptions import InputError
from .utils._metrics import YES_FROM, feature_auc, single_label_scores
from .utils._registry import Registry

# torch is imported inside the methods: the catalogue stages consult objectives (which columns a
# model wrote) without loading torch.

__all__ = ["Objective", "SingleLabel", "MultiLabel", "FiveClass", "DetailedFeatures", "DomainClassifier",
           "register_objective", "get_objective", "list_objectives", "tree_flags", "decided_classes",
           "OBJECTIVES", "DECISIONS"]

#: How a single-label model's ``predicted_class`` is chosen from its probabilities: the class of highest
#: probability (the most accurate rule), or of highest probability times the card's per-class factors
#: (``card['decision']['weights']``, fitted by `~galzoo_cnn.evaluation.balance_model` so that each class is
#: found about as often as the others: rare classes gain recall, the catalogue some accuracy).
DECISIONS = ("most_probable", "balanced")

#: The registered objectives by name (instances).
OBJECTIVES = Registry("objective", make=lambda cls: cls())


def register_objective(cls):
    """Class decorator registering an `Objective` under its ``name``.

    Examples
    --------
    >>> from galzoo_cnn.objectives import OBJECTIVES, SingleLabel, register_objective
    >>> @register_objective
    ... class Morphology3(SingleLabel):
    ...     '''Smooth, disk or artefact.'''
    ...     name = "morphology3"
    ...     default_classes = ("smooth", "disk", "artefact")
    >>> "morphology3" in OBJECTIVES
    True
    >>> del OBJECTIVES["morphology3"]
    """
    return OBJECTIVES.register()(cls)


def get_objective(name):
    """The registered objective ``name`` (an `Objective` is returned unchanged).

    Parameters
    ----------
    name : str or `Objective`
        A registered objective's name.

    Examples
    --------
    >>> from galzoo_cnn.objectives import get_objective
    >>> get_objective("five_class").default_backbone
    'densenet201'
    """
    return name if isinstance(name, Objective) else OBJECTIVES.get(name)


def list_objectives():
    """Names of the registered objectives, sorted.

    Examples
    --------
    >>> from galzoo_cnn.objectives import list_objectives
    >>> "five_class" in list_objectives()
    True
    """
    return OBJECTIVES.names()


class Objective:
    """What a model outputs and how it learns it; subclass `SingleLabel` or `MultiLabel`."""

    #: Registered name (also the ``objective`` of model cards and training configurations).
    name = None
    #: timm backbone used when none is given, and the output names when none are given.
    default_backbone = "densenet201"
    default_classes = ()
    #: The head: width of the hidden dense layer and its activation (timm's ``get_act_layer`` names).
    hidden = 128
    hidden_activation = "leaky_relu"
    #: Output activation: ``softmax`` (one class per image) or ``sigmoid`` (independent outputs).
    output = "softmax"
    #: Optimiser defaults (Adam; ReduceLROnPlateau on ``monitor``), Khramtsov et al. (2022).
    defaults = {"lr": 1e-4, "epochs": 40, "monitor": "val_loss", "patience": 4, "factor": 0.1}
    #: What the outputs are: ``classes``, or ``gz2_answers`` (recorded in a catalogue's provenance as
    #: ``model_outputs``, which chooses the descriptions of its ``prob_`` columns).
    outputs = "classes"
    #: Prefix of the probability columns `~galzoo_cnn.classify.classify_table` adds.
    probability_prefix = "prob_"

    def __repr__(self):
        return f"<objective {self.name!r}: {self.output} over {len(self.default_classes)} outputs>"

    # --- the network ---------------------------------------------------------------------------
    def build_head(self, num_features, n_outputs, hidden=None):
        """Dense ``hidden`` -> activation -> dense ``n_outputs`` on ``num_features`` pooled features
        (``hidden`` 0: one dense layer, a linear model of the features)."""
        from timm.layers import get_act_layer
        from torch import nn

        hidden = self.hidden if hidden is None else hidden
        if hidden == 0:
            return nn.Sequential(nn.Linear(num_features, n_outputs))
        return nn.Sequential(nn.Linear(num_features, hidden), get_act_layer(self.hidden_activation)(),
                             nn.Linear(hidden, n_outputs))

    def card_head(self, hidden=None):
        """The head as the model card records it."""
        hidden = self.hidden if hidden is None else hidden
        return {"hidden": hidden, "activation": self.hidden_activation if hidden else None,
                "output": self.output,
                "pooling": "max"}

    def probabilities(self, logits):
        """Output activation of ``logits`` (a torch tensor)."""
        raise NotImplementedError

    def loss(self, logits, targets, class_weights=None):
        """Training loss of a batch (``class_weights``: `~galzoo_cnn.training.class_weights` of
        `label_counts`)."""
        raise NotImplementedError

    def label_counts(self, targets, n_classes):
        """Training rows per class (NumPy targets), as `~galzoo_cnn.training.class_weights` weights them."""
        raise NotImplementedError

    def validation_metrics(self, logits, targets):
        """Metrics logged each validation step besides ``val_loss`` (name -> tensor)."""
        return {}

    # --- the data ------------------------------------------------------------------------------
    def label_columns(self, label_column, label_columns):
        """``(label_column, label_columns)`` training reads: one class column, or one column per output."""
        raise NotImplementedError

    def evaluate(self, probabilities, targets, classes):
        """Test-set metrics (a JSON-able dict) from probabilities and targets (NumPy arrays)."""
        raise NotImplementedError

    def headline(self, metrics):
        """The one number `galzoo-cnn train` prints for a test set."""
        raise NotImplementedError

    # --- classification outputs ----------------------------------------------------------------
    def output_columns(self, classes):
        """Names of the columns `~galzoo_cnn.classify.classify_table` adds, in order."""
        return [f"{self.probability_prefix}{c}" for c in classes]

    def add_outputs(self, table, classes, probabilities, ok, card, *, decision="most_probable"):
        """Add the output columns to ``table``; rows where ``ok`` is False are masked.  ``decision``
        (`DECISIONS`) chooses a single-label model's ``predicted_class``; other objectives ignore it."""
        from astropy.table import MaskedColumn

        for k, name in enumerate(classes):
            table[f"{self.probability_prefix}{name}"] = MaskedColumn(probabilities[:, k], mask=~ok)
        return table

    def provenance(self, card, *, decision="most_probable"):
        """Entries for a catalogue's ``meta['provenance']`` beyond the model's name and hash."""
        return {"model_outputs": self.outputs}

    def check_decision(self, card, decision):
        """Raise `InputError` before any image is read if ``decision`` (`DECISIONS`) cannot apply to the
        model of ``card``: only a single-label model chooses a class."""
        if decision != "most_probable":
            raise InputError(f"decision={decision!r} chooses one class per image; model {card.name!r} is a "
                             f"multi-label model (flags from thresholds)")


class SingleLabel(Objective):
    """One class per image: softmax and cross-entropy; ``predicted_class`` in the catalogue."""

    output = "softmax"

    def probabilities(self, logits):
        return logits.softmax(dim=1)

    def loss(self, logits, targets, class_weights=None):
        from torch.nn import functional as F

        return F.cross_entropy(logits, targets, weight=class_weights)

    def label_counts(self, targets, n_classes):
        return np.bincount(targets, minlength=n_classes)

    def validation_metrics(self, logits, targets):
        return {"val_acc": (logits.argmax(1) == targets).float().mean()}

    def label_columns(self, label_column, label_columns):
        return label_column, None

    def evaluate(self, probabilities, targets, classes):
        scores = single_label_scores(targets, probabilities.argmax(1), list(range(len(classes))))
        recall = np.nan_to_num(scores["recall"], nan=0.0)  # a class absent from the test rows: 0, as before
        return {"n_test": int(len(targets)), "accuracy": scores["accuracy"],
                "recall": dict(zip(classes, map(float, recall))),
                "confusion_matrix": scores["confusion_matrix"],
                "ece": calibration_error(probabilities, targets)}

    def headline(self, metrics):
        return {"accuracy": metrics.get("accuracy")}

    def output_columns(self, classes):
        return super().output_columns(classes) + ["predicted_class"]

    def check_decision(self, card, decision):
        _decision_factors(card, card.classes, decision)

    def provenance(self, card, *, decision="most_probable"):
        if decision == "most_probable":
            return dict(super().provenance(card), decision="most_probable: the class of highest probability")
        factors = ", ".join(f"{c} {w:.3g}" for c, w in card.decision_weights.items())
        return dict(super().provenance(card),
                    decision=f"balanced: the class of highest probability times its factor ({factors})")

    def add_outputs(self, table, classes, probabilities, ok, card, *, decision="most_probable"):
        from astropy.table import MaskedColumn

        super().add_outputs(table, classes, probabilities, ok, card)
        predicted = np.array(classes)[decided_classes(probabilities, classes, card, decision=decision)]
        table["predicted_class"] = MaskedColumn(np.where(ok, predicted, ""), mask=~ok)
        return table


class MultiLabel(Objective):
    """Independent yes/no outputs: sigmoid and binary cross-entropy over the known labels only;
    ``flag_<name>`` in the catalogue: the probability at or above the card's threshold and, for a GZ2
    answer, the answer leading to its question flagged too where the model has it (`tree_flags`)."""

    output = "sigmoid"
    probability_prefix = FEATURE_PROBABILITY_PREFIX

    def probabilities(self, logits):
        return logits.sigmoid()

    def loss(self, logits, targets, class_weights=None):
        import torch
        from torch.nn import functional as F

        known = ~targets.isnan()  # labels of badly sampled GZ2 tasks are unknown, not negative
        if not known.any():
            return logits.sum() * 0.0
        weight = None
        if class_weights is not None:  # (n_features, 2): each feature's negative and positive weights
            weight = torch.where(targets >= YES_FROM, class_weights[:, 1], class_weights[:, 0])[known]
        return F.binary_cross_entropy_with_logits(logits[known], targets[known], weight=weight)

    def label_counts(self, targets, n_classes):
        """Negative and positive known labels of each feature, ``(n_features, 2)``."""
        known = ~np.isnan(targets)
        positive = (np.nan_to_num(targets) >= YES_FROM) & known
        return np.stack([(known & ~positive).sum(0), positive.sum(0)], axis=1)

    def label_columns(self, label_column, label_columns):
        return None, list(label_columns or [FEATURE_PREFIX + c for c in self.default_classes])

    def evaluate(self, probabilities, targets, classes):
        aucs = {name: feature_auc(targets[:, k], probabilities[:, k]) for k, name in enumerate(classes)}
        return {"roc_auc": {name: auc for name, auc in aucs.items() if np.isfinite(auc)},
                "n_test": int(len(targets))}

    def headline(self, metrics):
        return {"roc_auc": metrics.get("roc_auc")}

    def output_columns(self, classes):
        return super().output_columns(classes) + [f"flag_{c}" for c in classes]

    def add_outputs(self, table, classes, probabilities, ok, card, *, decision="most_probable"):
        from astropy.table import MaskedColumn

        super().add_outputs(table, classes, probabilities, ok, card)
        thresholds = card.thresholds
        above = {name: probabilities[:, k] >= thresholds.get(name, 0.5) for k, name in enumerate(classes)}
        for name, flag in tree_flags(above).items():
            table[f"flag_{name}"] = MaskedColumn(flag, mask=~ok)
        return table

    def provenance(self, card, *, decision="most_probable"):
        return dict(super().provenance(card),
                    thresholds="model card" if card.thresholds else "0.5 (the card has none)")


def decided_classes(probabilities, classes, card, *, decision="most_probable"):
    """Index of the predicted class of each row under ``decision`` (`DECISIONS`).

    ``'balanced'`` multiplies each class's probability by its factor in
    ``card['decision']['weights']`` before taking the highest; the
    probabilities themselves, and so their calibration, are not changed.

    Parameters
    ----------
    probabilities : `numpy.ndarray`
        ``(n, n_classes)`` class probabilities.
    classes : sequence of str
        The model's classes, in its output order.
    card : `~galzoo_cnn.models.ModelCard`
        The model's card.
    decision : {'most_probable', 'balanced'}
        The rule.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.models import ModelCard
    >>> from galzoo_cnn.objectives import decided_classes
    >>> card = ModelCard({"classes": ["common", "rare"],
    ...                   "decision": {"weights": {"common": 1.0, "rare": 2.0}}})
    >>> p = np.array([[0.6, 0.4], [0.8, 0.2]])
    >>> decided_classes(p, card.classes, card).tolist()
    [0, 0]
    >>> decided_classes(p, card.classes, card, decision="balanced").tolist()
    [1, 0]
    """
    factors = _decision_factors(card, classes, decision)
    return (probabilities if factors is None else probabilities * factors).argmax(1)


def _decision_factors(card, classes, decision):
    """None for ``'most_probable'``, the card's factors in the order of ``classes`` for ``'balanced'``;
    `InputError` for another rule or a card without factors."""
    if decision not in DECISIONS:
        raise InputError(f"decision={decision!r}; expected one of {list(DECISIONS)}")
    if decision == "most_probable":
        return None
    weights = card.decision_weights
    if not weights:
        raise InputError(f"decision='balanced': model {card.name!r} has no fitted class factors "
                         f"(card['decision']; fit them with galzoo_cnn.evaluation.balance_model)")
    return np.array([weights[c] for c in classes])


def tree_flags(above):
    """Flags that follow the GZ2 decision tree: an answer is flagged where its probability reaches its
    threshold and the answer that leads to its question (`~galzoo_cnn.taxonomy.Task.requires`) is
    flagged, where that answer is among ``above``'s keys: volunteers see "Is the odd feature a ring...?"
    only after answering "yes" to "Is there anything odd?", and a model's ``ring`` means nothing for a
    galaxy it finds nothing odd in.

    Parameters
    ----------
    above : dict
        Feature name -> boolean array: where its probability reaches its
        threshold.

    Returns
    -------
    dict
        Feature name -> boolean array of flags, in the order of ``above``.

    Examples
    --------
    >>> import numpy as np
    >>> from galzoo_cnn.objectives import tree_flags
    >>> flags = tree_flags({"odd_yes": np.array([True, False]), "ring": np.array([True, True]),
    ...                     "bar": np.array([True, False])})
    >>> {name: flag.tolist() for name, flag in flags.items()}
    {'odd_yes': [True, False], 'ring': [True, False], 'bar': [True, False]}
    """
    flags = {}

    def resolve(name):
        if name not in flags:
            try:
                parent = taxonomy.task(taxonomy.answer(name).task).requires
            except KeyError:  # not a GZ2 answer: its own threshold only
                parent = None
            flags[name] = above[name] & resolve(parent) if parent in above else above[name]
        return flags[name]

    for name in above:
        resolve(name)
    return {name: flags[name] for name in above}


@register_objective
class FiveClass(SingleLabel):
    """The five GZ2 classes (Khramtsov et al. 2022, Sect. 3.4), or any single-label classes."""

    name = "five_class"
    default_classes = taxonomy.FIVE_CLASSES


@register_objective
class DetailedFeatures(MultiLabel):
    """The 34 detailed GZ2 features (Khramtsov et al. 2022, Sect. 3.5)."""

    name = "features"
    default_classes = taxonomy.DETAILED_FEATURES
    hidden, hidden_activation = 512, "relu"
    outputs = "gz2_answers"


@register_objective
class DomainClassifier(SingleLabel):
    """Training vs inference sample, for adversarial validation (Khramtsov et al. 2022, Sect. 3.3)."""

    name = "adversarial"
    default_backbone = "resnet101"
    default_classes = ("inference", "training")
    defaults = {"lr": 5e-3, "epochs": 12, "monitor": "val_acc", "patience": 3, "factor": 0.1}
