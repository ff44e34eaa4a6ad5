"""One import root: the top-level folders sim/, agents/, rankers/, eval/ and scenarios/ install as ``basketgym.*``.

Metadata lives in pyproject.toml; this file only maps each layer's folder to its subpackage (setuptools'
``package_dir``), for wheels and editable installs alike, and finds every subpackage below it.
"""

from setuptools import find_packages, setup

LAYERS = ("sim", "agents", "rankers", "eval", "scenarios")  # folders at the top, packages under basketgym


def _packages() -> tuple[list[str], dict[str, str]]:
    packages = ["basketgym", *(f"basketgym.{p}" for p in find_packages("basketgym"))]
    package_dir = {"basketgym": "basketgym"}
    for layer in LAYERS:
        package_dir[f"basketgym.{layer}"] = layer
        packages += [f"basketgym.{layer}", *(f"basketgym.{layer}.{p}" for p in find_packages(layer))]
    return packages, package_dir


packages, package_dir = _packages()
setup(packages=packages, package_dir=package_dir)
