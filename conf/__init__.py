"""Hydra configuration of the Lucid command-line tools, shipped as a package so that installs find it.

Apps load it with ``config_path="pkg://conf"``; the YAML files live here and in the group folders.
"""
