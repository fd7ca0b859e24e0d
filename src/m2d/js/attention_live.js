/* The attention explorer's live mode (m2d.widgets.attention.explorer_live_html puts it in the page,
 * with its element id substituted for the placeholder and its configuration in the JSON beside it).
 * On the reader's first press of the switch: the shared runtime script (ONNX Runtime Web, one per
 * book) and the model's script are inserted with <script src> (the only way a file:// page can read
 * bytes), a session is created, and from then on every edit of the melody runs the Transformer in
 * the page: every head's attention map, the next-note distribution and a sampled continuation.
 * State for tests and benchmarks: window.m2dLive.attention["%(id)s"] (m2dLive: the live widgets'
 * shared namespace, see live_common.js). */
(function () {
  "use strict";
  var root = document.getElementById("%(id)s");
  var cfg = JSON.parse(root.querySelector("script.m2d-attn-live-config").textContent);
  var sw = root.querySelector(".m2d-attn-live-switch"), body = root.querySelector(".m2d-attn-live-body"),
      text = root.querySelector(".m2d-attn-live-text"), seedBox = root.querySelector(".m2d-attn-live-seed"),
      err = root.querySelector(".m2d-attn-live-error"), status = root.querySelector(".m2d-attn-live-status"),
      maps = root.querySelector(".m2d-attn-live-maps"), dist = root.querySelector(".m2d-attn-live-dist"),
      distText = root.querySelector(".m2d-attn-live-dist-text"),
      cont = root.querySelector(".m2d-attn-live-continuation");
  var NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
  var live = window.m2dLive = window.m2dLive || {};
  var state = live.attention = live.attention || {};
  var me = state["%(id)s"] = {ready: false, updates: 0, timings: [], error: null};
  var session = null, busy = false, again = false;

  // ------------------------------------------------------------ the melody, as parse_melody reads it
  function pyRepr(s) {
    if (s.indexOf("'") >= 0 && s.indexOf('"') < 0) return '"' + s + '"';
    return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
  }
  function parseNote(tok) {
    var m = /^\s*([A-Ga-g])([#b\u266f\u266d]*)(-?\d+)?\s*$/.exec(tok);
    if (!m) throw new Error(pyRepr(tok) + " is not a note name (expected e.g. C, F#, Bb or C4)");
    var pc = {C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11}[m[1].toUpperCase()];
    for (var i = 0; i < m[2].length; i++) pc += (m[2][i] === "#" || m[2][i] === "\u266f") ? 1 : -1;
    if (m[3] === undefined) return ((pc % 12) + 12) % 12;
    var midi = 12 * (parseInt(m[3], 10) + 1) + pc;
    if (midi < 0 || midi > 127) throw new Error(pyRepr(tok) + " is outside the MIDI range 0..127");
    return midi;
  }
  function nearest(pc, prev) {  // pitch.pcs_to_midi: the octave nearest the previous note, 55..81
    var c = prev + ((((pc - prev + 6) % 12) + 12) % 12) - 6;
    while (c < 55) c += 12;
    while (c > 81) c -= 12;
    return c;
  }
  function parseMelody(s) {
    var toks = s.trim().split(/[\s,;]+/).filter(function (t) { return t.length > 0; });
    if (toks.length < 2) throw new Error("type at least two notes, e.g. C4 D4 E4 G4");
    if (toks.length > cfg.max_notes) throw new Error(toks.length + " notes: at most " + cfg.max_notes + " please");
    var out = [];
    toks.forEach(function (t) {
      var v = parseNote(t);
      out.push(/\d/.test(t) ? v : nearest(v, out.length ? out[out.length - 1] : 60));
    });
    return out;
  }
  function midiName(m) { return NAMES[m % 12] + (Math.floor(m / 12) - 1); }

  // ------------------------------------------------------------ loading on demand
  function start() {
    var t0 = performance.now();
    status.textContent = "loading the runtime and the model…";
    root.dataset.live = "loading";
    return live.loadScript(live.vendorRoot(cfg.root) + cfg.runtime).then(function () { return window.m2dOrt; })
      .then(function (ort) {
        me.runtimeMs = performance.now() - t0;  // the runtime script loaded, its module imported
        return live.loadScript(live.vendorRoot(cfg.root) + cfg.model).then(function () {
          me.modelMs = performance.now() - t0 - me.runtimeMs;
          var b64 = window.M2D_MODELS[cfg.model_name], bin = atob(b64), bytes = new Uint8Array(bin.length);
          for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
          return ort.InferenceSession.create(bytes, {executionProviders: ["wasm"]});
        }).then(function (s) {
          session = s;
          me.ort = ort;
          me.loadMs = performance.now() - t0;
          me.ready = true;
          root.dataset.live = "ready";
          status.textContent = "model ready in " + (me.loadMs / 1000).toFixed(1) + " s";
        });
      });
  }

  // ------------------------------------------------------------ one forward pass
  function feeds(pcs) {  // melody_lm.encode of the melody plus one note (quarter notes throughout)
    var n = pcs.length, T = n + 1, tok = new BigInt64Array(T), dur = new BigInt64Array(T),
        ons = new BigInt64Array(T), ort = me.ort, out = {};
    tok[0] = BigInt(cfg.bos);
    for (var t = 0; t < T; t++) {
      if (t > 0) { tok[t] = BigInt(pcs[t - 1]); dur[t] = BigInt(cfg.quarter_class); }
      ons[t] = BigInt((4 * t) % 16);
    }
    out.tokens = new ort.Tensor("int64", tok, [1, T]);
    if (cfg.inputs.indexOf("durs") >= 0) out.durs = new ort.Tensor("int64", dur, [1, T]);
    if (cfg.inputs.indexOf("onsets") >= 0) out.onsets = new ort.Tensor("int64", ons, [1, T]);
    return out;
  }
  function softmax(z, off, k) {
    var mx = -Infinity, p = new Array(k), s = 0, i;
    for (i = 0; i < k; i++) mx = Math.max(mx, z[off + i]);
    for (i = 0; i < k; i++) { p[i] = Math.exp(z[off + i] - mx); s += p[i]; }
    return p.map(function (v) { return v / s; });
  }

  // ------------------------------------------------------------ drawing
  var VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  var LUT = new Uint8ClampedArray(256 * 3);  // viridis, 256 steps
  for (var q = 0; q < 256; q++) {
    var x = q / 255 * (VIRIDIS.length - 1), i0 = Math.min(VIRIDIS.length - 2, Math.floor(x)), f = x - i0;
    for (var k = 0; k < 3; k++) LUT[3 * q + k] = VIRIDIS[i0][k] + f * (VIRIDIS[i0 + 1][k] - VIRIDIS[i0][k]);
  }
  var scratch = document.createElement("canvas");  // one pixel per cell, scaled up when drawn
  function drawMaps(att, T, labels) {
    var L = cfg.layers, H = cfg.heads, size = 150;
    if (maps.childElementCount !== L * H) {
      maps.textContent = "";
      for (var l = 0; l < L; l++) for (var h = 0; h < H; h++) {
        var fig = document.createElement("figure");
        fig.style.margin = "0";
        var c = document.createElement("canvas");
        c.width = c.height = size;
        c.setAttribute("role", "img");
        var cap = document.createElement("figcaption");
        cap.textContent = "layer " + l + ", head " + h;
        cap.style.fontSize = "12px";
        fig.appendChild(c); fig.appendChild(cap); maps.appendChild(fig);
      }
    }
    scratch.width = scratch.height = T;
    var sctx = scratch.getContext("2d"), img = sctx.createImageData(T, T), px = img.data;
    var canv = maps.querySelectorAll("canvas"), idx = 0;
    for (var l2 = 0; l2 < L; l2++) for (var h2 = 0; h2 < H; h2++, idx++) {
      var off = idx * T * T, mx = 1e-9, i, j;
      for (i = 0; i < T * T; i++) if (att[off + i] > mx) mx = att[off + i];
      for (i = 0; i < T * T; i++) {
        var v = Math.min(255, Math.round(255 * att[off + i] / mx)) * 3;
        px[4 * i] = LUT[v]; px[4 * i + 1] = LUT[v + 1]; px[4 * i + 2] = LUT[v + 2]; px[4 * i + 3] = 255;
      }
      sctx.putImageData(img, 0, 0);
      var ctx = canv[idx].getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, size, size);
      ctx.drawImage(scratch, 0, 0, size, size);
      var last = off + (T - 1) * T, best = 0;
      for (j = 1; j < T; j++) if (att[last + j] > att[last + best]) best = j;
      canv[idx].setAttribute("aria-label", "attention map of layer " + l2 + ", head " + h2 + ": " + T +
        " positions (start token and " + (T - 1) + " notes); the last note attends most to " +
        labels[best] + " at position " + best + " (" + (100 * att[last + best]).toFixed(0) + "%)");
    }
  }
  function drawDist(p) {
    var ctx = dist.getContext("2d"), w = dist.width, h = dist.height, bw = w / 12;
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px sans-serif";
    ctx.textAlign = "center";
    for (var k = 0; k < 12; k++) {
      var bh = (h - 30) * p[k];
      ctx.fillStyle = "#2ca02c";
      ctx.fillRect(k * bw + 3, h - 16 - bh, bw - 6, bh);
      ctx.fillStyle = "#000";
      ctx.fillText(NAMES[k], k * bw + bw / 2, h - 3);
      ctx.fillText((100 * p[k]).toFixed(0), k * bw + bw / 2, h - 19 - bh);
    }
    var order = p.map(function (v, k) { return [v, k]; }).sort(function (a, b) { return b[0] - a[0]; });
    var top = order.slice(0, 3).map(function (e) { return NAMES[e[1]] + " " + (100 * e[0]).toFixed(0) + "%"; });
    var label = "the Transformer's next-note distribution after the melody: most likely " + top.join(", ");
    dist.setAttribute("aria-label", label);
    distText.textContent = "Next note: " + top.join(", ") + " (percent of probability, pitch classes)";
  }

  // ------------------------------------------------------------ an update
  function run(pcs) {
    return session.run(feeds(pcs));
  }
  function update() {
    if (!session) return;
    if (busy) { again = true; return; }
    var t0 = performance.now(), midi;
    try {
      midi = parseMelody(text.value);
    } catch (e) {
      err.textContent = "\u26a0 " + e.message;
      me.error = e.message;
      root.dataset.liveError = e.message;
      return;
    }
    err.textContent = "";
    me.error = null;
    delete root.dataset.liveError;
    busy = true;
    var pcs = midi.map(function (m) { return m % 12; }), T = pcs.length + 1;
    run(pcs).then(function (out) {
      var att = out.attention.data, logits = out.logits.data, t1 = performance.now();
      me.runMs = t1 - t0;
      var probs = softmax(logits, (T - 1) * 12, 12);
      drawMaps(att, T, ["BOS"].concat(midi.map(midiName)));
      drawDist(probs);
      me.midi = midi; me.pcs = pcs; me.T = T;
      me.attention = Array.from(att); me.logits = Array.from(logits); me.probs = probs;
      me.dims = out.attention.dims.map(Number);
      me.mapsMs = performance.now() - t0;  // parse, forward pass, maps and bars drawn
      me.drawMs = performance.now() - t1;
      return sample(pcs, midi);
    }).then(function (notes) {
      me.continuation = notes;
      cont.textContent = "A continuation sampled by the model (seed " + seed() + "): " +
        notes.map(midiName).join(" ");
      me.timings.push(performance.now() - t0);
      me.updates += 1;
      root.dataset.liveUpdates = String(me.updates);
    }).catch(function (e) {
      err.textContent = "\u26a0 the model failed: " + e.message;
      me.error = String(e);
    }).finally(function () {
      busy = false;
      if (again) { again = false; update(); }
    });
  }
  function seed() { var s = parseInt(seedBox.value, 10); return isFinite(s) && s >= 0 ? s : 0; }
  function sample(pcs, midi) {  // x_t ~ p(. | past), left to right, in quarter notes
    var rand = live.rng(seed()), seq = pcs.slice(), notes = [], prev = midi[midi.length - 1];
    function step(k) {
      if (k === cfg.continuation) return Promise.resolve(notes);
      return run(seq).then(function (out) {
        var p = softmax(out.logits.data, seq.length * 12, 12), u = rand(), acc = 0, pick = 11;
        for (var i = 0; i < 12; i++) { acc += p[i]; if (u < acc) { pick = i; break; } }
        seq.push(pick);
        prev = nearest(pick, prev);
        notes.push(prev);
        return step(k + 1);
      });
    }
    return step(0);
  }

  sw.addEventListener("change", function () {
    body.hidden = !sw.checked;
    if (!sw.checked) return;
    if (session) { update(); return; }
    start().then(update, function (e) {
      status.textContent = "the live model could not start (" + e.message +
        "); the precomputed frames above still work";
      root.dataset.live = "failed";
      me.error = String(e);
      sw.checked = false;
      body.hidden = true;
    });
  });
  // the typed melody and the sampled continuation, in quarter notes at 120 bpm, through the book's
  // note bank (live_common.js): the instrument of the precomputed frames' sound
  root.querySelector(".m2d-attn-live-play").addEventListener("click", function () {
    if (!me.midi || !me.continuation) return;
    var notes = me.midi.concat(me.continuation);
    live.renderMelody(notes, notes.map(function () { return 1.0; }), 120)
      .then(function (r) { live.play(r.signal, r.sr); me.played = notes.length; })
      .catch(function (e) { err.textContent = "\u26a0 sound: " + e.message; });
  });
  text.addEventListener("input", update);
  seedBox.addEventListener("input", update);
})();
