"""Background ingest of uploaded batches.

One thread in the server takes batches in order and runs each in a fresh process
(`python -m extractor.web.jobs`: a single-threaded interpreter, so the ingest engine can fork its own
worker processes safely, with its per-file time and memory limits). The server never parses a file
itself. A batch that was queued or running when the server stopped is run again at the next start;
files already stored are then recognised by their sha256, so nothing is parsed twice or lost.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from typing import Any

from extractor.web.settings import Settings


def main(argv: list[str]) -> int:
    """Entry point of the batch process: `python -m extractor.web.jobs '{"db": …, "batch": N, …}'`."""
    from extractor.store import batches
    from extractor.store.database import connect
    from extractor.store.ingest import _die_with_parent

    args = json.loads(argv[0])
    _die_with_parent(args["parent"])
    db = connect(args["db"])
    try:
        batches.run(db, args["db"], args["data_dir"], args["batch"], workers=args.get("workers"),
                    timeout=args.get("timeout"), memory_mb=args.get("memory_mb"), rules=args.get("rules"))  # fmt: skip
    finally:
        db.close()
    return 0


class BatchRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queue: queue.Queue[int | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.current: subprocess.Popen | None = None
        self.db: Any = None
        self._stopping = threading.Event()

    def start(self, db: Any) -> None:
        from extractor.store import batches

        self.db = db
        with db.begin() as conn:
            for batch_id in batches.unfinished(conn):
                self.queue.put(batch_id)
        self.thread = threading.Thread(target=self._loop, name="extractor-batches", daemon=True)
        self.thread.start()

    def submit(self, batch_id: int) -> None:
        self.queue.put(batch_id)

    def _loop(self) -> None:
        import os

        from extractor.store import batches

        s = self.settings
        while not self._stopping.is_set():
            batch_id = self.queue.get()
            if batch_id is None or self._stopping.is_set():
                return
            rules = os.path.join(s.data_dir, "rules.toml")
            args = {"db": s.db, "data_dir": s.data_dir, "batch": batch_id, "workers": s.workers, "timeout": s.timeout_s,
                    "memory_mb": s.memory_mb, "parent": os.getpid(), "rules": rules if os.path.exists(rules) else None}  # fmt: skip
            self.current = subprocess.Popen([sys.executable, "-m", "extractor.web.jobs", json.dumps(args)], stdin=subprocess.DEVNULL)
            code = self.current.wait()
            self.current = None
            if code != 0 and not self._stopping.is_set():  # the process died: the batch must not stay 'running'
                with self.db.begin() as conn:
                    batches.abandon(conn, batch_id, f"后台处理进程异常退出（退出码 {code}）")

    def stop(self) -> None:
        self._stopping.set()
        self.queue.put(None)
        proc = self.current
        if proc is not None and proc.poll() is None:
            proc.terminate()  # the batch stays 'running' and is picked up again at the next start
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.thread is not None:
            self.thread.join(10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
