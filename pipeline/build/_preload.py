"""Imported once by the forkserver that starts the CPU worker processes (see workers.py): the modules
the workers use, and langdetect's language profiles, are loaded there once and shared by every fork."""

from ..corpus.language import _detector_factory
from . import workers  # noqa: F401

_detector_factory()
