"""TensorFlow definitions of the on-device text models (needs the ``build`` extra).

The decision-style model is a frozen int8 linear layer over hashed n-gram counts (TF-IDF
weighted and L2-normalised inside the model) plus a small trainable hashed residual, with a
sigmoid head (:class:`HashedResidualModule`; until version 2 every one of its 2^17 float32
weights was trainable, a 520 kB update). The interest model is a frozen
int8 embedding bag with a small trainable head and a calibration temperature
(:class:`EmbeddingBagModule`, described there and in :mod:`models.interests`). Dense
psycholinguistic features were tried as extra inputs and lowered held-out AUC (0.831 →
0.800 by 5-fold CV), so they explain profiles but do not feed the models.

The decision-style module exports six signatures, in TensorFlow Lite builtin ops only, so
the same file infers *and trains* under LiteRT and tflite-runtime:

``infer(idx, val) -> probs, logits``
    ``idx`` int32 ``[B, K]`` bucket indices (padding: index 0, value 0), ``val`` float32
    ``[B, K]`` sublinear counts.
``train(idx, val, y, lr, l2) -> loss``
    One SGD step of the trainable weights on the mean cross-entropy plus
    ``l2/2 * ||W||^2``. Gradients are written out by hand (no GradientTape): the automatic
    ones need ops TensorFlow Lite lacks.
``get_weights() -> w, b`` and ``set_weights(w, b) -> ok``
    Checkpoint and federated exchange go through these (``tf.raw_ops.Save`` needs Flex).
``constants() -> idf``
    The fixed input transform, so the device can show a word's weight in a text.
``explain(idx, val) -> terms``
    Each input bucket's additive share of each logit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = [
    "EMBEDDING_SIGNATURES",
    "RESIDUAL_SIGNATURES",
    "SIGNATURES",
    "EmbeddingBagModule",
    "HashedResidualModule",
    "convert",
]


class _TextModule(tf.Module):  # type: ignore[misc]  # tf.Module is untyped
    """What both text models share: the trainable ``w``, ``b`` and the weight signatures.

    Subclasses define ``_infer(idx, val)``, ``_train(idx, val, y, lr, l2)`` and the method
    behind their fifth signature (``extra``), then call :meth:`_bind` from ``__init__``.
    """

    def _bind(self, w: np.ndarray, b: np.ndarray, *, extra: str, extra_sparse: bool) -> None:
        self.dim, self.classes = (int(s) for s in w.shape)
        self.w = tf.Variable(w.astype(np.float32), name="w")
        self.b = tf.Variable(b.astype(np.float32), name="b")
        d, c = self.dim, self.classes
        sparse = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
        scalar = tf.TensorSpec([], tf.float32)
        self.infer = tf.function(self._infer, input_signature=sparse)
        self.train = tf.function(
            self._train,
            input_signature=[*sparse, tf.TensorSpec([None, c], tf.float32), scalar, scalar],
        )
        self.get_weights = tf.function(self._get_weights, input_signature=[])
        extra_fn = tf.function(
            getattr(self, f"_{extra}"), input_signature=sparse if extra_sparse else []
        )
        setattr(self, extra, extra_fn)
        self.set_weights = tf.function(
            self._set_weights,
            input_signature=[tf.TensorSpec([d, c], tf.float32), tf.TensorSpec([c], tf.float32)],
        )

    def _get_weights(self) -> dict[str, Any]:
        return {"w": self.w.read_value(), "b": self.b.read_value()}

    def _set_weights(self, w: Any, b: Any) -> dict[str, Any]:
        self.w.assign(w)
        self.b.assign(b)
        return {"ok": tf.constant(1, tf.int32)}


SIGNATURES: tuple[str, ...] = ("infer", "train", "get_weights", "set_weights", "constants")
"""Signatures of the shipped linear models, in export order."""


class HashedResidualModule(_TextModule):
    """Frozen int8 linear layer over the buckets plus a trainable hashed residual.

    ``logits = Σ_k a_k · (base[idx_k] + w[idx_k mod R]) + b`` with ``a`` the TF-IDF weights
    of the input (``val · idf[idx]``, L2-normalised), ``base[i] = codes[i] · scale[i // Q]``
    the frozen weights (int8 codes, one float32 scale per block of ``Q`` buckets) and ``w``
    ``[R, C]`` the residual: the same CRC-32 hash folded to ``R`` buckets (``idx mod R`` is
    the hash's low bits, as ``R`` divides the hash dimension). Only ``w`` and ``b`` are
    variables, so an update is ``(R + 1) · C`` float32 values however large the input is.
    The int8 codes are gathered before they are cast, so they stay one byte each.

    Signatures (TensorFlow Lite builtin ops only): ``infer(idx, val) -> probs, logits``;
    ``train(idx, val, y, lr, l2) -> loss`` (one SGD step of ``w`` and ``b`` on the mean
    cross-entropy plus ``l2/2 · ||w||²``, gradients by hand); ``get_weights() -> w, b``;
    ``set_weights(w, b) -> ok``; ``constants() -> idf``; ``explain(idx, val) -> terms``
    (``[B, K, C]``: each input bucket's additive share of each logit).

    Parameters
    ----------
    idf : numpy.ndarray
        ``[D]`` float32 inverse document frequencies.
    codes : numpy.ndarray
        ``[D, C]`` int8 frozen weights.
    scale : numpy.ndarray
        ``[D // Q]`` float32 scale of each block of ``Q`` buckets.
    w, b : numpy.ndarray
        Initial residual ``[R, C]`` (``R`` a power of two dividing ``D``) and bias ``[C]``.
    softmax : bool
        Softmax head over ``C`` classes if true, else an independent sigmoid per output.
    """

    def __init__(
        self,
        *,
        idf: np.ndarray,
        codes: np.ndarray,
        scale: np.ndarray,
        w: np.ndarray,
        b: np.ndarray,
        softmax: bool,
    ) -> None:
        super().__init__()
        dim, residual = int(codes.shape[0]), int(w.shape[0])
        if dim % residual or dim % scale.shape[0]:
            raise ValueError("residual and scale blocks must divide the hash dimension")
        self.softmax = softmax
        self.idf = tf.constant(idf.astype(np.float32))
        self.codes = tf.constant(codes.astype(np.int8))
        self.scale = tf.constant(scale.astype(np.float32))
        self.block = tf.constant(dim // int(scale.shape[0]), tf.int32)
        self.residual = tf.constant(residual, tf.int32)
        self._bind(w, b, extra="constants", extra_sparse=False)
        sparse = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
        self.explain = tf.function(self._explain, input_signature=sparse)

    def _normalise(self, idx: Any, val: Any) -> Any:
        v = val * tf.gather(self.idf, idx)
        return v / (tf.sqrt(tf.reduce_sum(v * v, axis=1, keepdims=True)) + 1e-12)

    def _rows(self, idx: Any) -> tuple[Any, Any]:
        """Residual row of each bucket and its full weight row ``base + residual``."""
        folded = tf.math.floormod(idx, self.residual)
        codes = tf.cast(tf.gather(self.codes, idx), tf.float32)  # [B, K, C]
        scale = tf.gather(self.scale, tf.math.floordiv(idx, self.block))  # [B, K]
        return folded, codes * tf.expand_dims(scale, -1) + tf.gather(self.w, folded)

    def _terms(self, idx: Any, val: Any) -> tuple[Any, Any, Any]:
        v = self._normalise(idx, val)
        folded, rows = self._rows(idx)
        return v, folded, rows * tf.expand_dims(v, -1)

    def _probs(self, logits: Any) -> Any:
        return tf.nn.softmax(logits) if self.softmax else tf.sigmoid(logits)

    def _infer(self, idx: Any, val: Any) -> dict[str, Any]:
        logits = tf.reduce_sum(self._terms(idx, val)[2], axis=1) + self.b
        return {"probs": self._probs(logits), "logits": logits}

    def _train(self, idx: Any, val: Any, y: Any, lr: Any, l2: Any) -> dict[str, Any]:
        v, folded, terms = self._terms(idx, val)
        p = self._probs(tf.reduce_sum(terms, axis=1) + self.b)
        n = tf.cast(tf.shape(idx)[0], tf.float32)
        eps = 1e-7
        if self.softmax:
            ce = -tf.reduce_sum(y * tf.math.log(p + eps))
        else:
            ce = -tf.reduce_sum(y * tf.math.log(p + eps) + (1.0 - y) * tf.math.log(1.0 - p + eps))
        loss = ce / n + 0.5 * l2 * tf.reduce_sum(self.w * self.w)
        g = (p - y) / n  # dLoss/dlogits for both heads
        upd = tf.expand_dims(v, -1) * tf.expand_dims(g, 1)  # [B, K, C]
        dw = tf.scatter_nd(tf.expand_dims(folded, -1), upd, tf.constant([self.dim, self.classes]))
        self.w.assign_sub(lr * (dw + l2 * self.w))
        self.b.assign_sub(lr * tf.reduce_sum(g, axis=0))
        return {"loss": loss}

    def _constants(self) -> dict[str, Any]:
        return {"idf": self.idf}

    def _explain(self, idx: Any, val: Any) -> dict[str, Any]:
        return {"terms": self._terms(idx, val)[2]}


RESIDUAL_SIGNATURES: tuple[str, ...] = (*SIGNATURES, "explain")
"""Signatures of the decision-style model (:class:`HashedResidualModule`), in export order."""


class EmbeddingBagModule(_TextModule):
    """Frozen int8 embedding bag over hashed words, trainable linear head, fixed temperature.

    ``z = Σ_k a_k · scale[idx_k] · codes[idx_k] + sub_bias`` (``a``: the TF-IDF weights of
    the input, ``val · idf[idx]`` L2-normalised) gives one logit per sub-label;
    ``g = log(softmax(z) · aggregation)`` the log-probability of each label;
    ``h = (max(g, floor) − centre) · whitening`` its fixed whitening;
    ``logits = (h · w + b) / temperature`` and ``probs = softmax(logits)``. Only ``w`` and
    ``b`` are variables. The int8 rows are gathered *before* they are cast to float32, so
    the converter cannot fold them into a float32 constant: one byte per encoder value.

    Signatures (TensorFlow Lite builtin ops only): ``infer(idx, val) -> probs, logits``;
    ``train(idx, val, y, lr, l2) -> loss`` (one SGD step of the head on the mean
    cross-entropy of the calibrated probabilities plus ``l2/2 · ||w||²``, gradients by hand);
    ``get_weights() -> w, b``; ``set_weights(w, b) -> ok``; ``explain(idx, val) -> terms``
    (``[B, K, C]``: each input bucket's gradient-times-input share of each calibrated logit,
    through the sub-label softmax and the head).

    Parameters
    ----------
    idf, scale : numpy.ndarray
        ``[H]`` float32 inverse document frequencies and encoder row scales.
    codes : numpy.ndarray
        ``[H, F]`` int8 encoder rows.
    sub_bias : numpy.ndarray
        ``[F]`` encoder intercepts.
    aggregation : numpy.ndarray
        ``[F, C]`` 0/1 sub-label → label matrix.
    centre, whitening : numpy.ndarray
        ``[C]`` mean and ``[C, C]`` whitening matrix of the floored label log-probabilities.
    floor : float
        Floor of the label log-probabilities.
    w, b : numpy.ndarray
        Initial head ``[C, C]`` and ``[C]``.
    temperature : float
        Calibration temperature (> 0).
    """

    def __init__(
        self,
        *,
        idf: np.ndarray,
        codes: np.ndarray,
        scale: np.ndarray,
        sub_bias: np.ndarray,
        aggregation: np.ndarray,
        centre: np.ndarray,
        whitening: np.ndarray,
        floor: float,
        w: np.ndarray,
        b: np.ndarray,
        temperature: float,
    ) -> None:
        super().__init__()
        self.idf = tf.constant(idf.astype(np.float32))
        self.centre = tf.constant(centre.astype(np.float32))
        self.whitening = tf.constant(whitening.astype(np.float32))
        self.floor = tf.constant(np.float32(floor))
        self.codes = tf.constant(codes.astype(np.int8))
        self.scale = tf.constant(scale.astype(np.float32))
        self.sub_bias = tf.constant(sub_bias.astype(np.float32))
        self.aggregation = tf.constant(aggregation.astype(np.float32))
        self.inv_t = tf.constant(np.float32(1.0 / temperature))
        self._bind(w, b, extra="explain", extra_sparse=True)

    def _terms(self, idx: Any, val: Any) -> Any:
        v = val * tf.gather(self.idf, idx)
        a = v / (tf.sqrt(tf.reduce_sum(v * v, axis=1, keepdims=True)) + 1e-12)
        rows = tf.cast(tf.gather(self.codes, idx), tf.float32)  # [B, K, F]
        return rows * tf.expand_dims(a * tf.gather(self.scale, idx), -1)

    def _encode(self, idx: Any, val: Any) -> tuple[Any, Any, Any]:
        """Per-bucket sub-label terms, sub-label probabilities, label log-probabilities."""
        terms = self._terms(idx, val)
        q = tf.nn.softmax(tf.reduce_sum(terms, axis=1) + self.sub_bias)  # [B, F]
        g = tf.math.log(tf.matmul(q, self.aggregation) + 1e-12)  # [B, C]
        return terms, q, g

    def _whiten(self, g: Any) -> Any:
        return tf.matmul(tf.maximum(g, self.floor) - self.centre, self.whitening)

    def _logits(self, h: Any) -> Any:
        return (tf.matmul(h, self.w) + self.b) * self.inv_t

    def _infer(self, idx: Any, val: Any) -> dict[str, Any]:
        logits = self._logits(self._whiten(self._encode(idx, val)[2]))
        return {"probs": tf.nn.softmax(logits), "logits": logits}

    def _train(self, idx: Any, val: Any, y: Any, lr: Any, l2: Any) -> dict[str, Any]:
        g = self._whiten(self._encode(idx, val)[2])
        p = tf.nn.softmax(self._logits(g))
        n = tf.cast(tf.shape(idx)[0], tf.float32)
        ce = -tf.reduce_sum(y * tf.math.log(p + 1e-7)) / n
        loss = ce + 0.5 * l2 * tf.reduce_sum(self.w * self.w)
        grad = (p - y) * (self.inv_t / n)  # dLoss/d(g·w + b)
        dw = tf.matmul(g, grad, transpose_a=True)
        self.w.assign_sub(lr * (dw + l2 * self.w))
        self.b.assign_sub(lr * tf.reduce_sum(grad, axis=0))
        return {"loss": loss}

    def _explain(self, idx: Any, val: Any) -> dict[str, Any]:
        terms, q, g = self._encode(idx, val)
        # d g_c / d z_f = A[f, c] q_f / P_c - q_f, with P_c = exp(g_c); through the head.
        own = tf.matmul(tf.exp(g), self.aggregation, transpose_b=True)  # P of f's label
        share = tf.expand_dims(q / (own + 1e-12), -1) * self.aggregation  # [B, F, C]
        jac = share - tf.expand_dims(q, -1)  # [B, F, C]
        # d h / d g = diag(g > floor) · whitening, then the head.
        above = tf.expand_dims(tf.cast(g > self.floor, tf.float32), 1)  # [B, 1, C]
        head = tf.matmul(self.whitening, self.w)  # [C, C]
        through = tf.matmul(jac * above, head) * self.inv_t  # [B, F, C]
        return {"terms": tf.matmul(terms, through)}  # [B, K, C]


EMBEDDING_SIGNATURES: tuple[str, ...] = ("infer", "train", "get_weights", "set_weights", "explain")
"""Signatures of the interest model (:class:`EmbeddingBagModule`), in export order."""


def convert(module: Any, workdir: Path, *, signatures: Sequence[str] = SIGNATURES) -> bytes:
    """Convert a ``tf.Module`` to a TensorFlow Lite flatbuffer with builtin ops only.

    Parameters
    ----------
    module : tf.Module
        The model to export; each name in ``signatures`` is a ``tf.function`` attribute
        with an input signature.
    workdir : pathlib.Path
        Scratch directory for the intermediate SavedModel.
    signatures : sequence of str
        Which functions become signatures (default: the linear models' five).

    Returns
    -------
    bytes
        The ``.tflite`` file contents; resource variables enabled so ``train`` and
        ``set_weights`` change the weights in place.
    """
    saved = workdir / "saved_model"
    concrete = {name: getattr(module, name).get_concrete_function() for name in signatures}
    tf.saved_model.save(module, str(saved), signatures=concrete)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved), signature_keys=list(concrete))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.experimental_enable_resource_variables = True
    return bytes(converter.convert())
