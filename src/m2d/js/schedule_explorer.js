// m2d live: Part III's noise-schedule explorer in the reader's browser (issue 18). A port of
// m2d.diffusion's linear and cosine schedules, alpha_bar and q_sample (Theorem 21.4:
// x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps), with eps drawn in the page, and the
// explorer's validation messages; the sound is m2d.spectro's fast inversion with the clean phase
// (spectro.js). Held equal to the library by tests/test_live_diffusion.py. Needs live_common.js.
(function () {
  "use strict";
  const live = window.m2dLive;
  if (live.diffusion) return;
  const df = (live.diffusion = {});

  // numpy.linspace(b0, b1, T)
  df.linear = function (T, b0, b1) {
    if (T === 1) return [b0];
    const step = (b1 - b0) / (T - 1);
    const out = [];
    for (let i = 0; i < T; i++) out.push(b0 + i * step);
    out[T - 1] = b1;
    return out;
  };
  // cosine_beta_schedule(T, s=0.008, max_beta=0.999)
  df.cosine = function (T) {
    const s = 0.008, f = [];
    for (let i = 0; i <= T; i++) f.push(Math.pow(Math.cos(((i / T + s) / (1 + s)) * Math.PI / 2), 2));
    const ab = f.map(function (v) { return v / f[0]; });
    const out = [];
    for (let i = 1; i <= T; i++) out.push(Math.min(1 - ab[i] / ab[i - 1], 0.999));
    return out;
  };
  // alpha_bar_t = prod_{s <= t} (1 - beta_s), t = 0..T
  df.alphaBar = function (betas) {
    const ab = [1];
    let c = 1;
    for (const b of betas) { c *= 1 - b; ab.push(c); }
    return ab;
  };
  df.qSample = function (x0, t, ab, eps) {
    const a = Math.sqrt(ab[t]), b = Math.sqrt(1 - ab[t]);
    return x0.map(function (row, i) {
      return Array.from(row, function (v, j) { return a * v + b * eps[i][j]; });
    });
  };
  // standard normal draws (Box-Muller on the seeded PRNG), shaped like x
  df.gaussian = function (rows, cols, seed) {
    const rand = live.rng(seed);
    const out = [];
    for (let i = 0; i < rows; i++) {
      const r = new Float64Array(cols);
      for (let j = 0; j < cols; j++) {
        const u = 1 - rand(), v = rand();
        r[j] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
      out.push(r);
    }
    return out;
  };
  function g3(v) { return Number(v.toPrecision(3)).toString(); }
  // NoiseScheduleExplorer.settings_error
  df.settingsError = function (kind, b1, bT, T, t) {
    if (kind === "linear") {
      for (const [name, v] of [["β₁", b1], ["β_T", bT]]) {
        if (!(v > 0 && v < 1)) {
          return name + " = " + g3(v) + " is outside (0, 1): a step must keep some signal and add noise.";
        }
      }
      if (b1 > bT) {
        return "β₁ = " + g3(b1) + " exceeds β_T = " + g3(bT) +
          ": the noise schedule must increase (Definition 21.8).";
      }
    }
    if (T < 1) return "T = " + T + ": need at least one step.";
    if (!(t >= 0 && t <= T)) return "t = " + t + " is outside 0..T = 0.." + T + ": lower t or raise T.";
    return "";
  };

  function decodeFloat32(b64) {
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  df.explorer = function (root, cfg) {
    const body = root.querySelector(".m2d-live-body");
    const flat = decodeFloat32(cfg.x0);
    const x0 = [];
    for (let i = 0; i < cfg.mels; i++) x0.push(flat.subarray(i * cfg.frames, (i + 1) * cfg.frames));
    const rawPhase = atob(cfg.phase);
    const phase = [];
    for (let k = 0; k < cfg.bins; k++) {
      const row = new Float64Array(cfg.frames);
      for (let t = 0; t < cfg.frames; t++) {
        row[t] = ((rawPhase.charCodeAt(k * cfg.frames + t) + 0.5) / 256) * 2 * Math.PI - Math.PI;
      }
      phase.push(row);
    }
    const state = { x0: x0, phase: phase, eps: null, xt: null, alphaBar: null, error: null, t: null };
    root.m2dState = state;
    let ctl = null;

    const el = live.el;
    function build() {
      const bar = el("div", { class: "m2d-live-controls" }, body);
      const lab = function (text, input) { const l = el("label", {}, bar, text + " "); l.appendChild(input); return input; };
      const kind = lab("schedule", el("select", { name: "schedule" }));
      ["linear", "cosine"].forEach(function (k) { el("option", { value: k }, kind, k); });
      const b1 = lab("β₁", el("input", { name: "beta_1", type: "text", size: 8, value: "0.0001" }));
      const bT = lab("β_T", el("input", { name: "beta_T", type: "text", size: 8, value: "0.02" }));
      const T = lab("T", el("input", { name: "T", type: "number", min: 1, max: 5000, step: 1, value: 1000 }));
      const t = lab("t", el("input", { name: "t", type: "range", min: 0, max: 1000, step: 1, value: 250 }));
      const tOut = el("output", { for: "t" }, bar, "250");
      const seed = lab("noise seed", el("input", { name: "seed", type: "number", min: 0, step: 1, value: 0 }));
      const play = el("button", { type: "button", name: "play" }, bar, "▶ play x_t");
      const msg = el("p", { class: "m2d-live-msg", role: "status", "aria-live": "polite" }, body);
      const pics = el("div", { class: "m2d-live-pics" }, body);
      const curves = live.svg("svg", { viewBox: "0 0 300 160", width: 300, height: 160, role: "img",
        "aria-label": "signal and noise power against t" }, pics);
      const canvas = el("canvas", { width: cfg.frames, height: cfg.mels, role: "img",
        style: "width: 520px; height: 160px; image-rendering: pixelated",
        "aria-label": "the noised spectrogram x_t" }, pics);
      el("p", { class: "m2d-live-caption" }, body, "right: x_t, " + cfg.mels + " mel bands (low at the bottom) × " +
        cfg.seconds.toFixed(1) + " s, colour from −1 (dark) to 1 (light)");
      ctl = { kind, b1, bT, T, t, tOut, seed, play, msg, curves, canvas };
      root.m2dControls = ctl;
      [kind, b1, bT, T, seed].forEach(function (w) { w.addEventListener("change", update); });
      t.addEventListener("input", update);
      play.addEventListener("click", function () {
        if (!state.xt) return;
        live.spectro.unitToAudio(state.xt, state.phase, 0).then(function (r) { live.play(r.signal, r.sr); })
          .catch(function (e) { showError("sound: " + e.message); });
      });
      update();
    }
    function showError(m) {
      state.error = m;
      ctl.msg.textContent = "⚠ " + m;
      ctl.msg.className = "m2d-live-msg m2d-live-error";
    }
    let epsSeed = null;
    function update() {
      const kind = ctl.kind.value, b1 = Number(ctl.b1.value), bT = Number(ctl.bT.value);
      const T = Number(ctl.T.value), t = Number(ctl.t.value);
      ctl.b1.disabled = ctl.bT.disabled = kind === "cosine";
      ctl.t.max = String(Math.max(1, T));
      ctl.tOut.textContent = String(t);
      const seed = Number(ctl.seed.value);
      let problem = "";
      if (!Number.isInteger(T)) problem = "T = " + ctl.T.value + " is not a whole number.";
      else if (!Number.isInteger(seed) || seed < 0) problem = "noise seed must be a whole number ≥ 0, got '" + ctl.seed.value + "'";
      else problem = df.settingsError(kind, b1, bT, T, t);
      if (problem) { showError(problem); return; }
      const betas = kind === "linear" ? df.linear(T, b1, bT) : df.cosine(T);
      const ab = df.alphaBar(betas);
      if (epsSeed !== seed) { state.eps = df.gaussian(cfg.mels, cfg.frames, seed); epsSeed = seed; }
      state.alphaBar = ab;
      state.t = t;
      state.xt = df.qSample(state.x0, t, ab, state.eps);
      state.error = null;
      ctl.msg.textContent = "✓ ᾱ_t = " + ab[t].toFixed(4) + ": x_t keeps " + (100 * Math.sqrt(ab[t])).toFixed(1) +
        "% of the spectrogram's amplitude; noise std " + Math.sqrt(1 - ab[t]).toFixed(3) + ".";
      ctl.msg.className = "m2d-live-msg m2d-live-ok";
      drawCurves(ab, t);
      drawImage(state.xt);
    }
    function drawCurves(ab, t) {
      const svg = ctl.curves;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const T = ab.length - 1, X = function (s) { return 30 + (260 * s) / Math.max(T, 1); };
      const Y = function (v) { return 140 - 120 * v; };
      live.svg("text", { x: 150, y: 12, "text-anchor": "middle", "font-size": 11 }, svg).textContent = "signal and noise power";
      const line = function (f, colour, name) {
        const pts = ab.map(function (v, s) { return X(s).toFixed(1) + "," + Y(f(v)).toFixed(1); }).join(" ");
        live.svg("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 1.5 }, svg);
        live.svg("text", { x: 240, y: name === "ᾱ_t" ? 30 : 44, fill: colour, "font-size": 10 }, svg).textContent = name;
      };
      line(function (v) { return v; }, "#1f77b4", "ᾱ_t");
      line(function (v) { return 1 - v; }, "#d95f02", "1 − ᾱ_t");
      live.svg("line", { x1: X(t), x2: X(t), y1: 20, y2: 140, stroke: "#000", "stroke-dasharray": "4 3" }, svg);
      live.svg("text", { x: 160, y: 156, "text-anchor": "middle", "font-size": 10 }, svg).textContent = "t (0.." + T + ")";
    }
    function drawImage(x) {
      const c = ctl.canvas.getContext("2d");
      const img = c.createImageData(cfg.frames, cfg.mels);
      for (let i = 0; i < cfg.mels; i++) {
        for (let j = 0; j < cfg.frames; j++) {
          const v = Math.min(1, Math.max(-1, x[i][j]));
          const k = Math.round(((v + 1) / 2) * 255);
          const o = ((cfg.mels - 1 - i) * cfg.frames + j) * 4;  // low frequencies at the bottom
          img.data[o] = cfg.lut[3 * k]; img.data[o + 1] = cfg.lut[3 * k + 1]; img.data[o + 2] = cfg.lut[3 * k + 2];
          img.data[o + 3] = 255;
        }
      }
      c.putImageData(img, 0, 0);
    }

    live.toggle(root, cfg, build);
  };
})();
