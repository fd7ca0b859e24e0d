// m2d live: Part III's "generate" button (issue 18). DDIM (m2d.models.sampling.ddim_sample and
// reverse_step: x0_hat from eps_theta, clipped, eps_hat recomputed, then
// x' = sqrt(abar') x0_hat + sqrt(1 - abar' - s^2) eps_hat + s z) with the book's trained U-Net
// running in the page (ONNX Runtime Web, loaded with the model on the first press only), x_T and
// every z drawn in the page (Box-Muller on the seeded PRNG, as live.diffusion.gaussian), the sample
// drawn on a canvas and played (Griffin-Lim in the page, spectro.js). Held equal to the library by
// tests/test_live_ddim.py. Needs live_common.js, spectro.js and schedule_explorer.js.
(function () {
  "use strict";
  const live = window.m2dLive;
  const df = live.diffusion;
  if (df.generator) return;

  // ddim_timesteps(T, steps): np.unique(np.round(np.linspace(1, T, steps)))[::-1]
  df.ddimTimesteps = function (T, steps) {
    const out = [];
    if (steps === 1) out.push(1);
    else {
      const step = (T - 1) / (steps - 1);
      for (let i = 0; i < steps; i++) out.push(live.roundEven(i === steps - 1 ? T : 1 + i * step));
    }
    return Array.from(new Set(out)).sort(function (a, b) { return b - a; });
  };

  // a stream of N(0, 1) draws: Box-Muller on live.rng(seed), one draw per uniform pair
  df.normalStream = function (seed) {
    const rand = live.rng(seed);
    return function (n) {
      const out = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const u = 1 - rand(), v = rand();
        out[j] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
      return out;
    };
  };

  // reverse_step(x, eps, t, tPrev, schedule, clip=[lo, hi], eta) on flat arrays; z: the noise
  // (used only when s > 0, as the library draws it only then)
  df.ddimStep = function (x, eps, t, tPrev, ab, clip, eta, z) {
    const a = ab[t], ap = tPrev > 0 ? ab[tPrev] : 1;
    const sa = Math.sqrt(a), s1a = Math.sqrt(1 - a);
    const s = eta * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    const c0 = Math.sqrt(ap), ce = Math.sqrt(Math.max(1 - ap - s * s, 0));
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let x0 = (x[i] - s1a * eps[i]) / sa;
      let e = eps[i];
      if (clip) {
        x0 = Math.min(clip[1], Math.max(clip[0], x0));
        e = (x[i] - sa * x0) / s1a;
      }
      out[i] = c0 * x0 + ce * e + (s > 0 ? s * z[i] : 0);
    }
    return { x: out, s: s };
  };

  df.generator = function (root, cfg) {
    const H = cfg.mels, W = cfg.width, N = H * W;
    const state = { ready: false, runs: 0, error: null, xT: null, noises: [], taus: null, x0: null,
      timings: [], sampleMs: null, soundMs: null, loadMs: null, cfg: cfg };
    root.m2dState = state;
    let session = null, ort = null, busy = false, ctl = null;
    const el = live.el;
    let starting = null;
    function start() {  // once: concurrent first calls share one session
      if (!starting) starting = load().catch(function (e) { starting = null; throw e; });
      return starting;
    }
    function load() {
      const t0 = performance.now();
      status("loading the runtime and the U-Net…");
      return live.loadScript(live.vendorRoot(cfg.root) + cfg.runtime).then(function () {
        return window.m2dOrt;  // the runtime's module, imported (a promise)
      }).then(function (o) {
        ort = o;
        return live.loadScript(live.vendorRoot(cfg.root) + cfg.model);
      }).then(function () {
        const bin = atob(window.M2D_MODELS[cfg.model_name]), bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        return ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
      }).then(function (s) {
        session = s;
        state.ready = true;
        state.loadMs = performance.now() - t0;
        root.dataset.live = "ready";
        return s;
      });
    }
    // eps_theta(x, t) for one 1 x 1 x H x width patch, as float32
    state.eps = function (x, t, width) {
      const w = width || W;
      return start().then(function () {
        const feeds = { x: new ort.Tensor("float32", Float32Array.from(x), [1, 1, H, w]),
          t: new ort.Tensor("int64", BigInt64Array.from([BigInt(t)]), [1]) };
        return session.run(feeds);
      }).then(function (out) { return out.eps.data; });
    };
    // DDIM from x_T (null: drawn from the seed); resolves with x_0 (flat, row-major [mel][frame])
    state.sample = async function (steps, seed, xT) {
      await start();
      const normal = df.normalStream(seed);
      const taus = df.ddimTimesteps(cfg.T, steps);
      let x = xT ? Float64Array.from(xT) : normal(N);
      state.xT = Array.from(x);
      state.noises = [];
      state.taus = taus;
      const t0 = performance.now();
      for (let i = 0; i < taus.length; i++) {
        const t = taus[i], tPrev = i + 1 < taus.length ? taus[i + 1] : 0;
        const eps = await state.eps(x, t);
        const ap = tPrev > 0 ? cfg.alpha_bar[tPrev] : 1, a = cfg.alpha_bar[t];
        const s = cfg.eta * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
        const z = s > 0 ? normal(N) : null;
        if (z) state.noises.push(Array.from(z));
        x = df.ddimStep(x, eps, t, tPrev, cfg.alpha_bar, cfg.clip, cfg.eta, z).x;
        status("step " + (i + 1) + " of " + taus.length + " (t = " + t + " → " + tPrev + ")");
        if (ctl) ctl.progress.value = (i + 1) / taus.length;
        await new Promise(function (r) { setTimeout(r, 0); });  // let the page repaint
      }
      state.sampleMs = performance.now() - t0;
      state.x0 = Array.from(x);
      return x;
    };
    function status(m) { if (ctl) { ctl.msg.textContent = m; ctl.msg.className = "m2d-live-msg"; } }
    function showError(m) {
      state.error = m;
      if (ctl) { ctl.msg.textContent = "⚠ " + m; ctl.msg.className = "m2d-live-msg m2d-live-error"; }
    }
    function rows(x) {
      const out = [];
      for (let i = 0; i < H; i++) out.push(x.slice(i * W, (i + 1) * W));
      return out;
    }
    function draw(x) {
      const c = ctl.canvas.getContext("2d"), img = c.createImageData(W, H);
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const v = Math.min(1, Math.max(-1, x[i * W + j]));
          const k = Math.round(((v + 1) / 2) * 255), o = ((H - 1 - i) * W + j) * 4;
          img.data[o] = cfg.lut[3 * k]; img.data[o + 1] = cfg.lut[3 * k + 1];
          img.data[o + 2] = cfg.lut[3 * k + 2]; img.data[o + 3] = 255;
        }
      }
      c.putImageData(img, 0, 0);
    }
    async function generate() {
      if (busy) return;
      const steps = Number(ctl.steps.value), seed = Number(ctl.seed.value);
      if (!Number.isInteger(steps) || steps < cfg.min_steps || steps > cfg.max_steps) {
        showError("steps must be a whole number in " + cfg.min_steps + ".." + cfg.max_steps + ", got '" +
          ctl.steps.value + "'");
        return;
      }
      if (!Number.isInteger(seed) || seed < 0) {
        showError("seed must be a whole number ≥ 0, got '" + ctl.seed.value + "'");
        return;
      }
      busy = true;
      ctl.go.disabled = true;
      state.error = null;
      const t0 = performance.now();
      try {
        const x = await state.sample(steps, seed, null);
        draw(x);
        status("sampled in " + (state.sampleMs / 1000).toFixed(1) + " s; turning it into sound…");
        const t1 = performance.now();
        const r = await live.spectro.unitToAudio(rows(x), null, cfg.gl_iter, seed);
        state.soundMs = performance.now() - t1;
        live.play(r.signal, r.sr);
        state.runs += 1;
        state.timings.push(performance.now() - t0);
        root.dataset.liveRuns = String(state.runs);
        ctl.msg.textContent = "✓ " + steps + " DDIM steps (η = " + cfg.eta + ") in " +
          (state.sampleMs / 1000).toFixed(1) + " s, sound (" + cfg.gl_iter + " Griffin-Lim iterations) in " +
          (state.soundMs / 1000).toFixed(1) + " s" + (state.runs === 1 ? " (model loaded in " +
          (state.loadMs / 1000).toFixed(1) + " s)" : "") + ". Press again with another seed for a new one.";
        ctl.msg.className = "m2d-live-msg m2d-live-ok";
        ctl.seed.value = String(seed + 1);
      } catch (e) {
        showError("the model failed: " + e.message);
        root.dataset.live = root.dataset.live === "ready" ? "ready" : "failed";
      } finally {
        busy = false;
        ctl.go.disabled = false;
      }
    }
    function build(body) {
      const bar = el("div", { class: "m2d-live-controls" }, body);
      const lab = function (text, input) { const l = el("label", {}, bar, text + " "); l.appendChild(input); return input; };
      const steps = lab("DDIM steps", el("input", { name: "steps", type: "number", min: cfg.min_steps,
        max: cfg.max_steps, step: 1, value: cfg.default_steps }));
      const seed = lab("seed", el("input", { name: "seed", type: "number", min: 0, step: 1, value: 0 }));
      const go = el("button", { type: "button", name: "generate" }, bar, "▶ generate and play");
      const progress = el("progress", { max: 1, value: 0, "aria-label": "sampling progress" }, bar);
      const msg = el("p", { class: "m2d-live-msg", role: "status", "aria-live": "polite" }, body);
      const canvas = el("canvas", { width: W, height: H, role: "img",
        style: "width: " + Math.round(2.5 * W) + "px; height: 160px; image-rendering: pixelated",
        "aria-label": "the generated spectrogram" }, body);
      el("p", { class: "m2d-live-caption" }, body, "a new " + H + " mel bands × " + cfg.seconds.toFixed(2) +
        " s spectrogram drawn by the trained U-Net in this page (low bands at the bottom)");
      ctl = { steps, seed, go, progress, msg, canvas };
      root.m2dControls = ctl;
      go.addEventListener("click", generate);
    }
    live.toggle(root, cfg, build);
  };
})();
