#!/usr/bin/env python3
"""png_check.py FILE [--min-width W] [--min-height H] [--max-share PCT] [--min-colours N]

Checks that a screenshot shows something: FILE must be an 8-bit RGB or RGBA PNG that decodes
whole (every scanline unfiltered, the data as long as the header promises), at least W x H
pixels (the size the page needs, measured by the caller), with no single colour covering
PCT percent or more of its pixels (default 99) and at least N distinct colours (default 8).
A blank, single-colour, truncated or too-small screenshot fails.

Prints "WIDTH HEIGHT COLOURS SHARE" (SHARE: the most common colour's percentage, one
decimal) and exits 0 when every check passes; else prints what failed, one line each, and
exits 1.  Python's standard library only (zlib for the image data)."""
import argparse
import struct
import sys
import zlib


def fail(msg):
    print(msg)
    sys.exit(1)


def add_bytes(a, b, n):
    """a + b bytewise modulo 256, for n-byte big-endian integers (no carry between bytes)."""
    lo = int.from_bytes(b'\x7f' * n, 'big')
    hi = int.from_bytes(b'\x80' * n, 'big')
    return ((a & lo) + (b & lo)) ^ ((a ^ b) & hi)


def unfilter(raw, w, h, bpp):
    """The image's rows, reconstructed from the filtered scanlines (PNG spec, section 9)."""
    stride = w * bpp
    n = stride
    mask = (1 << (8 * n)) - 1
    prev = bytes(n)
    rows = []
    for y in range(h):
        off = y * (stride + 1)
        ft, line = raw[off], raw[off + 1:off + 1 + stride]
        if ft == 0:
            cur = bytes(line)
        elif ft == 2:  # Up: a bytewise sum with the row above
            cur = add_bytes(int.from_bytes(line, 'big'), int.from_bytes(prev, 'big'), n).to_bytes(n, 'big')
        elif ft == 1:  # Sub: a running sum along the row, per channel, by doubling shifts
            x = int.from_bytes(line, 'big')
            shift = 8 * bpp
            while shift < 8 * n:
                x = add_bytes(x, (x >> shift) & mask, n)
                shift *= 2
            cur = x.to_bytes(n, 'big')
        elif ft in (3, 4):
            c = bytearray(line)
            for i in range(stride):
                a = c[i - bpp] if i >= bpp else 0
                b = prev[i]
                if ft == 3:
                    c[i] = (c[i] + ((a + b) >> 1)) & 0xff
                else:
                    cc = prev[i - bpp] if i >= bpp else 0
                    p = a + b - cc
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                    pr = a if pa <= pb and pa <= pc else b if pb <= pc else cc
                    c[i] = (c[i] + pr) & 0xff
            cur = bytes(c)
        else:
            fail('bad filter type %d in row %d' % (ft, y))
        rows.append(cur)
        prev = cur
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('file')
    ap.add_argument('--min-width', type=int, default=1)
    ap.add_argument('--min-height', type=int, default=1)
    ap.add_argument('--max-share', type=float, default=99.0)
    ap.add_argument('--min-colours', type=int, default=8)
    o = ap.parse_args()

    data = open(o.file, 'rb').read()
    if len(data) < 33 or data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        fail('not a PNG')
    w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', data[16:29])
    bpp = {2: 3, 6: 4}.get(ctype)
    if depth != 8 or not bpp or interlace != 0 or w == 0 or h == 0:
        fail('not an 8-bit RGB or RGBA PNG without interlacing')
    idat, pos = [], 8
    while pos + 8 <= len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        if kind == b'IDAT':
            idat.append(data[pos + 8:pos + 8 + n])
        pos += 12 + n
    try:
        raw = zlib.decompress(b''.join(idat))
    except zlib.error:
        fail('bad image data')
    if len(raw) != h * (w * bpp + 1):
        fail('bad image data')
    problems = []
    if w < o.min_width or h < o.min_height:
        problems.append('too small: %dx%d, at least %dx%d needed' % (w, h, o.min_width, o.min_height))
    counts = {}
    for row in unfilter(raw, w, h, bpp):
        for i in range(0, len(row), bpp):
            px = row[i:i + bpp]
            counts[px] = counts.get(px, 0) + 1
    share = 100.0 * max(counts.values()) / (w * h)
    if share >= o.max_share:
        problems.append('blank: one colour covers %.1f%% of the pixels' % share)
    if len(counts) < o.min_colours:
        problems.append('blank: %d distinct colour%s, at least %d needed'
                        % (len(counts), '' if len(counts) == 1 else 's', o.min_colours))
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(w, h, len(counts), '%.1f' % share)


main()
