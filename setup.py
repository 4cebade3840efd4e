"""The package list of ssropt, computed (everything else is in pyproject.toml).

``spaces/`` and ``objectives/`` are installed as ``ssropt.spaces`` and
``ssropt.objectives``; every sub-package below them and below ``ssropt/`` is found here,
so a new sub-package is never dropped from an install.
"""

from setuptools import find_packages, setup

#: import name -> folder (the top level of the repository is fixed by the product brief)
PACKAGE_DIR = {"ssropt": "ssropt", "ssropt.spaces": "spaces", "ssropt.objectives": "objectives"}


def packages() -> list[str]:
    found = []
    for name, folder in PACKAGE_DIR.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(where=folder)]
    return sorted(set(found))


setup(
    package_dir=PACKAGE_DIR,
    packages=packages(),
    package_data={"ssropt.objectives.platforms": ["*.toml"]},
)
