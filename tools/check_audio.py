"""Listen-check of the built book: every embedded <audio> must be audible and unclipped.

Scans _build/html/**/*.html for base64 WAV/MP3 data URIs (players and frame players), decodes
each with soundfile and prints its length, RMS and peak. Exits non-zero when a clip is shorter than
0.2 s, has RMS below 0.005 (silence), or more than 0.1 % of its samples at full scale (clipping).
Run by `make book` after the build (`-v` lists every clip).
"""

from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

# <audio>/<source> players and the clips inside static frame players (JSON): WAV or MP3 data URIs
SRC = re.compile(r'data:audio/(?:x-wav|wav|mpeg);base64,([A-Za-z0-9+/=]+)')


def main(root: str = "_build/html", verbose: bool = False) -> int:
    bad = 0
    total = 0
    for page in sorted(Path(root).rglob("*.html")):
        clips = SRC.findall(page.read_text(errors="replace"))
        for i, b64 in enumerate(clips):
            y, sr = sf.read(io.BytesIO(base64.b64decode(b64)))
            y = np.atleast_2d(y.T)[0] if y.ndim > 1 else y
            secs, rms = y.size / sr, float(np.sqrt(np.mean(y**2))) if y.size else 0.0
            clipped = float(np.mean(np.abs(y) >= 0.999)) if y.size else 0.0
            ok = secs >= 0.2 and rms >= 0.005 and clipped <= 0.001
            bad += not ok
            total += 1
            if not ok or verbose:
                print(f"{'ok ' if ok else 'BAD'} {page.relative_to(root)} #{i}: {secs:5.2f} s, "
                      f"rms {rms:.3f}, peak {np.abs(y).max(initial=0):.3f}, clipped {clipped:.2%}")
    print(f"{total} audio clips, {bad} failing")
    return 1 if bad else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "-v"]
    sys.exit(main(*args, verbose="-v" in sys.argv))
