"""Bad input, as a careless or curious reader types it: every case must raise ValueError or
TypeError from m2d with a message naming the argument (or the value) at fault — never a numpy or
Python internal error, never a silent wrong answer (issue 15)."""

import numpy as np
import pytest

from m2d import (
    attention,
    audio,
    cache,
    checks,
    corpus,
    markov,
    melody_stats,
    motif,
    ngram,
    notation,
    note_chain,
    pitch,
    rng,
    soundfont,
    spectro,
    static,
    stochastic,
    tables,
)
from m2d import diffusion as df
from m2d import example_chains as ec
from m2d.models import common, ddpm, melody_lm, transformer, unet
from m2d.widgets import attention as attention_widgets
from m2d.widgets._common import parse_matrix

P3 = ec.TOY_CEG
BAD = (ValueError, TypeError)
ONES = np.ones((2, 2))
X = np.ones(4)
AB = np.array([1.0, 0.9, 0.8])


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, format="PNG")
    return buf.getvalue()


_PNG = _tiny_png()
_FRAME = static.Frame(image=_PNG, audio=None)

CASES = [
    # --- checks: the shared argument checks themselves
    ("checks.real bool", lambda: checks.real("x", True), "x must be a real number"),
    ("checks.real complex", lambda: checks.real("x", 1j), "x must be a real number"),
    ("checks.real text", lambda: checks.real("x", "1"), "x must be a real number"),
    ("checks.real None", lambda: checks.real("x", None), "x must be a real number"),
    ("checks.real nan", lambda: checks.real("x", float("nan")), "x must be a finite"),
    ("checks.real inf", lambda: checks.real("x", np.inf), "x must be a finite"),
    ("checks.real below", lambda: checks.real("x", -1, low=0), "x must be >= 0"),
    ("checks.real open", lambda: checks.real("x", 0, low=0, low_open=True), "x must be > 0"),
    ("checks.real interval", lambda: checks.real("x", 2, low=0, high=1), r"x = 2 is outside \[0, 1\]"),
    ("checks.integer float", lambda: checks.integer("n", 3.0), "n must be an integer"),
    ("checks.integer bool", lambda: checks.integer("n", False), "n must be an integer"),
    ("checks.integer low", lambda: checks.integer("n", -2, low=0), "n must be >= 0"),
    ("checks.integer high", lambda: checks.integer("n", 9, high=3), "n must be <= 3"),
    ("checks.real_array complex", lambda: checks.real_array("a", [1j]), "a must be real"),
    ("checks.real_array text", lambda: checks.real_array("a", ["x"]), "a must be numeric"),
    ("checks.real_array ragged", lambda: checks.real_array("a", [[1], [1, 2]]), "a must be a rectangular"),
    ("checks.real_array ndim", lambda: checks.real_array("a", X, ndim=2), "a must have 2"),
    ("checks.real_array nan", lambda: checks.real_array("a", [[1, np.nan]]), r"entry \(0, 1\)"),
    ("checks.state negative", lambda: checks.state("s", -1, 3), "s must be >= 0"),
    ("checks.state float", lambda: checks.state("s", 1.0, 3), "s must be an integer"),
    # --- stochastic matrices
    ("check_stochastic atol nan", lambda: stochastic.check_stochastic(P3, atol=np.nan), "atol"),
    ("check_stochastic atol -1", lambda: stochastic.check_stochastic(P3, atol=-1), "atol"),
    ("check_stochastic atol text", lambda: stochastic.check_stochastic(P3, atol="0"), "atol"),
    ("check_stochastic complex", lambda: stochastic.check_stochastic([[1 + 1j, 0], [0, 1]]), "complex"),
    ("check_stochastic text", lambda: stochastic.check_stochastic([["a", "b"], ["c", "d"]]), "numbers"),
    ("check_stochastic 1-D", lambda: stochastic.check_stochastic([1.0]), "2-D"),
    ("check_stochastic not square", lambda: stochastic.check_stochastic(np.ones((2, 3)) / 3), "square"),
    ("check_stochastic empty", lambda: stochastic.check_stochastic(np.zeros((0, 0))), "empty"),
    ("check_stochastic nan", lambda: stochastic.check_stochastic([[np.nan, 1], [0, 1]]), r"P\[0, 0\]"),
    ("check_stochastic negative", lambda: stochastic.check_stochastic([[-0.5, 1.5], [0, 1]]), r"P\[0, 0\]"),
    ("check_stochastic row sum", lambda: stochastic.check_stochastic([[0.5, 0.6], [0, 1]]), "row 0"),
    ("normalize_rows zero row", lambda: stochastic.normalize_rows([[0, 0], [1, 1]]), "row 0"),
    ("normalize_rows negative", lambda: stochastic.normalize_rows([[1, -1], [1, 1]]), r"W\[0, 1\]"),
    ("normalize_rows inf", lambda: stochastic.normalize_rows([[1, np.inf], [1, 1]]), r"W\[0, 1\]"),
    ("normalize_rows 1-D", lambda: stochastic.normalize_rows([1, 1]), "2-D"),
    # --- Markov chains
    ("MarkovChain bad P", lambda: markov.MarkovChain([[1, 1], [0, 1]]), "row 0"),
    ("n_step negative", lambda: markov.n_step(P3, -1), "n must be"),
    ("n_step float", lambda: markov.n_step(P3, 2.0), "n must be"),
    ("tv_curve start -1", lambda: markov.tv_curve(P3, -1, 3), "start state"),
    ("tv_curve start float", lambda: markov.tv_curve(P3, 1.0, 3), "start state"),
    ("tv_curve start name", lambda: markov.tv_curve(P3, "H", 3), "'H'"),
    ("tv_curve t_max -1", lambda: markov.tv_curve(P3, 0, -1), "t_max"),
    ("tv_curve t_max float", lambda: markov.tv_curve(P3, 0, 2.5), "t_max"),
    ("distance_to_stationarity -2", lambda: markov.distance_to_stationarity(P3, -2), "t_max"),
    ("mixing_time t_max -1", lambda: markov.mixing_time(P3, t_max=-1), "t_max"),
    ("mixing_time eps nan", lambda: markov.mixing_time(P3, eps=np.nan), "eps"),
    ("mixing_time eps 0", lambda: markov.mixing_time(P3, eps=0), "eps"),
    ("mixing_time eps 1", lambda: markov.mixing_time(P3, eps=1), "eps"),
    ("mixing_time eps text", lambda: markov.mixing_time(P3, eps="0.1"), "eps"),
    ("monte_carlo n_chains 0", lambda: markov.monte_carlo_n_step(P3, 2, n_chains=0), "n_chains"),
    ("monte_carlo n_chains float", lambda: markov.monte_carlo_n_step(P3, 2, n_chains=2.5), "n_chains"),
    ("monte_carlo n -1", lambda: markov.monte_carlo_n_step(P3, -1), "n must be"),
    ("sample_melody length 0", lambda: markov.sample_melody(P3, 0), "length"),
    ("sample_melody length float", lambda: markov.sample_melody(P3, 2.5), "length"),
    ("sample_melody start 3", lambda: markov.sample_melody(P3, 4, start=3), "start state"),
    ("sample_melody rng text", lambda: markov.sample_melody(P3, 4, rng="abc"), "rng"),
    ("sample_melody rng -1", lambda: markov.sample_melody(P3, 4, rng=-1), "rng"),
    ("stationary reducible",
     lambda: markov.stationary_distribution(ec.reducible_example()), "reducible|unique|closed"),
    ("distribution_after bad mu", lambda: markov.distribution_after([0.5, 0.6, 0], P3, 2), "distribution"),
    ("distribution_after wrong size", lambda: markov.distribution_after([1, 0], P3, 2), "shape"),
    ("rng as_generator float", lambda: rng.as_generator(1.5), "rng"),
    ("rng torch_seed text", lambda: rng.torch_seed("x"), "rng"),
    # --- attention
    ("softmax nan", lambda: attention.softmax([np.nan, 1.0]), "NaN"),
    ("softmax +inf", lambda: attention.softmax([np.inf, 1.0]), r"\+inf"),
    ("softmax all -inf", lambda: attention.softmax([-np.inf, -np.inf]), "fully masked"),
    ("softmax complex", lambda: attention.softmax([1j, 1.0]), "x must be real"),
    ("softmax text", lambda: attention.softmax(["a"]), "x must be numeric"),
    ("sdpa overflow", lambda: attention.scaled_dot_product_attention(
        np.full((2, 2), 1e200), np.full((2, 2), 1e200), ONES), "overflow"),
    ("sdpa inf Q", lambda: attention.scaled_dot_product_attention(
        np.array([[np.inf, 0.0]]), ONES, ONES), "Q contains"),
    ("sdpa nan V", lambda: attention.scaled_dot_product_attention(
        ONES, ONES, np.array([[np.nan, 0], [0, 0]])), "V contains"),
    ("sdpa scale nan",
     lambda: attention.scaled_dot_product_attention(ONES, ONES, ONES, scale=np.nan), "scale"),
    ("sdpa complex", lambda: attention.scaled_dot_product_attention(ONES * 1j, ONES, ONES), "Q must be real"),
    ("sdpa 1-D", lambda: attention.scaled_dot_product_attention(X, ONES, ONES), "Q must have"),
    ("sdpa d_k mismatch", lambda: attention.scaled_dot_product_attention(np.ones((2, 3)), ONES, ONES), "d_k"),
    ("sdpa tokens mismatch",
     lambda: attention.scaled_dot_product_attention(ONES, ONES, np.ones((3, 2))), "tokens"),
    ("sdpa mask not bool",
     lambda: attention.scaled_dot_product_attention(ONES, ONES, ONES, mask=ONES), "mask"),
    # --- diffusion
    ("linear schedule decreasing",
     lambda: df.linear_beta_schedule(10, 0.02, 1e-4), "beta_start = 0.02 exceeds"),
    ("linear schedule nan", lambda: df.linear_beta_schedule(10, np.nan, 0.02), "beta_start"),
    ("linear schedule beta 1", lambda: df.linear_beta_schedule(10, 1e-4, 1.0), "beta_end"),
    ("linear schedule T 0", lambda: df.linear_beta_schedule(0), "T must be"),
    ("linear schedule T float", lambda: df.linear_beta_schedule(10.0), "T must be"),
    ("check_betas 2-D", lambda: df.check_betas(np.full((2, 2), 0.1)), "1-D"),
    ("check_betas empty", lambda: df.check_betas([]), "empty"),
    ("check_betas 0", lambda: df.check_betas([0.1, 0.0]), "beta_2"),
    ("check_betas complex", lambda: df.check_betas([0.1j]), "betas must be real"),
    ("make_schedule kind", lambda: df.make_schedule("sigmoid", 10), "'sigmoid'"),
    ("q_sample alpha_bar nan", lambda: df.q_sample(X, 1, np.array([1.0, np.nan]), X), r"alpha_bar\[1\]"),
    ("q_sample alpha_bar > 1", lambda: df.q_sample(X, 1, np.array([1.0, 1.5]), X), r"alpha_bar\[1\]"),
    ("q_sample alpha_bar 0", lambda: df.q_sample(X, 1, np.array([1.0, 0.0]), X), r"alpha_bar\[1\]"),
    ("q_sample alpha_bar empty", lambda: df.q_sample(X, 0, np.array([]), X), "alpha_bar"),
    ("q_sample t too big", lambda: df.q_sample(X, 5, AB, X), "t must lie"),
    ("q_sample t float", lambda: df.q_sample(X, 1.0, AB, X), "t must be integer"),
    ("q_sample noise shape", lambda: df.q_sample(X, 1, AB, np.ones(3)), "noise shape"),
    ("gaussian_kl var nan", lambda: df.gaussian_kl(0, np.nan, 0, 1), "var1"),
    ("gaussian_kl var 0", lambda: df.gaussian_kl(0, 1, 0, 0), "var2"),
    ("gaussian_kl mean inf", lambda: df.gaussian_kl(np.inf, 1, 0, 1), "mean1"),
    ("gaussian_kl complex", lambda: df.gaussian_kl(0, 1j, 0, 1), "var1 must be real"),
    ("snr out of range", lambda: df.snr(np.array([1.0, 1.2])), "alpha_bar"),
    ("NoiseSchedule bad", lambda: df.NoiseSchedule([0.1, 2.0]), "beta_2"),
    # --- pitch, notes, motifs
    ("parse_note bad", lambda: pitch.parse_note("H4"), "'H4'"),
    ("parse_note out of MIDI", lambda: pitch.parse_note("C10"), "'C10'"),
    ("pcs_to_midi narrow", lambda: pitch.pcs_to_midi([0, 4], low=60, high=65), "octave"),
    ("note_durations count", lambda: pitch.note_durations([60, 62], [1, 1, 1]), "2 pitches but 3"),
    ("duration_class 0", lambda: pitch.duration_class([1.0, 0.0]), "entry 1"),
    ("duration_class nan", lambda: pitch.duration_class(np.nan), "nan"),
    ("parse_motif empty", lambda: motif.parse_motif(""), "empty"),
    ("parse_motif bad value", lambda: motif.parse_motif("C4/3"), "'C4/3'"),
    ("parse_motif bad note", lambda: motif.parse_motif("C4/8 Q4/8"), "'Q4/8'"),
    ("parse_motif type", lambda: motif.parse_motif(60), "text"),
    ("format_motif value", lambda: motif.format_motif([60], [0.3]), "0.3"),
    ("NoteChain smoothing",
     lambda: note_chain.NoteChain.fit([([60, 62], [1, 1])], smoothing=np.nan), "smoothing"),
    ("NoteChain empty", lambda: note_chain.NoteChain.fit([]), "empty"),
    ("NoteChain pitches float", lambda: note_chain.NoteChain.fit([([60.5, 62], [1, 1])]), "MIDI integers"),
    ("NoteChain start range",
     lambda: note_chain.NoteChain.fit([([60, 62], [1, 1])]).sample(4, (70, 1.0)), "outside"),
    ("melody_stats empty", lambda: melody_stats.summary([]), "empty"),
    ("melody_stats ragged", lambda: melody_stats.ranges([([60, 62], [1])]), "melody 0"),
    # --- sound and notation
    ("synthesize empty", lambda: audio.synthesize([], 1.0), "empty"),
    ("synthesize pitch 200", lambda: audio.synthesize([60, 200], 0.5), "0..127"),
    ("synthesize pitch nan", lambda: audio.synthesize([60, np.nan], 0.5), "0..127"),
    ("synthesize duration 0", lambda: audio.synthesize([60, 62], [0.5, 0.0]), "note 1"),
    ("synthesize duration nan", lambda: audio.synthesize([60, 62], [np.nan, 1]), "note 0"),
    ("synthesize tempo 0", lambda: audio.synthesize([60], 0.5, tempo=0), "tempo"),
    ("synthesize tempo nan", lambda: audio.synthesize([60], 0.5, tempo=np.nan), "tempo"),
    ("synthesize peak 2", lambda: audio.synthesize([60], 0.5, peak=2), "peak"),
    ("encode_mp3 clipped", lambda: audio.encode_mp3(np.full(100, 2.0), audio.SR), "outside|\\[-1, 1\\]"),
    ("melody_score empty", lambda: notation.melody_score([], 1.0), "non-empty"),
    ("melody_score pitch 128", lambda: notation.melody_score([60, 128], 1.0), "0..127"),
    ("melody_score duration 0", lambda: notation.melody_score([60, 62], [1, 0]), "note 1"),
    ("melody_score key", lambda: notation.melody_score([60], 1.0, key="Z"), "'Z'"),
    ("melody_score metre", lambda: notation.melody_score([60], 1.0, time_signature="x"), "'x'"),
    ("melody_score instrument", lambda: notation.melody_score([60], 1.0, instrument="Kazoo9"), "'Kazoo9'"),
    ("sections_score empty", lambda: notation.sections_score([]), "empty"),
    ("save suffix", lambda: notation.save(notation.melody_score([60], 1.0), "/tmp/x.pdf"), "'x.pdf'"),
    ("render_melody tempo", lambda: soundfont.render_melody([60], 1.0, tempo=-1), "tempo"),
    ("render_melody counts", lambda: soundfont.render_melody([60, 62], [1, 1, 1]), "2 pitches but 3"),
    # --- cache
    ("cache_path escape", lambda: cache.cache_path("../escape", "k"), "letters, digits"),
    ("cache_path slash", lambda: cache.cache_path("a/b", "k"), "letters, digits"),
    ("cache_path key", lambda: cache.cache_path("a", "../k"), "cache key"),
    ("cached_arrays name", lambda: cache.cached_arrays("a/b", [1], dict), "letters, digits"),
    # --- spectrogram patches
    ("load_patches split", lambda: spectro.load_patches("dev"), "'dev'"),
    ("quantize bits", lambda: spectro.quantize(np.zeros(3), bits=0), "bits"),
    ("quantize nan", lambda: spectro.quantize(np.array([np.nan])), "NaN"),
    ("frechet shapes", lambda: spectro.frechet_distance(np.ones((5, 3)), np.ones((5, 4))), "same d"),
    ("cut_patches frames", lambda: spectro.cut_patches(np.zeros((64, 100)), 0, 1), "frames"),
    ("seam_jump frame", lambda: spectro.seam_jump(np.zeros((2, 64, 64)), 99), "frame"),
    # --- models
    ("TransformerConfig heads", lambda: transformer.MusicTransformer(
        transformer.TransformerConfig(d_model=10, n_heads=3)), "n_heads"),
    ("encode pitch class 12", lambda: melody_lm.encode(np.array([0, 12])), "0..11"),
    ("encode empty", lambda: melody_lm.encode(np.array([], dtype=int)), "non-empty"),
    ("encode duration 0", lambda: melody_lm.encode((np.array([0, 2]), np.array([1.0, 0.0]))),
     "durations"),
    ("motif_return_rate n", lambda: melody_lm.motif_return_rate([0, 1, 2, 3], n=0), "n and min_gap"),
    ("warmup_cosine warmup", lambda: common.warmup_cosine(5, -1, 10), "warmup_steps"),
    ("warmup_cosine total", lambda: common.warmup_cosine(5, 10, 3), "total_steps"),
    ("n_parameters not a module", lambda: common.n_parameters("x"), "torch.nn.Module"),
    ("DDPMConfig steps", lambda: ddpm.DDPMConfig(steps=0), "steps"),
    ("DDPMConfig lr", lambda: ddpm.DDPMConfig(lr=np.nan), "lr"),
    ("DDPMConfig ema", lambda: ddpm.DDPMConfig(ema=1.0), "ema"),
    ("DDPMConfig decreasing", lambda: ddpm.DDPMConfig(beta_start=0.02, beta_end=1e-4), "exceeds"),
    ("UNetConfig base", lambda: unet.UNetConfig(base=0), "base"),
    ("UNetConfig mults", lambda: unet.UNetConfig(mults=(1, 0)), "mults"),
    # --- widgets' parsers
    ("parse_melody one note", lambda: attention_widgets.parse_melody("C4"), "at least two"),
    ("parse_melody bad note", lambda: attention_widgets.parse_melody("C4 X9"), "'X9'"),
    ("parse_matrix ragged", lambda: parse_matrix("1 0\n0"), "different lengths"),
    ("parse_matrix text", lambda: parse_matrix("a b\nc d"), "'a'"),
    # --- corpus, tables
    ("load_melodies source", lambda: corpus.load_melodies("mozart"), "'mozart'"),
    ("load_melodies essen string",
     lambda: corpus.load_melodies("essen", essen_files="kinder0"), "essen_files"),
    ("markdown_table row", lambda: tables.markdown_table(["a", "b"], [["1"]]), "row"),
    ("markdown_table header", lambda: tables.markdown_table([], []), "header"),
    # --- counted chains: no NaN pseudo-count, no state truncated to another one
    ("fit_transition_matrix smoothing nan",
     lambda: ngram.fit_transition_matrix([[0, 1, 2]], n_states=3, smoothing=np.nan), "smoothing"),
    ("fit_transition_matrix float state",
     lambda: ngram.fit_transition_matrix([[0, 1.5, 2]], n_states=3), "entry 1 is 1.5"),
    ("fit_transition_matrix order float",
     lambda: ngram.fit_transition_matrix([[0, 1, 2]], n_states=3, order=1.0), "order"),
    ("NGramModel alpha inf",
     lambda: ngram.NGramModel(3, 1, np.inf).fit([[0, 1, 2]]), "smoothing alpha"),
    ("as_state_sequences out of range",
     lambda: ngram.as_state_sequences([[0, 1], [0, 7]], 3), "sequence 1.*entry 1 is 7"),
    # --- static frame players
    ("compact_png not png", lambda: static.compact_png(b"GIF89a...."), "not a PNG"),
    ("compact_png text", lambda: static.compact_png("x.png"), "png must be the bytes"),
    ("compact_png colors", lambda: static.compact_png(_PNG, colors=1000), "colors"),
    ("frame_player no params", lambda: static.frame_player_html({}, {}), "params"),
    ("frame_player empty grid", lambda: static.frame_player_html({"k": []}, {}), "'k'"),
    ("frame_player alike values",
     lambda: static.frame_player_html({"k": [1, "1"]}, {}), "print alike"),
    ("frame_player unknown slider",
     lambda: static.frame_player_html({"k": [1]}, {(1,): _FRAME}, sliders=["n"]), "'n'"),
    ("frame_player not a frame",
     lambda: static.frame_player_html({"k": [1]}, {(1,): b"png"}), "Frame"),
    ("frame_player missing frame",
     lambda: static.frame_player_html({"k": [1, 2]}, {(1,): _FRAME}), "no frame"),
]


@pytest.mark.parametrize("call, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_message(call, match):
    with pytest.raises(BAD, match=match):
        call()


def test_the_suite_is_large_enough():
    assert len({c[0] for c in CASES}) == len(CASES) >= 150
