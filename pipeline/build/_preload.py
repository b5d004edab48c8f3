"""Imported once by the forkserver that starts the CPU worker processes (see workers.py): the modules
the workers use, and langdetect's language profiles, are loaded there once and shared by every fork."""

from ..corpus.language import _detector_factory
from . import workers

# the forkserver: its parent is the build, so it and then its workers die with it
workers.die_with_parent(by_signal=False)

_detector_factory()
