#!/usr/bin/env python3
"""png_size.py FILE: print "WIDTH HEIGHT" of a PNG from its IHDR chunk, after checking the
signature and that the image data inflates to the size the header promises (a truncated or
empty screenshot fails); exit 1 otherwise."""
import struct
import sys
import zlib

data = open(sys.argv[1], 'rb').read()
if len(data) < 33 or data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
    print('not a PNG')
    sys.exit(1)
w, h, depth, ctype = struct.unpack('>IIBB', data[16:26])
idat, pos = b'', 8
while pos + 8 <= len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    if kind == b'IDAT':
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
bpp = {2: 3, 6: 4}.get(ctype)
if depth != 8 or not bpp or len(zlib.decompress(idat)) != h * (w * bpp + 1):
    print('bad image data')
    sys.exit(1)
print(w, h)
