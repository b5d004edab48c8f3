"""configs/scifi-mlflow.yaml: a real (short) fit logs its parameters and metrics to a local mlruns folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_the_mlflow_config_tracks_a_run_in_a_local_folder(tiny_corpus, tmp_path):
    mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    result = subprocess.run(  # in tmp_path: the config's relative runs/ and mlruns/ land there
        [sys.executable, "-m", "trainer", "fit", "--config", str(REPO / "configs" / "scifi-mlflow.yaml"),
         "--data.corpus", str(tiny_corpus), "--data.seq_len", "8", "--data.batch_size", "2",
         "--trainer.max_steps", "4", "--trainer.val_check_interval", "2", "--trainer.limit_val_batches", "1",
         "--trainer.log_every_n_steps", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    [experiment] = [e for e in client.search_experiments() if e.name == "gutenberg-lstm-scifi"]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.data.params["hidden_size"] == "256" and run.info.run_name == "scifi-cpu"
    assert {"train_loss", "val_loss", "val_bpc"} <= set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "train_loss")) == 4
    # the checkpoints, as ModelCheckpoint wrote them, in the run's artifacts under the local folder
    assert list((tmp_path / "mlruns" / "artifacts").glob("*/artifacts/last/last.ckpt"))
