"""Imported once by the forkserver that starts the CPU worker processes (see workers.py): the modules
the workers use, and langdetect's language profiles, are loaded there once and shared by every fork."""

from . import workers  # noqa: F401
from ..corpus.language import _detector_factory

_detector_factory()
