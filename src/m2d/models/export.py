"""The book's trained networks as ONNX files, so that the HTML book can run them in the reader's
browser (ONNX Runtime Web; no kernel, no server, offline).

Three graphs, exported from the very torch modules the chapters use:

- Part II's Music Transformer (:class:`m2d.models.transformer.MusicTransformer`): inputs the encoded
  melody (``tokens``, ``durs``, ``onsets`` of :func:`m2d.models.melody_lm.encode`, shape (batch, T)),
  outputs the next-note ``logits`` (batch, T, 12) of p(x_t | x_{<t}), the duration logits
  ``dur_logits`` (batch, T, 8) of p(c_t | past), and ``attention`` (batch, layers, heads, T, T):
  every layer's and head's weights A = softmax((Q K^T + S^rel) / sqrt(d_k)) (Definitions 21.6-21.7,
  row-stochastic by Theorem 21.3);
- Part II's LSTM (:class:`m2d.models.lstm.MelodyLSTM`): the same inputs, ``logits`` and
  ``dur_logits`` (no attention);
- Part III's U-Net (:class:`m2d.models.unet.UNet`): inputs a noisy patch ``x`` (batch, 1, n_mels,
  width) and its steps ``t`` (batch,), output the predicted noise ``eps`` = eps_theta(x_t, t)
  (Definition 21.10, parameterised by eps).

The sequence length T (and the U-Net's phrase width, any multiple of 4 frames) is dynamic. The graphs
are exported with ``torch.onnx.export(..., dynamo=True)`` (the legacy exporter baked the length into
a Reshape), evaluated as trained (causal mask, temperature 1, no dropout), and stored with the weights
inside the file (one ``Uint8Array`` for the page: ONNX Runtime Web cannot mount external data from
``file://``). Exports are cached like the models (:func:`m2d.cache.cached`): the key hashes this
module's and the model's code, the configuration and the weights' content, so an edit of any of them
exports again, and a corrupt or truncated file is rebuilt.

:func:`run` evaluates a graph with Python's onnxruntime (the tests compare it with torch to 1e-5),
:func:`model_script` wraps one as the small script the page loads on demand.

Notebook: notebooks/02_attention.ipynb (the attention explorer's live mode), notebooks/03_diffusion.ipynb
(the generate button: DDIM with the shipped U-Net in the page); the LSTM is exported and tested here,
not yet shown live
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import inspect
import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from m2d import cache

#: Bumped whenever the exported graphs change meaning (inputs, outputs, their order).
EXPORT_VERSION = 1
#: Largest batch the graphs accept (the page runs batch 1; tests use a few).
MAX_BATCH = 64


@dataclass(frozen=True)
class GraphSpec:
    """What an exported graph takes and returns.

    Attributes:
        kind (str): ``"melody-transformer"``, ``"melody-lstm"`` or ``"unet"``
        inputs (tuple[str, ...]): input names, in the order the graph takes them
        outputs (tuple[str, ...]): output names
        shapes (dict): name -> dims, ints or symbolic names ("batch", "T", "width")
    """

    kind: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    shapes: dict


def _melody_kind(model: nn.Module) -> str | None:
    from m2d.models.lstm import MelodyLSTM
    from m2d.models.transformer import MusicTransformer

    if isinstance(model, MusicTransformer):
        return "melody-transformer"
    if isinstance(model, MelodyLSTM):
        return "melody-lstm"
    return None


def graph_spec(model: nn.Module) -> GraphSpec:
    """The inputs, outputs and shapes of ``model``'s exported graph.

    Raises:
        TypeError: not one of the book's exportable models (Transformer, LSTM, U-Net)
    """
    from m2d import audio
    from m2d.models.melody_lm import N_DURATION_CLASSES, N_PITCH
    from m2d.models.unet import UNet

    kind = _melody_kind(model)
    if kind is not None:
        rhythm = bool(model.cfg.rhythm)
        inputs = ("tokens", "durs", "onsets") if rhythm else ("tokens",)
        shapes = {name: ("batch", "T") for name in inputs}
        shapes["logits"] = ("batch", "T", N_PITCH)
        outputs = ["logits"]
        if rhythm:
            outputs.append("dur_logits")
            shapes["dur_logits"] = ("batch", "T", N_DURATION_CLASSES)
        if kind == "melody-transformer":
            outputs.append("attention")
            shapes["attention"] = ("batch", model.cfg.n_layers, model.cfg.n_heads, "T", "T")
        return GraphSpec(kind, inputs, tuple(outputs), shapes)
    if isinstance(model, UNet):
        c = model.config.in_channels
        return GraphSpec("unet", ("x", "t"), ("eps",),
                         {"x": ("batch", c, audio.N_MELS, "width"), "t": ("batch",),
                          "eps": ("batch", c, audio.N_MELS, "width")})
    raise TypeError(f"cannot export {type(model).__name__}: expected a MusicTransformer, a MelodyLSTM "
                    "or a UNet")


class _MelodyGraph(nn.Module):
    """The melody model as trained (causal, temperature 1): logits, duration logits and (for the
    Transformer) the attention weights of every layer stacked as (batch, layers, heads, T, T)."""

    def __init__(self, model: nn.Module, spec: GraphSpec):
        super().__init__()
        self.model, self.spec = model, spec

    def forward(self, tokens: torch.Tensor, durs: torch.Tensor | None = None,
                onsets: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        h, weights = self.model.features(tokens, durs, onsets)
        out = [self.model.head(h)]
        if "dur_logits" in self.spec.outputs:
            out.append(self.model.dur_head(h))
        if "attention" in self.spec.outputs:
            out.append(torch.stack(weights, dim=1))
        return tuple(out)


def _example_inputs(model: nn.Module, spec: GraphSpec) -> tuple[torch.Tensor, ...]:
    """Inputs that trace every branch: batch 2, length 10 (melodies) or width 64 (the U-Net)."""
    from m2d import audio
    from m2d.models.melody_lm import N_DURATION, N_ONSET, VOCAB_IN

    g = torch.Generator().manual_seed(0)
    if spec.kind == "unet":
        c = model.config.in_channels
        return torch.randn(2, c, audio.N_MELS, 64, generator=g), torch.tensor([10, 500])
    highs = {"tokens": VOCAB_IN, "durs": N_DURATION, "onsets": N_ONSET}
    return tuple(torch.randint(0, highs[n], (2, 10), generator=g) for n in spec.inputs)


def _dynamic_shapes(model: nn.Module, spec: GraphSpec) -> tuple[dict, ...]:
    from torch.export import Dim

    batch = Dim("batch", min=1, max=MAX_BATCH)
    if spec.kind == "unet":
        f = model.config.space_to_depth * 2 ** (model.levels - 1)
        width = f * Dim("width_blocks", min=1, max=4096 // f)
        return {0: batch, 3: width}, {0: batch}
    max_len = getattr(model.cfg, "max_len", 4096)
    T = Dim("T", min=2, max=max_len)
    return tuple({0: batch, 1: T} for _ in spec.inputs)


def _name_dims(proto: Any, spec: GraphSpec) -> None:
    """Write the spec's dims into the graph's declared inputs and outputs (the exporter can leave a
    traced size, e.g. the LSTM's T = 10, in an output's declared shape; runtimes then warn)."""
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = spec.shapes.get(value.name)
        if dims is None:
            continue
        shape = value.type.tensor_type.shape
        del shape.dim[:]
        for d in dims:
            entry = shape.dim.add()
            if isinstance(d, str):
                entry.dim_param = d
            else:
                entry.dim_value = int(d)


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's progress lines, warnings and log messages (torchvision missing...)."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo",
                                               "onnxscript")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def to_onnx(model: nn.Module) -> bytes:
    """Export ``model`` to ONNX (uncached; see :func:`onnx_bytes`): ``torch.onnx.export(...,
    dynamo=True)`` with a dynamic batch and sequence length (melody models) or phrase width (U-Net),
    declared shapes named after :func:`graph_spec`, the weights inside the file.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (nn.Module): a trained MusicTransformer, MelodyLSTM or UNet (left in eval mode)
    Returns:
        onnx (bytes): the serialised ModelProto
    Raises:
        TypeError: a model of another kind
    """
    import onnx

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}")
    spec = graph_spec(model)
    model.eval()
    graph = model if spec.kind == "unet" else _MelodyGraph(model, spec).eval()
    with _quiet(), torch.no_grad():
        program = torch.onnx.export(graph, _example_inputs(model, spec), dynamo=True,
                                    input_names=list(spec.inputs), output_names=list(spec.outputs),
                                    dynamic_shapes=_dynamic_shapes(model, spec), verbose=False)
    proto = program.model_proto
    _name_dims(proto, spec)
    onnx.checker.check_model(proto)
    blob = proto.SerializeToString()
    # the weights inside the file: a round trip through onnx.save without external data
    buf = io.BytesIO()
    onnx.save(onnx.load_from_string(blob), buf, save_as_external_data=False)
    return buf.getvalue()


def check_onnx(blob: bytes, spec: GraphSpec) -> None:
    """Raise unless ``blob`` is a valid ONNX model with the spec's inputs and outputs and no external
    data (the cache's schema check).

    Raises:
        ValueError: not ONNX, invalid, other inputs/outputs, or weights outside the file
    """
    import onnx

    try:
        proto = onnx.load_from_string(bytes(blob))
        onnx.checker.check_model(proto)
    except Exception as exc:
        raise ValueError(f"not a valid ONNX model: {exc}") from exc
    names = (tuple(i.name for i in proto.graph.input), tuple(o.name for o in proto.graph.output))
    if names != (spec.inputs, spec.outputs):
        raise ValueError(f"graph has inputs/outputs {names}, expected {(spec.inputs, spec.outputs)}")
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer):
        raise ValueError("the weights must be inside the file (no external data)")


def _code_digest(model: nn.Module) -> str:
    """sha256 of this module's source and of the source of the model's own module."""
    h = hashlib.sha256()
    for obj in (inspect.getmodule(_code_digest), inspect.getmodule(type(model))):
        h.update(Path(inspect.getsourcefile(obj)).read_bytes())
    return h.hexdigest()


def export_key(model: nn.Module) -> dict[str, Any]:
    """What an export depends on: export version, code (this module and the model's), the model's
    configuration, its weights (content hash, :func:`m2d.cache.fingerprint`), torch and onnxscript.

    Raises:
        TypeError: not an exportable model
    """
    import onnxscript

    spec = graph_spec(model)
    config = model.config if spec.kind == "unet" else model.cfg
    return {"version": EXPORT_VERSION, "kind": spec.kind, "code": _code_digest(model),
            # the state dict, not the module: fingerprint() keys a module by its weights only when
            # its class comes from torch itself, and the book's models are subclasses
            "config": asdict(config), "weights": cache.fingerprint(model.state_dict()),
            "torch": torch.__version__, "onnxscript": onnxscript.__version__}


def onnx_bytes(model: nn.Module, name: str | None = None) -> bytes:
    """``model`` as ONNX (:func:`to_onnx`), cached in the m2d cache under ``name`` (default: the
    graph's kind) with the content key :func:`export_key`; a stored file that no longer matches its
    checksum or is not a valid graph of the expected form is exported again.

    Notebook: notebooks/02_attention.ipynb
    Args:
        model (nn.Module): a trained MusicTransformer, MelodyLSTM or UNet
        name (str or None): cache-file prefix
    Returns:
        onnx (bytes)
    Raises:
        TypeError: a model of another kind
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}")
    spec = graph_spec(model)
    key = cache.cache_key(export_key(model))
    return cache.cached(f"onnx-{name or spec.kind}", key, lambda: to_onnx(model),
                        dump=lambda b, p: p.write_bytes(b), load=lambda p: p.read_bytes(),
                        suffix="onnx", check=lambda b: check_onnx(b, spec))


def melody_inputs(pitch_classes: Sequence[int], durations: Sequence[float] | float = 1.0,
                  rhythm: bool = True) -> dict[str, np.ndarray]:
    """The graph inputs (batch 1) for a melody, fed whole as the attention explorer feeds it: the
    start token and every note (one more position than notes: row t >= 1 of the attention holds note
    t - 1, and the logits at the last row are p(x_n | the whole melody)).

    Notebook: notebooks/02_attention.ipynb
    Args:
        pitch_classes (sequence of int): 0..11
        durations (sequence of float or float): quarter notes, one per note (or one for all)
        rhythm (bool): also return ``durs`` and ``onsets`` (a model with rhythm inputs)
    Returns:
        inputs (dict[str, np.ndarray]): int64 arrays of shape (1, n + 1)
    Raises:
        ValueError: no note, pitch classes outside 0..11, durations not positive and finite
    """
    from m2d.models.melody_lm import encode

    pcs = np.asarray(pitch_classes)
    if pcs.ndim != 1 or pcs.size == 0:
        raise ValueError(f"need a non-empty 1-D sequence of pitch classes, got shape {pcs.shape}")
    if not np.issubdtype(pcs.dtype, np.integer):
        raise ValueError(f"pitch classes must be integers, got {pcs.dtype}")
    durs = np.broadcast_to(np.asarray(durations, dtype=float), pcs.shape) if np.ndim(durations) == 0 \
        else np.asarray(durations, dtype=float)
    if durs.shape != pcs.shape:
        raise ValueError(f"{pcs.size} pitch classes but {durs.size} durations")
    enc = encode((np.concatenate([pcs, [0]]), np.concatenate([durs, [1.0]])))
    names = ("tokens", "durs", "onsets") if rhythm else ("tokens",)
    return {n: enc[n][None, :].astype(np.int64) for n in names}


def _check_inputs(spec: GraphSpec, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from m2d import audio
    from m2d.models.melody_lm import N_DURATION, N_ONSET, VOCAB_IN

    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict of arrays, got {type(inputs).__name__}")
    if set(inputs) != set(spec.inputs):
        raise ValueError(f"inputs {sorted(inputs)} do not match the graph's {list(spec.inputs)}")
    out = {}
    for name in spec.inputs:
        a = np.asarray(inputs[name])
        dims = spec.shapes[name]
        if a.ndim != len(dims):
            raise ValueError(f"{name} must have {len(dims)} dimensions {dims}, got shape {a.shape}")
        if a.shape[0] < 1 or a.shape[0] > MAX_BATCH:
            raise ValueError(f"{name}: batch of {a.shape[0]}, expected 1..{MAX_BATCH}")
        if spec.kind == "unet" and name == "x":
            if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
                raise ValueError("x must hold finite floats")
            if a.shape[1:3] != tuple(dims[1:3]) or a.shape[3] % 4 or a.shape[3] == 0:
                raise ValueError(f"x must be (batch, {dims[1]}, {audio.N_MELS}, width) with width a "
                                 f"positive multiple of 4, got {a.shape}")
            out[name] = a.astype(np.float32)
            continue
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must hold integers, got {a.dtype}")
        high = {"tokens": VOCAB_IN, "durs": N_DURATION, "onsets": N_ONSET, "t": 10**6}[name]
        if a.size and (a.min() < 0 or a.max() >= high):
            raise ValueError(f"{name} must lie in 0..{high - 1}, got {a.min()}..{a.max()}")
        if spec.kind != "unet" and a.shape[1] < 1:
            raise ValueError(f"{name}: empty sequence")
        out[name] = a.astype(np.int64)
    if spec.kind != "unet" and len({v.shape for v in out.values()}) != 1:
        raise ValueError(f"inputs of different shapes: { {k: v.shape for k, v in out.items()} }")
    if spec.kind == "unet" and out["t"].shape != out["x"].shape[:1]:
        raise ValueError(f"t must hold one step per patch: {out['t'].shape} vs {out['x'].shape[:1]}")
    return out


_SESSIONS: dict[str, Any] = {}


def run(blob: bytes, spec: GraphSpec, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate an exported graph with Python's onnxruntime (one thread; sessions reused).

    Notebook: notebooks/02_attention.ipynb
    Args:
        blob (bytes): from :func:`onnx_bytes`
        spec (GraphSpec): its :func:`graph_spec`
        inputs (dict): name -> array, as the graph takes them (see :func:`melody_inputs`)
    Returns:
        outputs (dict[str, np.ndarray]): name -> float32 array
    Raises:
        TypeError: inputs not a dict
        ValueError: other input names, ranks, dtypes or values outside the embeddings' ranges
    """
    import onnxruntime as ort

    feeds = _check_inputs(spec, inputs)
    digest = hashlib.sha256(blob).hexdigest()
    if digest not in _SESSIONS:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        _SESSIONS.clear()  # one graph at a time is all the tests and widgets need
        _SESSIONS[digest] = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
    values = _SESSIONS[digest].run(list(spec.outputs), feeds)
    return dict(zip(spec.outputs, values, strict=True))


def torch_outputs(model: nn.Module, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same outputs as :func:`run`, computed by torch (the reference of the tests).

    Raises:
        TypeError, ValueError: as :func:`run`
    """
    spec = graph_spec(model)
    feeds = {k: torch.from_numpy(v) for k, v in _check_inputs(spec, inputs).items()}
    model.eval()
    with torch.no_grad():
        if spec.kind == "unet":
            values = (model(feeds["x"], feeds["t"]),)
        else:
            values = _MelodyGraph(model, spec)(*(feeds[n] for n in spec.inputs))
    return {k: v.numpy() for k, v in zip(spec.outputs, values, strict=True)}


_SCRIPT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def model_script(name: str, blob: bytes) -> str:
    """The script that hands a graph to the page: it sets
    ``window.M2D_MODELS[name]`` to the ONNX file in base64 (on ``file://`` a page can read bytes only
    through what it loads with ``<script src>``). The page inserts it on the reader's first press of
    a live control.

    Args:
        name (str): lower-case letters, digits and '-' (the model's name and key)
        blob (bytes): the ONNX file
    Returns:
        js (str)
    Raises:
        ValueError: a name with other characters
    """
    if not _SCRIPT_NAME.match(name):
        raise ValueError(f"name must be lower-case letters, digits and '-', got {name!r}")
    b64 = base64.b64encode(bytes(blob)).decode()
    return (f"/* m2d live model {name}: ONNX, {len(blob)} bytes, exported by m2d.models.export */\n"
            f'(window.M2D_MODELS = window.M2D_MODELS || {{}})["{name}"] = "{b64}";\n')


def write_model_script(directory: Path | str, name: str, blob: bytes, replaces: str | None = None) -> Path:
    """Write :func:`model_script` as ``<directory>/<name>.js`` (unchanged files are not rewritten).

    Args:
        directory (Path or str): where the book serves its model scripts
        name (str): see :func:`model_script`
        blob (bytes): the ONNX file
        replaces (str or None): also delete the other ``<replaces>-<16 hex digits>.js`` there
            (earlier exports of the same model, under other content keys)
    Returns:
        path (Path)
    """
    text = model_script(name, blob)
    path = Path(directory) / f"{name}.js"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    if replaces is not None:
        old = re.compile(re.escape(replaces) + r"-[0-9a-f]{16}\.js")
        for p in path.parent.glob(f"{replaces}-*.js"):
            if p != path and old.fullmatch(p.name):
                p.unlink(missing_ok=True)
    return path
