// m2d live: what every live widget of the static book shares (issue 18). Plain browser JavaScript,
// no network: assets the build wrote into _static/m2d-live/ are loaded with <script src> (the one
// way a page opened from file:// may read a file), on the reader's first press, once per page.
// Held equal to the Python library by tests/test_live_markov.py.
(function () {
  "use strict";
  const live = (window.m2dLive = window.m2dLive || {});
  if (live.common) return;
  live.common = true;

  // -- assets -------------------------------------------------------------------------------
  // Insert <script src> once per address (memoised for every widget of the page, by URL);
  // resolves when the script has run.
  live.loadScript = function (src) {
    const all = (window.m2dScripts = window.m2dScripts || {});
    if (!all[src]) all[src] = new Promise(function (resolve, reject) {
      const s = document.createElement("script");
      s.src = src;
      s.onload = function () { resolve(); };
      s.onerror = function () { delete all[src]; reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
    return all[src];
  };
  live.contentRoot = function () {
    const root = document.documentElement.dataset.content_root;
    return root === undefined ? null : root;
  };
  // The HTML root that holds the vendored ort/ and models/ (the Chinese edition, zh/, shares the
  // English build's: found through the vendored widgets-config.js every book page loads).
  live.vendorRoot = function (fallback) {
    const vendored = document.querySelector("script[src*='widgets-config.js']");
    if (vendored) return new URL(".", vendored.src).href;
    const r = live.contentRoot();
    return r === null ? fallback : r;
  };
  // Load _static/m2d-live/<name> once; resolves when the script has run.
  live.loadAsset = function (name) {
    const root = live.contentRoot();
    if (root === null) return Promise.reject(new Error("this page is not part of the HTML book"));
    return live.loadScript(root + "_static/m2d-live/" + name);
  };

  // -- words: the Chinese edition ------------------------------------------------------------
  // m2d.i18n.RULES (live.i18nRules, written into the page by the widget) applied in order, as
  // m2d.i18n.translate does; a page whose <html lang> is Chinese shows every widget text so.
  live.lang = function () {
    return /^zh/i.test(document.documentElement.lang || "") ? "zh" : "en";
  };
  let compiled = null;
  live.translate = function (text, lang) {
    if ((lang || live.lang()) !== "zh" || !text || !live.i18nRules) return text;
    if (!compiled) {
      compiled = live.i18nRules.map(function (r) { return [new RegExp(r[0], "g"), r[1]]; });
    }
    const mark = /^(?:[⚠✓] )?/.exec(text)[0];  // a status mark is not part of the sentence
    text = text.slice(mark.length);
    for (const [rx, rep] of compiled) text = text.replace(rx, rep);
    return mark + text;
  };
  // Translate the texts (and accessible names) of a widget now and whenever its script writes
  // new ones (a MutationObserver: the widgets' own code stays in English, as the library's).
  const ATTRS = ["aria-label", "title", "placeholder"];
  function padded(v) {  // keep the spaces around a label's words
    const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(v);
    return m[1] + live.translate(m[2]) + m[3];
  }
  function localizeNode(node) {
    if (node.nodeType === 3) {
      const t = padded(node.nodeValue);
      if (t !== node.nodeValue) node.nodeValue = t;
    } else if (node.nodeType === 1 && node.tagName !== "SCRIPT" && node.tagName !== "STYLE") {
      for (const a of ATTRS) {
        if (!node.hasAttribute(a)) continue;
        const v = node.getAttribute(a), t = padded(v);
        if (t !== v) node.setAttribute(a, t);
      }
      node.childNodes.forEach(localizeNode);
    }
  }
  live.localize = function (root) {
    if (!root || live.lang() !== "zh" || !live.i18nRules) return;
    localizeNode(root);
    new MutationObserver(function (records) {
      for (const r of records) {
        if (r.type === "childList") r.addedNodes.forEach(localizeNode);
        else localizeNode(r.target);
      }
    }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ATTRS });
  };

  // numpy's rounding (half to even), so sample counts match m2d.audio.synthesize
  live.roundEven = function (x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };

  // -- randomness: a seeded PRNG (mulberry32), uniform doubles in [0, 1) ---------------------
  live.rng = function (seed) {
    let a = (Number(seed) >>> 0) ^ 0x9e3779b9;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };

  // -- sound: the note bank (one sample per MIDI note, the SoundFont piano: m2d.live.note_bank) --
  let ctx = null;
  let bank = null;
  live.audioContext = function () {
    if (!ctx) ctx = new (window.AudioContext || window.webkitAudioContext)();
    return ctx;
  };
  live.noteBank = async function () {
    if (bank) return bank;
    await live.loadAsset("notes.js");
    const nb = live.noteBankData;
    const raw = atob(nb.pcm);
    const pcm = new Int16Array(raw.length / 2);
    for (let i = 0; i < pcm.length; i++) {
      const v = raw.charCodeAt(2 * i) | (raw.charCodeAt(2 * i + 1) << 8);
      pcm[i] = v >= 32768 ? v - 65536 : v;
    }
    bank = { sr: nb.sr, low: nb.low, high: nb.high, length: nb.length, pcm: pcm };
    return bank;
  };
  // The melody as one mono buffer: note k sounds for beats[k] * 60 / tempo seconds, cut from its
  // bank sample with a 30 ms release (as m2d.audio.synthesize ends its notes).
  live.renderMelody = async function (midi, beats, tempo) {
    const b = await live.noteBank();
    const sec = beats.map(function (d) { return (d * 60) / tempo; });
    const bounds = [0];
    let t = 0;
    for (const s of sec) { t += s; bounds.push(live.roundEven(t * b.sr)); }
    const y = new Float32Array(bounds[bounds.length - 1]);
    const release = Math.floor(0.03 * b.sr);  // int(0.03 * sr), as synthesize
    for (let k = 0; k < midi.length; k++) {
      let m = midi[k];  // outside the bank's range: the same pitch class an octave in
      while (m < b.low) m += 12;
      while (m > b.high) m -= 12;
      const off = (m - b.low) * b.length;
      const n = Math.min(bounds[k + 1] - bounds[k], b.length);
      for (let i = 0; i < n; i++) {
        const fade = i >= n - release ? (n - i) / release : 1;
        y[bounds[k] + i] = (b.pcm[off + i] / 32767) * fade;
      }
    }
    return { signal: y, sr: b.sr };
  };
  // Play a signal through Web Audio; resolves with the started source (tests read live.lastSound).
  live.play = function (signal, sr) {
    const ac = live.audioContext();
    if (ac.state === "suspended") ac.resume();
    const buf = ac.createBuffer(1, signal.length, sr);
    buf.copyToChannel(signal, 0);
    const src = ac.createBufferSource();
    src.buffer = buf;
    src.connect(ac.destination);
    src.start();
    let peak = 0;
    for (let i = 0; i < signal.length; i++) peak = Math.max(peak, Math.abs(signal[i]));
    live.lastSound = { seconds: signal.length / sr, peak: peak, state: ac.state, started: true };
    return src;
  };

  // -- small DOM helpers ----------------------------------------------------------------------
  // an element with attributes and text, appended to parent
  live.el = function (tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  };
  // a live section's switch: the first press builds the widget (build()), every press shows or
  // hides it
  live.toggle = function (root, cfg, build) {
    const body = root.querySelector(".m2d-live-body");
    const on = root.querySelector(".m2d-live-on");
    let built = false;
    on.addEventListener("click", function () {
      if (!built) { build(body); built = true; }
      body.hidden = !body.hidden;
      on.setAttribute("aria-expanded", String(!body.hidden));
      on.textContent = body.hidden ? cfg.labelOn : cfg.labelOff;
    });
  };

  // -- small SVG helpers ----------------------------------------------------------------------
  const NS = "http://www.w3.org/2000/svg";
  live.svg = function (tag, attrs, parent) {
    const el = document.createElementNS(NS, tag);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(el);
    return el;
  };
  // A viridis-like colour for v in [0, 1] (colour-blind safe, as the book's heatmaps).
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  live.colour = function (v) {
    const x = Math.min(1, Math.max(0, v)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
    const f = x - i;
    const c = VIRIDIS[i].map(function (a, j) { return Math.round(a + f * (VIRIDIS[i + 1][j] - a)); });
    return "rgb(" + c.join(",") + ")";
  };
})();
