"""One process-wide lock around pdfium: pdfium is not thread-safe, not even across different
documents (pypdfium2's docs), so code that may run in threads — the web server rendering page
images — holds this lock for every pdfium call, from opening a document to closing it. The text
path's own binding (`pdfium_raw`) and pypdfium2 (rendering) call the same loaded library, so this
one lock covers both."""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
