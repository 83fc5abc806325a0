# Licensed under a 3-clause BSD style license - see LICENSE
"""The package's shape: stages import only what comes before them; a new objective is one class."""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

import galzoo_cnn

#: Modules from the bottom up: shared facts and helpers first, then the pipeline's stages in the
#: order data flows through them.  A module may import only modules before it (or its own package).
LAYERS = ["exceptions", "config", "utils", "tables", "taxonomy", "columns", "calibration", "objectives", "io",
          "datasets", "samples", "labels", "cutouts", "images", "augment", "models", "_inference", "_runs",
          "_train_config", "training", "adversarial", "classify", "similarity", "evaluation", "comparison",
          "catalog", "plots", "report", "demo", "cli", "__main__"]

ROOT = Path(galzoo_cnn.__file__).parent


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in ("tests", "conftest") or parts == ("__init__",):
            continue
        yield parts, path


def _imports(parts, path):
    """The package modules ``path`` imports (first component below galzoo_cnn), anywhere in it."""
    package = list(parts[:-1]) if parts[-1] != "__init__" else list(parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                target = (base + name.split("."))[:1] if (base or name) else []
                if target and target[0] != "__version__":
                    yield target[0]
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
            for name in ([node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]):
                if name and name.startswith("galzoo_cnn."):
                    yield name.split(".")[1]


#: The longest a module may grow: past it, a module holds more than one concern (split it by concern,
#: as cutouts/ and taxonomy/ are).
MAX_MODULE_LINES = 800


def test_no_module_is_over_800_lines():
    """Every module of the package, its tests included."""
    lengths = {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in ROOT.rglob("*.py")}
    assert len(lengths) > 40
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_every_module_has_a_layer():
    assert {parts[0] for parts, _ in _modules()} == set(LAYERS)


def test_no_stage_imports_a_later_one():
    edges = []
    for parts, path in _modules():
        layer = LAYERS.index(parts[0])
        for target in _imports(parts, path):
            if target != parts[0] and LAYERS.index(target) > layer:
                edges.append(f"{'.'.join(parts)} imports {target}")
    assert not edges, "imports against the stage order:\n" + "\n".join(edges)


def _top_level_imports(parts, path):
    """The package modules (dotted, below galzoo_cnn) that ``path`` imports when it is imported: the
    imports in its body, not those inside functions."""
    package = list(parts[:-1])
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)]
            stem = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                module = ".".join(stem + [alias.name])
                yield module if module in _MODULE_NAMES else ".".join(stem)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("galzoo_cnn."):
            yield node.module.removeprefix("galzoo_cnn.")


_MODULE_NAMES = {".".join(p[:-1] if p[-1] == "__init__" else p) for p, _ in _modules()}


def test_no_import_cycle():
    """Importing any module never imports it back (the catalogue formats import the registry's own
    module, not the package that imports them)."""
    graph = {}
    for parts, path in _modules():
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {t for t in _top_level_imports(parts, path) if t in _MODULE_NAMES and t != name}
    cycles = []

    def visit(name, trail):
        for target in sorted(graph.get(name, ())):
            if target in trail:
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in done:
                visit(target, trail + [target])
        done.add(name)

    done = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))


def test_no_module_imports_a_private_name_from_a_public_one():
    """Helpers shared between modules live in private modules (``utils/_*.py``, ``_runs``,
    ``_inference``), photutils style: a private name of a public module is that module's own."""
    found = []
    for parts, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level and node.module):
                continue
            if any(part.startswith("_") for part in node.module.split(".")):
                continue
            found += [f"{'.'.join(parts)} imports {node.module}.{alias.name}" for alias in node.names
                      if alias.name.startswith("_") and alias.name != "__version__"]
    assert not found, "\n".join(found)


def test_no_branch_on_an_objective_or_survey_name_outside_its_class():
    """Behaviour that depends on what a model predicts or where cutouts come from lives in the
    registered classes (galzoo_cnn.objectives, galzoo_cnn.cutouts)."""
    from galzoo_cnn.cutouts import SURVEYS
    from galzoo_cnn.objectives import OBJECTIVES

    offending = []
    for parts, path in _modules():
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Compare) and any(
                    isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops)):
                continue
            operands = [node.left, *node.comparators]
            constants = {c.value for c in operands if isinstance(c, ast.Constant)}
            text = " ".join(ast.get_source_segment(source, c) or "" for c in operands)
            hits = sorted(constants & set(OBJECTIVES)) + (  # "sdss" is also a source of GZ2 tables
                sorted(constants & set(SURVEYS)) if "survey" in text else [])
            if hits:
                offending.append(f"{'/'.join(parts)}.py:{node.lineno} compares with {hits}")
    assert not offending, "\n".join(offending)


# ---------------------------------------------------------------- a new objective is one class


@pytest.fixture
def toy_objective():
    from torch.nn import functional as F

    from galzoo_cnn.objectives import OBJECTIVES, SingleLabel, register_objective

    @register_objective
    class SmoothOrDisk(SingleLabel):
        """Smooth or disk, with label smoothing (a toy objective of the tests)."""

        name = "toy_smooth_or_disk"
        default_classes = ("bulgy", "flat")
        default_backbone = "test_resnet"
        hidden = 16
        defaults = {"lr": 1e-3, "epochs": 1, "monitor": "val_loss", "patience": 1, "factor": 0.5}

        def loss(self, logits, targets, class_weights=None):
            return F.cross_entropy(logits, targets, weight=class_weights, label_smoothing=0.1)

    yield SmoothOrDisk
    del OBJECTIVES["toy_smooth_or_disk"]


def test_a_new_objective_is_one_class_end_to_end(toy_objective, gz1_images, tmp_path):
    """Train two steps, classify, write catalogues: nothing outside the class knows the objective."""
    from galzoo_cnn import classify_table, write_catalog
    from galzoo_cnn.models import load_model
    from galzoo_cnn.training import TrainConfig, train

    labels, directory = gz1_images
    config = TrainConfig(
        table=labels, image_dir=str(directory), output=str(tmp_path / "run"),  # an in-memory table
        name="toy", objective="toy_smooth_or_disk", label_column="gz1_class", classes=["bulgy", "flat"],
        class_map={"elliptical": "bulgy", "spiral_clockwise": "flat", "spiral_anticlockwise": "flat",
                   "edge_on": "flat", "merger": None, "dont_know": None},
        test_fraction=0.0, val_fraction=0.4, batch_size=4, seed=3)
    model, card_path = train(config, progress=False)
    assert model.card["objective"] == "toy_smooth_or_disk" and model.card["head"]["hidden"] == 16
    assert model.card["training"]["table"] == model.card["config"]["table"] == "in-memory table of 16 rows"
    loaded = load_model(card_path)
    assert type(loaded.objective) is toy_objective and loaded.head[0].out_features == 16

    rows = Table({"filename": labels["filename"], "ra": np.linspace(10, 20, len(labels)),
                  "dec": np.linspace(-5, 5, len(labels))})
    result = classify_table(rows, model=card_path, image_dir=directory, progress=False)
    assert result.colnames[3:] == ["prob_bulgy", "prob_flat", "predicted_class", "quality_flags", "status"]
    assert np.allclose(result["prob_bulgy"] + result["prob_flat"], 1, atol=1e-5)
    assert result.meta["provenance"]["model_objective"] == "toy_smooth_or_disk"
    assert "belongs to class 'bulgy'" in result["prob_bulgy"].description
    paths = write_catalog(result, tmp_path / "toy", formats=["votable"])
    written = Table.read(paths["votable"])
    assert written["predicted_class"].tolist() == result["predicted_class"].tolist()


def _public_functions():
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(galzoo_cnn.__path__, "galzoo_cnn."):
        if any(part.startswith("_") or part in ("tests", "conftest") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            function = getattr(module, name)
            if inspect.isfunction(function) and function.__module__ == info.name:
                yield f"{info.name}.{name}", function


def test_public_functions_take_their_options_by_keyword():
    """photutils style: the essential inputs positionally, every option by keyword only, in every public
    function of every public module (``cli.main(argv)`` excepted: argv is argparse's input)."""
    positional = []
    for name, function in _public_functions():
        parameters = inspect.signature(function).parameters.values()
        options = [p.name for p in parameters
                   if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty]
        if options and name != "galzoo_cnn.cli.main":
            positional.append(f"{name}: {options}")
    assert not positional, "options that may be given by position:\n" + "\n".join(positional)
    from galzoo_cnn import catalog, classify, cutouts, labels

    for function in (classify.classify_table, cutouts.fetch_cutouts, labels.five_class_labels,
                     labels.feature_labels, catalog.write_catalog):
        n_essential = len([p for p in inspect.signature(function).parameters.values()
                           if p.kind is p.POSITIONAL_OR_KEYWORD])
        with pytest.raises(TypeError, match="positional argument"):
            function(*([None] * (n_essential + 1)))


def test_options_given_by_position_still_work_for_one_release():
    """Functions whose options became keyword-only take the old calls with a deprecation warning."""
    from galzoo_cnn.exceptions import GalzooDeprecationWarning
    from galzoo_cnn.training import split_table

    table = Table({"label": ["a", "b"] * 20})
    with pytest.warns(GalzooDeprecationWarning, match=r"split_table\(\): pass label_column, test_fraction by "
                                                      r"keyword"):
        old = split_table(table, "label", 0.25)
    new = split_table(table, label_column="label", test_fraction=0.25)
    assert old["split"].tolist() == new["split"].tolist()
    with pytest.raises(TypeError, match="multiple values for argument 'label_column'"):
        split_table(table, "label", label_column="label")
    with pytest.raises(TypeError, match="takes 1 positional argument"):
        split_table(table, "label", 0.2, 0.2, 1, False, "extra")
    from galzoo_cnn.cutouts import read_manifest

    with pytest.warns(GalzooDeprecationWarning, match="'directory' is now 'image_dir'"), \
            pytest.raises(FileNotFoundError, match="no cutout manifest in"):
        read_manifest(directory="no_such_directory")


def test_the_command_line_starts_without_the_heavy_libraries():
    """``galzoo-cnn taxonomy`` or ``labels`` need no deep learning: building the parser imports neither
    torch, timm, Lightning, scikit-learn nor matplotlib (the commands that need them import them when run)."""
    import subprocess
    import sys

    code = ("import sys, galzoo_cnn.cli; galzoo_cnn.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'timm', 'lightning', 'sklearn', 'matplotlib') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_objectives_formats_and_surveys_share_one_registry():
    """One way to register, look up and list; a second entry under a taken name is refused, and an
    unknown name is answered with the known ones."""
    from galzoo_cnn.cutouts import SURVEYS, CutoutService
    from galzoo_cnn.exceptions import InputError, UnknownNameError
    from galzoo_cnn.io import FORMATS, CatalogFormat
    from galzoo_cnn.objectives import OBJECTIVES, SingleLabel
    from galzoo_cnn.utils._registry import Registry

    for registry, base, taken in ((OBJECTIVES, SingleLabel, "five_class"), (FORMATS, CatalogFormat, "fits"),
                                  (SURVEYS, CutoutService, "sdss")):
        assert isinstance(registry, Registry)
        before = dict(registry)
        with pytest.raises(InputError, match=f"named '{taken}' is already registered"):
            registry.register(taken)(type("Again", (base,), {"__doc__": "Again."}))
        assert dict(registry) == before
        with pytest.raises(UnknownNameError, match=f"expected one of {registry.names()}".replace("[", r"\[")):
            registry.get("no_such_name")
