/*
 * fuzz_model.c — libFuzzer target for the model-file decoder of lib/fd_model.c.
 *
 *   make fuzz && build-fuzz/fuzz_model -max_total_time=60 build-fuzz/fuzz_model.corpus
 *
 * A model file is a header, a SHA-256 and a zstd frame, so random bytes would almost never
 * get past the checksum.  The first byte of the input picks the flags (autoencoder, forest);
 * the rest is the payload (the sections), which this target compresses and wraps in a valid
 * header so that every input reaches the section parsers.  Besides memory errors and undefined
 * behaviour it checks that whatever decodes encodes to a file that decodes again and encodes
 * to the same bytes (the format has one spelling of each model).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "fd_buf.h"
#include "fd_model.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_model *m = NULL, *back = NULL;
	struct fd_buf a = FD_BUF_INIT, b = FD_BUF_INIT;
	struct fd_err err;
	unsigned char *f;
	size_t cap, c;

	if (size < 1 || size > (1u << 20))
		return 0;
	CHECK(sodium_init() >= 0);
	cap = 64 + ZSTD_compressBound(size - 1);
	f = malloc(cap);
	CHECK(f);
	c = ZSTD_compress(f + 64, cap - 64, data + 1, size - 1, 1);
	CHECK(!ZSTD_isError(c));
	memcpy(f, "FDMODEL\0", 8);
	put_le(f + 8, 1, 4);
	put_le(f + 12, data[0] & 3, 4);
	put_le(f + 16, size - 1, 8);
	put_le(f + 24, c, 8);
	crypto_hash_sha256(f + 32, f + 64, c);
	if (fd_model_decode(&m, f, 64 + c, "fuzz.fdm", &err) == FD_OK) {
		CHECK(fd_model_encode(m, &a, &err) == FD_OK);
		CHECK(fd_model_decode(&back, a.s, a.len, "again.fdm", &err) == FD_OK);
		CHECK(fd_model_encode(back, &b, &err) == FD_OK);
		CHECK(a.len == b.len && memcmp(a.s, b.s, a.len) == 0);
	} else {
		CHECK(err.code == FD_EINPUT || err.code == FD_EIO);
	}
	fd_model_free(m);
	fd_model_free(back);
	fd_buf_release(&a);
	fd_buf_release(&b);
	free(f);
	return 0;
}
