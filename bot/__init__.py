"""privacy-bot core: policy answers, privacy requests, deadlines, storage and outbox.

Nothing in this package knows about Telegram or IMAP; channel code lives in ``handlers``.
"""

__version__ = "0.1.0"

import os as _os

# The engine's numpy work is small vectors and matrices; BLAS threads only contend with the event loop and
# with each other (fitting took four times the CPU with them on a two-core machine). Set before numpy loads.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
