"""Train the models whose useful training exceeds a book build, and ship their weights.

    make train                      # every shipped model, on the CPU
    make train MODEL=ddpm-organ DEVICE=cuda

Each model is trained from scratch with its book configuration and written to src/m2d/weights/
as ``<name>.pt`` with the manifest ``<name>.json`` (config hash, commit, this command, wall time,
machine, first and final losses, the quality curve, sha256): see m2d.models.shipped.
"""

from __future__ import annotations

import argparse
import sys

MODELS = ("ddpm-organ",)


def train(name: str, device: str, directory: str | None) -> dict:
    from m2d.models import ddpm, shipped

    if name != ddpm.BOOK_WEIGHTS:
        raise SystemExit(f"unknown model {name!r}; choose one of {MODELS}")
    commit = shipped.git_commit()  # the code that trains, recorded before it starts
    model, extra, key = ddpm.train_book_model(device=device)
    command = f"make train MODEL={name}" + (f" DEVICE={device}" if device != "cpu" else "")
    return shipped.save(name, model, extra, key, ddpm.BOOK_CONFIG.as_dict(), command,
                        directory=directory, commit=commit)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="all", help=f"one of {MODELS} or 'all'")
    ap.add_argument("--device", default="cpu", help="'cpu' (default) or 'cuda'")
    ap.add_argument("--out", default=None, help="directory (default: src/m2d/weights)")
    args = ap.parse_args(argv)
    names = MODELS if args.model in ("all", "") else (args.model,)
    for name in names:
        m = train(name, args.device, args.out)
        print(f"{name}: {m['steps']} steps in {m['wall_seconds'] / 60:.1f} min on {m['device']}, "
              f"final loss {m['final_loss']:.4f}, {m['bytes'] / 1e6:.1f} MB, sha256 {m['sha256'][:12]}")
        for c in m["curve"]:
            print(f"  step {c['step']:5d}  {c['minutes']:6.1f} min  loss {c['loss']:.4f}  "
                  f"Frechet (DDIM-50) {c['frechet_ddim']:8.1f}  ELBO {c['elbo_bits']:.3f} bits/dim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
