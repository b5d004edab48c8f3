"""The models as LightningModules: the networks of ``models/`` with the steps, metrics and exact resume of a fit.

``LSTMLanguageModel`` is ``models.lstm.LSTMNetwork`` with training added, and ``GPTLanguageModel``
trains ``models.gpt.GPTNetwork`` with the same steps (a Transformer carries no state across batches).
Its state across batches (the carried hidden state, the position in the epoch, the RNG) goes
into every checkpoint, per rank, so ``fit --ckpt_path last`` continues exactly where a run stopped.
"""

from __future__ import annotations

import math
import time

import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from ..checkpoint import FORMAT
from ..errors import CheckpointError, ConfigError, NonFiniteLossError
from ..models.gpt import ARCHITECTURE as GPT_ARCHITECTURE
from ..models.gpt import GPT, GPTNetwork, KVCache, PretrainedGPT2  # noqa: F401  (trainer.gpt's names, kept)
from ..models.lstm import LSTMNetwork

CHECKPOINT_FORMAT = FORMAT  # checkpoint.py reads what it writes
"""1: no checksum, no corpus record; 2: both (see checkpoint.py)."""
LN2 = math.log(2)


def total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """The 2-norm of all gradients together (what ``torch.nn.utils.get_total_norm`` of torch 2.6 gives)."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads]))


class LSTMLanguageModel(LSTMNetwork, pl.LightningModule):
    def __init__(self, vocab_size: int = 0, embedding_size: int = 128, hidden_size: int = 256, num_layers: int = 2,
                 dropout: float = 0.2, tie_weights: bool = True, vocabulary: dict | None = None):
        """A character- or word-level LSTM language model.

        Args:
            vocab_size: Vocabulary size; linked from the data (``data.vocab_size``), not set by hand.
            embedding_size: Width of the token embedding.
            hidden_size: Width of each LSTM layer.
            num_layers: Stacked LSTM layers.
            dropout: Dropout on the embedding, between LSTM layers and before the head.
            tie_weights: Share the embedding matrix with the output head (a projection is added when
                ``hidden_size`` differs from ``embedding_size``).
            vocabulary: The tokenizer's vocabulary; linked from the data and saved in every checkpoint (not
                logged as a hyperparameter: a word vocabulary is long).
        """
        super(LSTMNetwork, self).__init__()  # the LightningModule (save_hyperparameters reads this frame)
        self.save_hyperparameters(ignore=["vocabulary"])
        self.vocabulary = vocabulary
        self._build(vocab_size, embedding_size, hidden_size, num_layers, dropout, tie_weights)
        self._init_run_state()

    def _init_run_state(self) -> None:
        """What a run tracks besides the weights; the Transformer (gpt.py) starts from the same."""
        self._hidden: dict[str, tuple[torch.Tensor, torch.Tensor] | None] = {"train": None, "val": None, "test": None}
        self._eval_sums: dict[str, torch.Tensor] = {}
        self._next_batch = 0
        self._resume: dict | None = None
        self._pending_rng: dict | None = None
        self._restored_epoch: int | None = None
        self._last_batch_time: float | None = None
        self._step_loss: torch.Tensor | None = None

    # -- steps ----------------------------------------------------------------------------------------

    def _shared_step(self, batch, stage: str):
        x, y, index = batch
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        carried = getattr(getattr(datamodule, "hparams", None), "mode", "carried") == "carried"
        hidden = self._hidden[stage] if carried else None
        if hidden is not None and hidden[0].shape[1] != x.shape[0]:
            hidden = None
        logits, new_hidden = self(x, hidden)
        self._hidden[stage] = (new_hidden[0].detach(), new_hidden[1].detach()) if carried else None
        loss_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1), reduction="sum")
        tokens = y.numel()
        correct = (logits.argmax(-1) == y).sum()
        return loss_sum, tokens, correct, index

    def training_step(self, batch, batch_idx):
        loss_sum, tokens, correct, index = self._shared_step(batch, "train")
        loss = loss_sum / tokens
        self._step_loss = loss.detach()  # checked with the gradient norm, in one host sync (see below)
        self._next_batch = index + 1
        bpc = loss / LN2 * self._tokens_per_char("train")
        self.log_dict({"train_loss": loss, "train_bpc": bpc, "train_ppl": torch.exp(loss.detach().clamp(max=50)),
                       "train_acc": correct / tokens}, on_step=True, on_epoch=False, prog_bar=True)
        optimizers = self.trainer.optimizers if self._trainer is not None else []
        if optimizers:  # the rate this step was taken with, for `trainer report`'s curve (a float: no host sync)
            self.log("lr", float(optimizers[0].param_groups[0]["lr"]), on_step=True, on_epoch=False)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        now = time.perf_counter()
        if self._last_batch_time is not None:
            tokens = batch[1].numel() * self.trainer.world_size
            self.log("train_tokens_per_s", tokens / (now - self._last_batch_time), on_step=True, on_epoch=False)
        self._last_batch_time = now

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        # One pass over the gradients both clips them and checks them, before the optimizer step. The loss and the
        # norm are checked together: one host sync per step, the least a guard that stops *before* the weights are
        # touched can cost (a NaN loss always gives a NaN norm; the loss is named because it is the cause).
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if gradient_clip_val and gradient_clip_algorithm in (None, "norm"):
            norm = torch.nn.utils.clip_grad_norm_(params, gradient_clip_val) if params else None
        else:
            self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)
            norm = total_norm([p.grad for p in params]) if params else None
        if getattr(self.trainer.precision_plugin, "scaler", None) is not None:
            return  # fp16's scaler skips the steps of non-finite gradients itself
        checked = [(name, value.float().reshape(())) for name, value in (("loss", getattr(self, "_step_loss", None)),
                                                                        ("gradient norm", norm)) if value is not None]
        if checked:
            self._check_finite(checked, self._next_batch - 1)

    def _check_finite(self, checked: list[tuple[str, torch.Tensor]], index: int) -> None:
        # every rank takes the same decision, so no rank is left waiting in a collective
        finite = torch.isfinite(torch.stack([value for _, value in checked])).all().to(torch.float32)
        finite = self.trainer.strategy.reduce(finite, reduce_op="min") if self.trainer.world_size > 1 else finite
        if finite.item() < 1:  # the one host sync of a step
            what, value = next(((n, v) for n, v in checked if not torch.isfinite(v)), checked[0])
            where = "" if not torch.isfinite(value) else " on another rank"
            raise NonFiniteLossError(
                f"the {what} became {value.item() if not where else 'non-finite'}{where} at step "
                f"{self.global_step + 1} (epoch {self.current_epoch}, batch {index}); training stopped before the "
                f"weights were touched. Resume from the last good checkpoint (fit --ckpt_path last) with a lower "
                f"optimizer.init_args.lr or a smaller trainer.gradient_clip_val")

    def _tokens_per_char(self, split: str) -> float:
        datamodule = getattr(self.trainer, "datamodule", None)
        return datamodule.tokens_per_char(split) if datamodule is not None else 1.0

    def _eval_start(self, stage: str) -> None:
        self._hidden[stage] = None
        self._eval_sums[stage] = torch.zeros(3, dtype=torch.float64, device=self.device)

    def _eval_step(self, batch, stage: str) -> None:
        loss_sum, tokens, correct, _ = self._shared_step(batch, stage)
        self._eval_sums[stage] += torch.stack([loss_sum.detach().double(), torch.tensor(float(tokens),
                                               dtype=torch.float64, device=self.device), correct.double()])

    def _eval_end(self, stage: str) -> None:
        sums = self._eval_sums.pop(stage)
        if self.trainer.world_size > 1:  # sum over every token of every rank, not a mean of means
            sums = self.trainer.strategy.reduce(sums, reduce_op="sum")
        loss_sum, tokens, correct = sums.tolist()
        if tokens == 0:
            return
        loss = loss_sum / tokens
        self.log_dict({f"{stage}_loss": loss, f"{stage}_bpc": loss / LN2 * self._tokens_per_char(stage),
                       f"{stage}_ppl": math.exp(min(loss, 50)), f"{stage}_acc": correct / tokens},
                      prog_bar=stage == "val", sync_dist=False)

    def on_validation_epoch_start(self):
        self._eval_start("val")

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch, "val")

    def on_validation_epoch_end(self):
        self._eval_end("val")

    def on_test_epoch_start(self):
        self._eval_start("test")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch, "test")

    def on_test_epoch_end(self):
        self._eval_end("test")

    # -- exact resume ---------------------------------------------------------------------------------

    def on_train_start(self):
        # Lightning skips on_train_epoch_start when it resumes mid-epoch, so the restore happens here
        self._restored_epoch = None
        resume, self._resume = self._resume, None
        if resume is None:
            return
        batches = self.trainer.datamodule.train_batches
        rank = self.global_rank
        if resume["world_size"] != self.trainer.world_size:
            self.print(f"warning: the checkpoint was written by {resume['world_size']} processes, this run has "
                       f"{self.trainer.world_size}: the data position and carried state start afresh")
            return
        self._pending_rng = {k: v[rank].clone() for k, v in resume["rng"].items()}
        layout = (getattr(batches, "batch_size", None), getattr(batches, "seq_len", None), len(batches))
        saved = (resume.get("batch_size"), resume.get("seq_len"), resume.get("batches"))
        finished = resume["next_batch"] >= min(len(batches), self.trainer.num_training_batches)
        if resume["epoch"] != self.current_epoch or finished:
            return  # saved at the end of an epoch: the next one starts from its beginning
        if saved != layout:
            self.print(f"warning: the checkpoint's batches (rows, seq_len, batches per epoch) were {saved}, this "
                       f"run's are {layout}: the epoch starts again from its beginning")
            return
        self._prepare_epoch(batches)
        self._restored_epoch = self.current_epoch
        batches.start = self._next_batch = resume["next_batch"]
        if resume["hidden"] is not None:
            h, c = resume["hidden"][rank].to(self.device)
            self._hidden["train"] = (h.contiguous(), c.contiguous())

    def on_train_epoch_start(self):
        if self._restored_epoch == self.current_epoch:  # just restored mid-epoch: keep what on_train_start set
            self._restored_epoch = None
            return
        self._prepare_epoch(self.trainer.datamodule.train_batches)

    def _prepare_epoch(self, batches) -> None:
        self._last_batch_time = None
        self._hidden["train"], self._next_batch = None, 0
        batches.start = 0
        if hasattr(batches, "epoch"):
            batches.epoch = self.current_epoch

    def on_train_batch_start(self, batch, batch_idx):
        if self._pending_rng is not None:
            torch.set_rng_state(self._pending_rng["cpu"].cpu())
            if "cuda" in self._pending_rng and torch.cuda.is_available():
                torch.cuda.set_rng_state(self._pending_rng["cuda"].cpu())
            self._pending_rng = None

    def _gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Stack one tensor from every rank along a new first axis (on CPU)."""
        if self.trainer.world_size == 1:
            return tensor.unsqueeze(0).cpu()
        return self.trainer.strategy.all_gather(tensor.to(self.device)).cpu()

    def on_save_checkpoint(self, checkpoint):
        corpus = getattr(getattr(self.trainer, "datamodule", None), "corpus", None)
        checkpoint["gutenberg_lstm"] = {"format": CHECKPOINT_FORMAT, "corpus": {
            "version": corpus.manifest.get("version"), "content_key": corpus.manifest.get("content_key"),
            "path": str(corpus.path)} if corpus is not None else None}
        checkpoint["vocabulary"] = self.vocabulary
        hidden = self._hidden["train"]
        rng = {"cpu": self._gather(torch.get_rng_state())}
        if torch.cuda.is_available() and self.device.type == "cuda":
            rng["cuda"] = self._gather(torch.cuda.get_rng_state())
        batches = getattr(getattr(self.trainer, "datamodule", None), "train_batches", None)
        checkpoint["carried_state"] = {
            "epoch": self.current_epoch, "next_batch": self._next_batch, "world_size": self.trainer.world_size,
            "batch_size": getattr(batches, "batch_size", None), "seq_len": getattr(batches, "seq_len", None),
            "batches": len(batches) if batches is not None else None,
            "hidden": self._gather(torch.stack(hidden)) if hidden is not None else None, "rng": rng}

    def on_load_checkpoint(self, checkpoint):
        if "gutenberg_lstm" not in checkpoint or "hyper_parameters" not in checkpoint:
            raise CheckpointError("the checkpoint was not written by this trainer (no gutenberg_lstm record); "
                                  "give one from a `python -m trainer fit` run")
        self._resume = checkpoint.get("carried_state")


class GPTLanguageModel(GPTNetwork, LSTMLanguageModel):
    def __init__(self, vocab_size: int = 0, block_size: int = 256, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.1, bias: bool = False, pretrained: str | None = None,
                 vocabulary: dict | None = None):
        """A causal Transformer language model (nanoGPT-shaped), or a pretrained GPT-2 to fine-tune.

        Args:
            vocab_size: Vocabulary size; linked from the data (``data.vocab_size``), not set by hand.
            block_size: Longest context in tokens (learned positions); ``data.seq_len`` must not exceed it.
            n_layer: Transformer blocks.
            n_head: Attention heads per block; ``n_embd`` must be a multiple of it.
            n_embd: Width of the residual stream (and of the tied token embedding).
            dropout: Dropout on the embeddings, the attention weights and each residual branch.
            bias: Biases in the linear layers and LayerNorms (GPT-2 has them; without is a little faster).
            pretrained: A local Hugging Face GPT-2 folder (``save_pretrained`` layout) to fine-tune; its sizes
                replace the ones above and its tokenizer encodes the corpus (``data.pretrained`` is linked to it).
            vocabulary: The tokenizer's vocabulary; linked from the data and saved in every checkpoint.
        """
        super(LSTMNetwork, self).__init__()  # the LightningModule itself: none of the LSTM's layers
        self.save_hyperparameters(ignore=["vocabulary"])
        self.vocabulary = vocabulary
        self._build(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias, pretrained)
        self._init_run_state()

    @classmethod
    def from_checkpoint(cls, checkpoint: dict, **extra) -> GPTLanguageModel:
        model = super().from_checkpoint(checkpoint, vocabulary=checkpoint.get("vocabulary"), **extra)
        model.hparams.pretrained = model.pretrained
        return model

    def _shared_step(self, batch, stage: str):
        x, y, index = batch
        if x.shape[1] > self.block_size:
            raise ConfigError(f"data.seq_len {x.shape[1]} is longer than the model's context ({self.block_size}); "
                              f"lower data.seq_len or raise model.block_size")
        logits, _ = self.network(x)  # every window on its own: nothing is carried between batches
        loss_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1), reduction="sum")
        return loss_sum, y.numel(), (logits.argmax(-1) == y).sum(), index

    def on_fit_start(self):
        seq_len = getattr(getattr(self.trainer.datamodule, "hparams", None), "seq_len", None)
        if seq_len is not None and seq_len > self.block_size:
            raise ConfigError(f"data.seq_len {seq_len} is longer than the model's context ({self.block_size} "
                              f"tokens: model.block_size, or the pretrained model's n_positions); lower data.seq_len")

    def on_save_checkpoint(self, checkpoint):
        super().on_save_checkpoint(checkpoint)
        checkpoint["gutenberg_lstm"]["architecture"] = GPT_ARCHITECTURE  # added to the LSTM's record, which stays
        if isinstance(self.network, PretrainedGPT2):
            checkpoint["gutenberg_lstm"]["pretrained_config"] = self.network.config_dict()


MODULES = {"lstm": LSTMLanguageModel, "gpt": GPTLanguageModel}
"""The LightningModule that trains each architecture (``models.architectures`` names them)."""


def module_class(architecture: str) -> type[LSTMLanguageModel]:
    if architecture not in MODULES:
        raise ConfigError(f"architecture {architecture!r}: use one of {', '.join(MODULES)}")
    return MODULES[architecture]
