# Everything is in pyproject.toml. This file exists for scrapyd-deploy (scrapyd-client), which
# builds the project's egg with `python setup.py bdist_egg` and would otherwise write a setup.py
# of its own here.
from setuptools import setup

setup()
