// m2d live: spectrograms to sound in the page (issue 18). A port of m2d.spectro's fast inversion:
// unit_to_db -> audio.db_to_power -> |X| = sqrt(max(B+ M, 0)) with the mel pseudo-inverse B+ the
// build writes into _static/m2d-live/spectro.js, then librosa's inverse STFT (Hann window, centred
// frames, window-sum-square normalisation), optionally after Griffin-Lim iterations. Held equal to
// m2d.spectro.fast_mel_to_audio by tests/test_live_diffusion.py. Needs live_common.js.
(function () {
  "use strict";
  const live = window.m2dLive;
  if (live.spectro) return;
  const sp = (live.spectro = {});

  // In-place radix-2 complex FFT of (re, im), length a power of two; inverse without the 1/n.
  function fft(re, im, inverse) {
    const n = re.length;
    for (let i = 1, j = 0; i < n; i++) {
      let bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) {
        let t = re[i]; re[i] = re[j]; re[j] = t;
        t = im[i]; im[i] = im[j]; im[j] = t;
      }
    }
    for (let len = 2; len <= n; len <<= 1) {
      const ang = ((inverse ? 2 : -2) * Math.PI) / len;
      const wr = Math.cos(ang), wi = Math.sin(ang);
      for (let i = 0; i < n; i += len) {
        let cr = 1, ci = 0;
        for (let k = 0; k < len / 2; k++) {
          const a = i + k, b = a + len / 2;
          const xr = re[b] * cr - im[b] * ci, xi = re[b] * ci + im[b] * cr;
          re[b] = re[a] - xr; im[b] = im[a] - xi;
          re[a] += xr; im[a] += xi;
          const t = cr * wr - ci * wi;
          ci = cr * wi + ci * wr;
          cr = t;
        }
      }
    }
  }
  sp.fft = fft;

  // scipy's periodic Hann window (librosa's "hann")
  function hann(n) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    return w;
  }

  // librosa.istft(X, hop_length=hop, n_fft=nFft, length=length): X given as magnitude and phase,
  // arrays [bin][frame]
  sp.istft = function (mag, phase, nFft, hop, length) {
    const bins = nFft / 2 + 1, frames = mag[0].length, half = nFft >> 1;
    const w = hann(nFft);
    const padded = length + 2 * half;
    const nFrames = Math.min(frames, Math.ceil(padded / hop));
    const y = new Float64Array(Math.max(padded, nFft + hop * (nFrames - 1)));
    const wss = new Float64Array(y.length);
    const re = new Float64Array(nFft), im = new Float64Array(nFft);
    for (let t = 0; t < nFrames; t++) {
      for (let k = 0; k < bins; k++) {
        re[k] = mag[k][t] * Math.cos(phase[k][t]);
        im[k] = mag[k][t] * Math.sin(phase[k][t]);
      }
      im[0] = 0;
      im[bins - 1] = 0;
      for (let k = 1; k < bins - 1; k++) { re[nFft - k] = re[k]; im[nFft - k] = -im[k]; }
      fft(re, im, true);
      const off = t * hop;
      for (let i = 0; i < nFft && off + i < y.length; i++) {
        y[off + i] += (re[i] / nFft) * w[i];
        wss[off + i] += w[i] * w[i];
      }
    }
    const tiny = 1.1754943508222875e-38;
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      const j = i + half;
      out[i] = j < y.length ? (wss[j] > tiny ? y[j] / wss[j] : y[j]) : 0;
    }
    return out;
  };

  // librosa.stft(y, n_fft=nFft, hop_length=hop) (centred, zero padding): the phase, [bin][frame]
  sp.stftPhase = function (y, nFft, hop) {
    const half = nFft >> 1, bins = half + 1;
    const padded = new Float64Array(y.length + 2 * half);
    padded.set(y, half);
    const frames = 1 + Math.floor((padded.length - nFft) / hop);
    const w = hann(nFft);
    const ph = [];
    for (let k = 0; k < bins; k++) ph.push(new Float64Array(frames));
    const re = new Float64Array(nFft), im = new Float64Array(nFft);
    for (let t = 0; t < frames; t++) {
      for (let i = 0; i < nFft; i++) { re[i] = padded[t * hop + i] * w[i]; im[i] = 0; }
      fft(re, im, false);
      for (let k = 0; k < bins; k++) ph[k][t] = Math.atan2(im[k], re[k]);
    }
    return ph;
  };

  // the mel pseudo-inverse (n_fft/2 + 1, n_mels), from the shared asset
  let pinv = null;
  sp.melPinv = async function () {
    if (pinv) return pinv;
    await live.loadAsset("spectro.js");
    const d = live.spectroData;
    const raw = atob(d.pinv);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    pinv = { data: new Float32Array(bytes.buffer), bins: d.bins, mels: d.mels, sr: d.sr,
      nFft: d.nFft, hop: d.hop, dbLo: d.dbLo, dbHi: d.dbHi };
    return pinv;
  };

  // spectro.unit_to_audio(x, phase, n_iter): x in model units, array [mel][frame]; phase
  // [bin][frame] or null (uniform random from live.rng(seed)); peak-normalised to 0.8
  sp.unitToAudio = async function (x, phase, nIter, seed) {
    const p = await sp.melPinv();
    const frames = x[0].length;
    const mag = [];
    for (let k = 0; k < p.bins; k++) mag.push(new Float64Array(frames));
    const power = x.map(function (row) {
      return Array.from(row, function (v) {
        const u = Math.min(1, Math.max(-1, v));
        return Math.pow(10, (p.dbLo + ((u + 1) * (p.dbHi - p.dbLo)) / 2) / 10);
      });
    });
    for (let k = 0; k < p.bins; k++) {
      for (let t = 0; t < frames; t++) {
        let s = 0;
        for (let m = 0; m < p.mels; m++) s += p.data[k * p.mels + m] * power[m][t];
        mag[k][t] = Math.sqrt(Math.max(s, 0));
      }
    }
    let ph = phase;
    if (!ph) {
      const rand = live.rng(seed || 0);
      ph = mag.map(function (row) { return Array.from(row, function () { return (rand() * 2 - 1) * Math.PI; }); });
    }
    const length = (frames - 1) * p.hop;
    for (let i = 0; i < (nIter || 0); i++) {
      ph = sp.stftPhase(sp.istft(mag, ph, p.nFft, p.hop, length), p.nFft, p.hop);
    }
    const y = sp.istft(mag, ph, p.nFft, p.hop, length);
    let top = 0;
    for (let i = 0; i < y.length; i++) top = Math.max(top, Math.abs(y[i]));
    if (top > 0) for (let i = 0; i < y.length; i++) y[i] *= 0.8 / top;
    return { signal: y, sr: p.sr };
  };
})();
