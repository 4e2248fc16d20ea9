"""The YAML configuration of the command-line tools, a package so that installs ship it (``config_path="pkg://conf"``).

No code: the resolvers the YAML uses are registered by :mod:`foundation.settings`.
"""
