"""The one error base class of ssropt: every bad input raises a subclass of it.

The CLI prints ``str(error)`` on one line and exits with status 2.
"""


class SsroptError(ValueError):
    """Bad input: the message names the problem (file, key, value)."""
