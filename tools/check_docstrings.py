"""Check the docstrings of galzoo_cnn's public functions with numpydoc (run by ``tox -e codestyle``).

Every function a module lists in ``__all__`` must document each of its parameters (numpydoc PR01,
PR02), have a docstring (GL08) and show an example (EX01).  Exits 1 and lists the offenders.
"""

import importlib
import inspect
import pkgutil
import sys

from numpydoc.validate import validate

import galzoo_cnn

CHECKS = {"GL08", "PR01", "PR02", "EX01"}


def public_functions():
    names = ["galzoo_cnn"] + [m.name for m in pkgutil.walk_packages(galzoo_cnn.__path__, "galzoo_cnn.")
                              if ".tests" not in m.name and not m.name.rsplit(".", 1)[-1].startswith("_")
                              and m.name != "galzoo_cnn.conftest"]
    seen = set()
    for name in names:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.isfunction(obj) and obj.__module__.startswith("galzoo_cnn"):
                qualified = f"{obj.__module__}.{obj.__qualname__}"
                if qualified not in seen:
                    seen.add(qualified)
                    yield qualified


def main():
    problems = []
    for name in sorted(public_functions()):
        for code, message in validate(name)["errors"]:
            if code in CHECKS:
                problems.append(f"{name}: {code} {message}")
    print("\n".join(problems) or "every public function documents its parameters and has an example")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
