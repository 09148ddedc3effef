"""The decompressed-size limits on a PDF's Flate streams: streams too short to pass the per-stream
limit are counted at deflate's largest ratio instead of inflated, and that shortcut never changes
whether (or with which message) a file is refused."""

from __future__ import annotations

import zlib

import pytest
from builders import script

from extractor import Limits, ReadError
from extractor.readers.limits import MAX_DEFLATE_RATIO, MB, _check_streams, _stream_starts, _streams_over

pdf_bytes = script("make_hostile").pdf_bytes


def flate_pdf(*contents: bytes) -> bytes:
    """A one-page PDF with one Flate content stream per item of `contents`."""
    streams = [zlib.compress(c, 9) for c in contents]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [%s] >>" % b" ".join(b"%d 0 R" % (4 + i) for i in range(len(streams))),
        *(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(s) + s + b"\nendstream" for s in streams),
    ]
    return pdf_bytes(objects)


SMALL = Limits(max_stream_mb=1, max_unzipped_mb=2)
ROOMY = Limits(max_stream_mb=2, max_unzipped_mb=4)  # every stream of the tiny files is short here
CASES = {
    "many streams over the total": flate_pdf(*[b"0" * (MB // 2)] * 5),
    "one stream over its limit": flate_pdf(b"q Q", b"0" * (3 * MB // 2)),
    "tiny streams, large bounds": flate_pdf(*[b"q Q"] * 12),
    "tiny streams, small bounds": flate_pdf(b"q Q", b"q Q"),
}


def outcome(data: bytes, limits: Limits) -> str | None:
    try:
        _check_streams(data, limits)
    except ReadError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("limits", [SMALL, ROOMY], ids=["small", "roomy"])
@pytest.mark.parametrize("name", CASES)
def test_the_shortcut_refuses_exactly_what_inflating_every_stream_refuses(name, limits):
    data = CASES[name]
    exact = _streams_over(data, _stream_starts(data), limits, bound_short=False)
    assert outcome(data, limits) == (str(exact) if exact else None)


def test_the_refusals_name_their_limit():
    assert outcome(CASES["many streams over the total"], SMALL) == "the PDF's streams decompress to more than 2 MB; the limit is 2 MB: --max-unzipped-mb"
    refused = outcome(CASES["one stream over its limit"], SMALL)
    assert refused is not None and refused.startswith("a PDF stream (at byte ") and refused.endswith("more than 1 MB; the limit is 1 MB: --max-stream-mb")


def test_short_streams_are_bounded_and_a_bound_over_the_total_is_checked_by_inflating():
    tiny = CASES["tiny streams, large bounds"]
    bounds = [(len(tiny) - start + 1) * MAX_DEFLATE_RATIO for start in _stream_starts(tiny)]
    assert max(bounds) <= 2 * MB < 4 * MB < sum(bounds)  # each short, together over the total limit
    assert _streams_over(tiny, _stream_starts(tiny), ROOMY, bound_short=True) is not None
    assert outcome(tiny, ROOMY) is None  # inflated, they are a few bytes
    small = CASES["tiny streams, small bounds"]
    assert _streams_over(small, _stream_starts(small), ROOMY, bound_short=True) is None


def test_endstream_is_not_a_stream_start():
    data = flate_pdf(b"q Q", b"q Q")
    assert len(_stream_starts(data)) == 2
    assert all(data[start - 7 : start] == b"stream\n" and data[start - 10 : start - 7] != b"end" for start in _stream_starts(data))
