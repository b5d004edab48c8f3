"""The LSTM language-model trainer (PyTorch Lightning). Not written yet: see the trainer issue."""
