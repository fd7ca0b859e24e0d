"""Test doubles and checks shared by several test files (imported as ``from helpers import ...``;
pytest puts this folder on the import path)."""

import numpy as np
import torch

from m2d import diffusion as df
from m2d.models import melody_lm as ml


class PointMass(torch.nn.Module):
    """The exact optimal noise predictor for data concentrated at one value c:
    eps*(x_t, t) = (x_t - sqrt(abar_t) c) / sqrt(1 - abar_t). Counts its calls."""

    def __init__(self, betas, c):
        super().__init__()
        self.ab = torch.as_tensor(df.alpha_bars(betas), dtype=torch.float32)
        self.c = c
        self.calls = 0

    def forward(self, x, t):
        self.calls += 1
        a = self.ab[t].view(-1, 1, 1, 1)
        return (x - a.sqrt() * self.c) / (1 - a).sqrt()


def assert_causal(model) -> None:
    """Changing a melody from note 12 on leaves the outputs at input positions 0..12 unchanged
    (input position t holds note t-1) and changes later ones: the model does not see the future."""
    rng = np.random.default_rng(0)
    pcs, durs = rng.integers(0, 12, 20), rng.choice([0.5, 1.0, 2.0], 20)
    b1 = ml.collate([ml.encode((pcs, durs))])
    pcs2, durs2 = pcs.copy(), durs.copy()
    pcs2[12:] = (pcs2[12:] + 5) % 12
    durs2[12:] = 4.0
    b2 = ml.collate([ml.encode((pcs2, durs2))])
    with torch.no_grad():
        y1 = model(b1["tokens"], b1["durs"], b1["onsets"])
        y2 = model(b2["tokens"], b2["durs"], b2["onsets"])
    torch.testing.assert_close(y1[:, :13], y2[:, :13], rtol=0, atol=1e-6)
    assert not torch.allclose(y1[:, 14:], y2[:, 14:])


class DurationLogits(torch.nn.Module):
    """A melody model's duration logits in forward()'s place, so :func:`assert_causal` checks the
    duration head as it checks the pitch head."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, durs, onsets):
        return self.model.note_logits(tokens, durs, onsets)[1]


class OfflinePage:
    """A live widget's HTML alone in a page written into ``root`` (with the book's shared live assets
    beside it, :func:`m2d.live.write_assets`), opened from file:// in ``browser`` with every other
    request blocked; console errors and blocked requests are recorded. ``close()`` fails the test on
    either."""

    def __init__(self, browser, root, widget_html: str, name: str = "widget.html", lang: str = "en"):
        from m2d import live

        live.write_assets(root)
        (root / name).write_text(f'<!doctype html><html lang="{lang}" data-content_root="./"><head>'
                                 f'<meta charset="utf-8"><title>{name}</title></head><body>'
                                 f"{widget_html}</body></html>", encoding="utf-8")
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if r.request.url.startswith(("file://", "data:", "blob:")):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto((root / name).as_uri())

    def close(self) -> None:
        errors, blocked = self.errors, self.blocked
        self.page.close()
        assert not errors and not blocked, (errors, blocked)
