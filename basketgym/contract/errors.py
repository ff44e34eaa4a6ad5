"""Errors the user can cause and fix: each carries one readable line."""


class BasketgymError(Exception):
    """Base of errors reported to the user as one line (the CLI prints it without a traceback)."""


class ScenarioError(BasketgymError, ValueError):
    """A scenario file is missing, malformed or out of range; the message names key, value and rule."""


class RankerError(BasketgymError, ValueError):
    """A ranker is unknown or returned an invalid slate."""


class InputFileError(BasketgymError, ValueError):
    """A file basketgym reads is missing, unreadable or corrupt; the message names the file and the fault."""


class OutputPathError(BasketgymError, ValueError):
    """An output path cannot be written, or writing it would replace something basketgym did not write."""


class ModelError(BasketgymError, ValueError):
    """A saved model directory is unreadable, tampered with, from another format version, or inconsistent."""
