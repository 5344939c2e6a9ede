"""A gunicorn config file of ``load_locator.py --profile``: a sampling profiler inside each
worker (py-spy cannot read this Python build from outside).

``habeas serve`` runs gunicorn, which also reads ``GUNICORN_CMD_ARGS``; the load test sets
``--config benchmarks/gunicorn_sampler.py`` there and ``HABEAS_LOAD_SAMPLES`` to a folder.
Each worker then starts a thread that, while the file ``ON`` exists in that folder, looks
at the worker's main thread ``RATE`` times a second: its Python stack
(``sys._current_frames``), weighted by the CPU time the thread used since the previous look
(``/proc/self/task/TID/schedstat``, in nanoseconds): a thread waiting for a request, for
PostgreSQL or Redis, or for a core on a busy machine, adds nothing. The weights (µs) are
written, collapsed (``frame;frame;… µs``, as py-spy's raw format), to ``PID.txt`` in the
folder every second.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

RATE = 250


def _stack(frame: Any) -> str:
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append(f"{code.co_name} ({code.co_filename}:{frame.f_lineno})")
        frame = frame.f_back
    return ";".join(reversed(frames))


def _sample(folder: Path, main_id: int, main_tid: int) -> None:
    counts: collections.Counter[str] = collections.Counter()
    schedstat = f"/proc/self/task/{main_tid}/schedstat"
    flag = folder / "ON"
    out = folder / f"{os.getpid()}.txt"
    last_write = time.monotonic()
    last_ns = 0
    while True:
        time.sleep(1 / RATE)
        try:
            with open(schedstat, "rb") as f:
                on_cpu_ns = int(f.read().split()[0])
        except OSError:
            return
        spent_us, last_ns = (on_cpu_ns - last_ns) // 1000, on_cpu_ns
        if not flag.exists():
            if counts and time.monotonic() - last_write > 0.5:
                _write(out, counts)
                last_write = time.monotonic()
            continue
        frame = sys._current_frames().get(main_id)
        if frame is not None and spent_us > 0:
            counts[_stack(frame)] += spent_us
        if time.monotonic() - last_write > 1:
            _write(out, counts)
            last_write = time.monotonic()


def _write(out: Path, counts: collections.Counter[str]) -> None:
    tmp = out.with_suffix(".tmp")
    tmp.write_text("".join(f"{stack} {n}\n" for stack, n in counts.items()))
    tmp.replace(out)


def post_worker_init(worker: Any) -> None:
    folder = os.environ.get("HABEAS_LOAD_SAMPLES")
    if not folder:
        return
    main = threading.main_thread()
    args = (Path(folder), main.ident, threading.get_native_id())
    threading.Thread(target=_sample, args=args, daemon=True, name="sampler").start()
