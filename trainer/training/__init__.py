"""What a fit adds around the model: ``callbacks`` (stop on Ctrl-C/SIGTERM with a checkpoint, printed
losses, the run's checkpoint settings) and ``schedule`` (per-step linear warmup + cosine decay).
May import ``errors`` only; independent of ``data`` and ``models``.
"""
