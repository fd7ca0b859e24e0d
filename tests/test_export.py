"""m2d.models.export: the ONNX graphs the HTML book runs in the page give torch's numbers.

Small seeded models (exporting the book's own takes the same code path): onnxruntime's logits,
duration logits, attention weights and U-Net noise predictions equal torch's to 1e-5 on several
sequence lengths and phrase widths; the cache serves, keys and rebuilds exports; bad input errors.
"""

from __future__ import annotations

import base64
import re
import warnings

import numpy as np
import pytest
import torch

from m2d import cache
from m2d.models import export
from m2d.models.lstm import LSTMConfig, MelodyLSTM
from m2d.models.transformer import MusicTransformer, TransformerConfig
from m2d.models.unet import UNet, UNetConfig

torch.set_num_threads(1)
ATOL = 1e-5


def _transformer(rhythm: bool = True) -> MusicTransformer:
    torch.manual_seed(0)  # max_rel 6: lengths beyond it exercise the clipped relative distances
    return MusicTransformer(TransformerConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32, max_rel=6,
                                              max_len=128, rhythm=rhythm)).eval()


def _lstm() -> MelodyLSTM:
    torch.manual_seed(1)
    return MelodyLSTM(LSTMConfig(d_embed=8, hidden=16)).eval()


def _unet() -> UNet:
    torch.manual_seed(2)
    net = UNet(UNetConfig(base=8, mults=(1, 2, 4))).eval()
    torch.nn.init.normal_(net.out.weight, std=0.05)  # zero-initialised: eps = 0 would prove nothing
    torch.nn.init.normal_(net.out.bias, std=0.05)
    return net


@pytest.fixture(scope="module")
def transformer_graph():
    model = _transformer()
    return model, export.to_onnx(model)


@pytest.fixture(scope="module")
def lstm_graph():
    model = _lstm()
    return model, export.to_onnx(model)


@pytest.fixture(scope="module")
def unet_graph():
    model = _unet()
    return model, export.to_onnx(model)


def _random_melody(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 12, n), rng.choice([0.5, 1.0, 1.5, 2.0], n)


@pytest.mark.parametrize("n", [1, 2, 7, 20, 60])
def test_transformer_matches_torch(transformer_graph, n):
    model, blob = transformer_graph
    spec = export.graph_spec(model)
    assert spec.outputs == ("logits", "dur_logits", "attention")
    inputs = export.melody_inputs(*_random_melody(n, n))
    got, want = export.run(blob, spec, inputs), export.torch_outputs(model, inputs)
    T = n + 1
    assert got["attention"].shape == (1, 2, 2, T, T)
    assert got["logits"].shape == (1, T, 12) and got["dur_logits"].shape == (1, T, 8)
    for k in spec.outputs:
        np.testing.assert_allclose(got[k], want[k], atol=ATOL, rtol=0, err_msg=k)
    # Theorem 21.3 in the exported graph: causal rows are probability vectors
    A = got["attention"][0]
    np.testing.assert_allclose(A.sum(-1), 1.0, atol=1e-5)
    assert np.all(A[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)


def test_transformer_batch_and_the_explorers_numbers(transformer_graph):
    """A batch of two runs as two single melodies; the graph's attention is what
    transformer.attention_maps (the explorer's call) returns for the same melody."""
    from m2d.models.transformer import attention_maps

    model, blob = transformer_graph
    spec = export.graph_spec(model)
    pcs, durs = _random_melody(9, 3)
    one = export.melody_inputs(pcs, durs)
    two = {k: np.concatenate([v, v]) for k, v in one.items()}
    got = export.run(blob, spec, two)
    np.testing.assert_allclose(got["attention"][0], got["attention"][1], atol=1e-6)
    maps = attention_maps(model, (pcs, durs), append_end=True)
    np.testing.assert_allclose(got["attention"][0], np.stack(maps), atol=ATOL)


@pytest.mark.parametrize("n", [1, 5, 33])
def test_lstm_matches_torch(lstm_graph, n):
    model, blob = lstm_graph
    spec = export.graph_spec(model)
    assert spec.outputs == ("logits", "dur_logits")
    inputs = export.melody_inputs(*_random_melody(n, 10 + n))
    got, want = export.run(blob, spec, inputs), export.torch_outputs(model, inputs)
    for k in spec.outputs:
        np.testing.assert_allclose(got[k], want[k], atol=ATOL, rtol=0, err_msg=k)


@pytest.mark.parametrize("width,batch", [(64, 1), (16, 3), (100, 2)])
def test_unet_matches_torch(unet_graph, width, batch):
    from m2d import audio

    model, blob = unet_graph
    spec = export.graph_spec(model)
    rng = np.random.default_rng(width)
    inputs = {"x": rng.standard_normal((batch, 1, audio.N_MELS, width)).astype(np.float32),
              "t": rng.integers(0, 1000, batch)}
    got, want = export.run(blob, spec, inputs), export.torch_outputs(model, inputs)
    assert got["eps"].shape == (batch, 1, audio.N_MELS, width)
    assert np.abs(want["eps"]).max() > 0.01  # not the zero network
    np.testing.assert_allclose(got["eps"], want["eps"], atol=ATOL, rtol=0)


def test_declared_shapes_are_symbolic(lstm_graph):
    import onnx

    _, blob = lstm_graph
    proto = onnx.load_from_string(blob)
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*proto.graph.input, *proto.graph.output]}
    assert dims["tokens"] == ["batch", "T"] and dims["logits"] == ["batch", "T", 12]
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)


def test_pitch_only_spec():
    spec = export.graph_spec(_transformer(rhythm=False))
    assert spec.inputs == ("tokens",) and spec.outputs == ("logits", "attention")
    assert set(export.melody_inputs([0, 4, 7], rhythm=False)) == {"tokens"}


def test_cache_serves_keys_and_rebuilds(tmp_cache, transformer_graph, monkeypatch):
    model, blob = transformer_graph
    calls = []
    monkeypatch.setattr(export, "to_onnx", lambda m: calls.append(1) or blob)
    assert export.onnx_bytes(model) == blob and len(calls) == 1
    assert export.onnx_bytes(model) == blob and len(calls) == 1  # served from the cache
    (path,) = tmp_cache.glob("onnx-melody-transformer-*.onnx")
    # truncated, with a checksum that matches the truncation: the schema check refuses it
    path.write_bytes(blob[: len(blob) // 2])
    path.with_name(path.name + ".sha256").write_text(cache.sha256_of(path))
    with pytest.warns(UserWarning, match="not served"):
        assert export.onnx_bytes(model) == blob
    assert len(calls) == 2
    # bytes edited behind the checksum's back
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="checksum"):
        assert export.onnx_bytes(model) == blob
    assert len(calls) == 3
    # new weights, new key: exported again, the old file stays valid
    with torch.no_grad():
        model.head.bias.add_(1.0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            export.onnx_bytes(model)
        assert len(calls) == 4 and len(list(tmp_cache.glob("onnx-melody-transformer-*.onnx"))) == 2
    finally:
        with torch.no_grad():
            model.head.bias.sub_(1.0)


def test_key_follows_code_config_and_weights():
    a, b = _transformer(), _transformer()
    assert cache.cache_key(export.export_key(a)) == cache.cache_key(export.export_key(b))
    key = export.export_key(a)
    assert set(key) >= {"code", "config", "weights", "version"}
    with torch.no_grad():
        b.tok.weight[0, 0] += 1e-3
    assert export.export_key(b)["weights"] != key["weights"]


def test_bad_inputs(transformer_graph, unet_graph):
    from m2d import audio

    model, blob = transformer_graph
    spec = export.graph_spec(model)
    good = export.melody_inputs([0, 4, 7], [1, 1, 2])
    with pytest.raises(TypeError, match="torch module"):
        export.to_onnx("model")
    with pytest.raises(TypeError, match="cannot export Linear"):
        export.graph_spec(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="dict"):
        export.run(blob, spec, [good["tokens"]])
    with pytest.raises(ValueError, match="do not match"):
        export.run(blob, spec, {"tokens": good["tokens"]})
    with pytest.raises(ValueError, match="tokens must lie in 0..12"):
        export.run(blob, spec, {**good, "tokens": good["tokens"] + 20})
    with pytest.raises(ValueError, match="integers"):
        export.run(blob, spec, {**good, "durs": good["durs"].astype(float)})
    with pytest.raises(ValueError, match="dimensions"):
        export.run(blob, spec, {**good, "onsets": good["onsets"][0]})
    with pytest.raises(ValueError, match="different shapes"):
        export.run(blob, spec, {**good, "onsets": good["onsets"][:, :2]})
    with pytest.raises(ValueError, match="0..11"):
        export.melody_inputs([0, 12])
    with pytest.raises(ValueError, match="non-empty"):
        export.melody_inputs([])
    with pytest.raises(ValueError, match="2 durations"):
        export.melody_inputs([0, 4, 7], [1.0, 2.0])
    with pytest.raises(ValueError, match="positive"):
        export.melody_inputs([0, 4], [1.0, -1.0])
    unet, ublob = unet_graph
    uspec = export.graph_spec(unet)
    x = np.zeros((1, 1, audio.N_MELS, 30), np.float32)
    with pytest.raises(ValueError, match="multiple of 4"):
        export.run(ublob, uspec, {"x": x, "t": np.array([3])})
    with pytest.raises(ValueError, match="finite"):
        export.run(ublob, uspec, {"x": np.full((1, 1, audio.N_MELS, 8), np.nan, np.float32),
                                  "t": np.array([3])})
    with pytest.raises(ValueError, match="one step per patch"):
        export.run(ublob, uspec, {"x": x[..., :8], "t": np.array([3, 4])})
    with pytest.raises(ValueError, match="not a valid ONNX"):
        export.check_onnx(b"not onnx", spec)
    with pytest.raises(ValueError, match="inputs/outputs"):
        export.check_onnx(ublob, spec)


def test_model_script_carries_the_bytes(tmp_path, lstm_graph):
    _, blob = lstm_graph
    path = export.write_model_script(tmp_path / "models", "melody-lstm-abc123", blob)
    text = path.read_text()
    m = re.search(r'\["melody-lstm-abc123"\] = "([A-Za-z0-9+/=]+)";', text)
    assert m and base64.b64decode(m.group(1)) == blob
    mtime = path.stat().st_mtime_ns
    export.write_model_script(tmp_path / "models", "melody-lstm-abc123", blob)
    assert path.stat().st_mtime_ns == mtime  # unchanged: not rewritten
    with pytest.raises(ValueError, match="lower-case"):
        export.model_script("../evil", blob)
    # a new export of the same model replaces the earlier one, and only that
    keep = tmp_path / "models" / "melody-lstm-small.js"  # not a content key: another model
    keep.write_text("other")
    first = export.write_model_script(tmp_path / "models", "melody-lstm-0123456789abcdef", blob)
    new = export.write_model_script(tmp_path / "models", "melody-lstm-fedcba9876543210", blob,
                                    replaces="melody-lstm")
    assert not first.exists()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == sorted(
        [path.name, keep.name, new.name])


def test_live_explorer_html(tmp_path, transformer_graph, monkeypatch):
    """The attention explorer's live mode: the model script is written beside the book, the page
    part names it and the shared runtime but loads neither (no <script src>: both are inserted on
    the reader's first press), and the typed melody's first value is checked like parse_melody."""
    import json

    from m2d.widgets import attention

    model, blob = transformer_graph
    monkeypatch.setattr(export, "onnx_bytes", lambda m, name=None: blob)
    html = attention.explorer_live_html(model, tmp_path / "models", text="C4 E4 G4")
    (script,) = (tmp_path / "models").glob("music-transformer-*.js")
    cfg = json.loads(re.search(r"<script type='application/json' class='m2d-attn-live-config'>(.*?)</script>",
                               html).group(1))
    assert cfg["model"] == f"models/{script.name}" and cfg["runtime"] == "ort/ort-live.js"
    assert (cfg["layers"], cfg["heads"], cfg["inputs"]) == (2, 2, ["tokens", "durs", "onsets"])
    assert not re.search(r"<script[^>]*\ssrc=", html) and "%(id)s" not in html
    assert "aria-label" in html and "type='checkbox'" in html
    with pytest.raises(ValueError, match="not a note name"):
        attention.explorer_live_html(model, tmp_path, text="C4 H4")
    with pytest.raises(TypeError, match="MusicTransformer"):
        attention.explorer_live_html(_lstm(), tmp_path)
    monkeypatch.delenv("M2D_LIVE_DIR", raising=False)
    monkeypatch.delenv("M2D_HTML_BUILD", raising=False)
    assert attention.live_directory() is None  # a notebook outside the book build: no live mode
    monkeypatch.setenv("M2D_HTML_BUILD", "1")
    (tmp_path / "book" / "notebooks").mkdir(parents=True)
    (tmp_path / "book" / "_config.yml").write_text("title: t\n")
    monkeypatch.chdir(tmp_path / "book" / "notebooks")
    assert attention.live_directory() == (tmp_path / "book" / "_vendor" / "models").resolve()


def test_explorer_static_carries_the_live_mode(bach_split, tmp_path, transformer_graph, monkeypatch):
    """The live mode sits inside the frame player, after the player's own data and script (which
    finds its data as the first JSON script), and the player switches frames only for its own
    controls; without a directory (a notebook outside the book build) there is no live mode."""
    from m2d import ngram
    from m2d.widgets import attention

    model, blob = transformer_graph
    monkeypatch.setattr(export, "onnx_bytes", lambda m, name=None: blob)
    P = ngram.fit_transition_matrix(bach_split["train"], smoothing=0.1)
    page = attention.explorer_static(model, bach_split["test"][:2], P, query=5, layers=[0], heads=[0],
                                     live=tmp_path / "models").data
    player = page.index("class='m2d-frames'")
    data = page.index("<script type='application/json'>", player)
    live = page.index("class='m2d-attn-live'")
    assert player < data < live < page.rindex("</div>")
    assert "e.target.dataset.param !== undefined" in page
    assert list((tmp_path / "models").glob("*.js"))
    monkeypatch.delenv("M2D_LIVE_DIR", raising=False)
    monkeypatch.delenv("M2D_HTML_BUILD", raising=False)
    plain = attention.explorer_static(model, bach_split["test"][:2], P, query=5, layers=[0],
                                      heads=[0]).data
    assert "m2d-attn-live" not in plain and "m2d-frames" in plain
