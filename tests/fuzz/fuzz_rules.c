/*
 * fuzz_rules.c — libFuzzer target for the rules-file compiler of lib/fd_rules.c.
 *
 *   make build/libfd.a
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Ilib -o build/fuzz_rules tests/fuzz/fuzz_rules.c \
 *     lib/fd_rules.c lib/fd_features.c lib/fd_txn.c lib/fd_intern.c lib/fd_buf.c lib/fd_err.c -lm
 *   mkdir -p build/fuzz_rules.corpus && cp rules/default.rules build/fuzz_rules.corpus/
 *   build/fuzz_rules -max_total_time=60 -dict=tests/fuzz/fuzz_rules.dict build/fuzz_rules.corpus
 *
 * (the dictionary is optional: without -dict the fuzzer still finds the keywords, slowly.)
 *
 * Each input is a whole rules file, handed over as (data, size) in an exact-size heap copy
 * (never NUL-terminated, so a read past the end is caught) with no list directory, so the
 * file system is never touched.  Beyond memory errors and undefined behaviour it checks what
 * must hold whatever the input:
 *  - a failure is FD_EINPUT (or FD_EIO for out of memory) with a message that starts with the
 *    file name and a position, and leaves the handle NULL;
 *  - a success gives rules whose accessors are consistent (points 0-100, a known action,
 *    non-empty ids that fd_rules_find finds again, catalog indices sorted, unique, in range),
 *    and evaluation and reasons run on a full and an empty transaction, with defined and
 *    undefined features, hits in rule order with each rule's points and action, agreeing with
 *    fd_rules_eval_one.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fd_features.h"
#include "fd_rules.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void exercise(const struct fd_rules *r, const struct fd_txn *t, const double *feat)
{
	size_t n = fd_rules_count(r), nh, i, h = 0;
	struct fd_rule_hit *hits = malloc((n ? n : 1) * sizeof(*hits));
	struct fd_buf b = FD_BUF_INIT;
	struct fd_err err;

	CHECK(hits);
	nh = fd_rules_eval(r, t, feat, hits);
	CHECK(nh <= n);
	for (i = 0; i < n; i++) {
		int one = fd_rules_eval_one(r, i, t, feat);

		CHECK(one == 0 || one == 1);
		if (one) {
			CHECK(h < nh && hits[h].rule == i);
			CHECK(hits[h].points == fd_rules_points(r, i));
			CHECK(hits[h].action == fd_rules_action(r, i));
			h++;
		}
		fd_buf_reset(&b);
		CHECK(fd_rules_reason(r, i, t, feat, &b, &err) == FD_OK);
		CHECK(b.s != NULL);   /* never empty: at worst the rule id */
	}
	CHECK(h == nh);
	fd_buf_release(&b);
	free(hits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static double *defined_feat, *nan_feat;
	static size_t nfeat;
	struct fd_rules *r = (struct fd_rules *)&nfeat;  /* must become NULL on failure */
	struct fd_err err;
	char *text = malloc(size ? size : 1);
	int rc;

	CHECK(text);
	if (size)
		memcpy(text, data, size);
	if (!defined_feat) {
		const struct fd_feat_def *defs;
		size_t k;

		nfeat = fd_feat_catalog(&defs);
		defined_feat = malloc(nfeat * sizeof(double));
		nan_feat = malloc(nfeat * sizeof(double));
		CHECK(defined_feat && nan_feat);
		for (k = 0; k < nfeat; k++) {
			defined_feat[k] = (double)(k % 7) * 1.5 - 2;
			nan_feat[k] = NAN;
		}
	}
	err.code = -1;
	rc = fd_rules_parse(&r, text, size, "fuzz.rules", NULL, &err);
	if (rc) {
		CHECK(r == NULL);
		CHECK(rc == FD_EINPUT || rc == FD_EIO);
		CHECK(err.code == rc);
		CHECK(strncmp(err.msg, "fuzz.rules:", 11) == 0);
		CHECK(strlen(err.msg) < sizeof(err.msg));
	} else {
		struct fd_txn full, empty;
		const int *idx;
		size_t i, n = fd_rules_features(r, &idx);

		CHECK(r != NULL);
		for (i = 0; i < n; i++) {
			CHECK(idx[i] >= 0 && (size_t)idx[i] < nfeat);
			CHECK(i == 0 || idx[i - 1] < idx[i]);
		}
		for (i = 0; i < fd_rules_count(r); i++) {
			const char *id = fd_rules_id(r, i);

			CHECK(id[0] != '\0');
			CHECK(fd_rules_find(r, id) == (long)i);
			CHECK(fd_rules_points(r, i) >= 0 && fd_rules_points(r, i) <= 100);
			CHECK(fd_rule_action_name(fd_rules_action(r, i)) != NULL);
			CHECK(fd_rules_expr(r, i)[0] != '\0');
			CHECK(fd_rules_description(r, i) != NULL);
			CHECK(fd_rules_reason_template(r, i) != NULL);
			CHECK(fd_rules_line(r, i) >= 1);
		}
		fd_txn_clear(&full);
		full.txn_id = "T1";
		full.ts = 1795611900000LL;
		full.amount = 1234567;
		memcpy(full.currency, "USD", 4);
		full.exponent = 2;
		full.sender_id = "S1";
		full.recipient_id = "R1";
		full.merchant_id = "M1";
		full.merchant_category = "5411";
		full.channel = "card";
		full.device_id = "D1";
		full.ip = "192.0.2.1";
		full.has_geo = 1;
		full.lat = 48.85;
		full.lon = 2.35;
		memcpy(full.country, "FR", 3);
		full.city = "Paris";
		fd_txn_clear(&empty);
		empty.txn_id = "T2";
		empty.sender_id = "S2";
		memcpy(empty.currency, "JPY", 4);
		empty.exponent = 0;
		exercise(r, &full, defined_feat);
		exercise(r, &full, nan_feat);
		exercise(r, &empty, defined_feat);
		exercise(r, &empty, NULL);
	}
	fd_rules_free(r);
	free(text);
	return 0;
}
