/* fd_scorer.c — the scorer; see fd_score.h. */
#include "fd_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_score_impl.h"
#include "banned.h"

/* ---- the scorer --------------------------------------------------------------------------- */

/*
 * A model feature's histogram edges (fd_model.h, HIST) as doubles, padded with +inf to 15, so
 * that drift_bin finds a value's bin in four steps, without branches.
 */
#define DRIFT_SLOTS 15
_Static_assert(FD_MODEL_HIST_BINS - 1 <= DRIFT_SLOTS, "drift_bin searches at most 15 edges");
struct drift_edges {
	double e[DRIFT_SLOTS + 1];
	size_t ne;
};

static void drift_edges_init(struct drift_edges *d, const struct fd_feat_hist *h)
{
	size_t b;

	for (b = 0; b <= DRIFT_SLOTS; b++)
		d->e[b] = b < h->ne ? (double)h->edge[b] : INFINITY;
	d->ne = h->ne;
}

/*
 * fd_model_hist_bin's answer (the number of edges <= v, -1 for a missing value), called for
 * every feature of every transaction: the edges ascend (fd_model_load checks it), so the
 * count is a binary search's, and the padding counts only for v = +inf, where every edge does.
 */
static inline int drift_bin(const struct drift_edges *d, double v)
{
	size_t lo = 0;

	if (isnan(v))
		return -1;
	lo += d->e[lo + 7] <= v ? 8 : 0;
	lo += d->e[lo + 3] <= v ? 4 : 0;
	lo += d->e[lo + 1] <= v ? 2 : 0;
	lo += d->e[lo] <= v ? 1 : 0;
	return (int)(lo < d->ne ? lo : d->ne);
}

/* A transaction waiting in the batch for the model. */
struct slot {
	char txn_id[FD_TXN_ID_MAX + 1];
	struct fd_buf sender;
	int label;
	struct fd_score_basis basis;   /* basis.all points at all below */
	double *all;                   /* catalog-indexed features */
	struct fd_rule_hit *hits;
	size_t nhits;
	int points, block;
	struct fd_buf text;            /* reasons, each ending in a NUL */
	size_t *roff;                  /* their offsets in text */
	double *rw;                    /* their weights (rank_scale), for the order */
	size_t nreasons;
	double t_push;
	struct fd_score_layers l;      /* the verdict, between the two passes of score_batch */
	struct fd_score_verdict v;
	int need;                      /* needs feature reasons */
};

struct fd_scorer {
	const struct fd_model *m;
	const struct fd_rules *r;
	struct fd_scorer_opts o;
	struct fd_features *fe;
	size_t ncat, nin, nrules, maxreasons;
	int *cidx;              /* model feature j -> catalog index */
	int *group;             /* model feature j -> its sentence kind when one reason of that kind
				   is enough (the same measure over other windows), else -1 */
	unsigned char *covered; /* nrules x nin: rule i's expression reads model feature j */
	double *sel;            /* fd_features_push's selected output (unused but required) */
	size_t cap, n;          /* batch capacity, rows pending */
	struct slot *slots;
	float *X;               /* cap x nin, standardised */
	float *err, *ferr, *ifs;
	float *R;               /* cap x nin, raw values (NaN missing), for the boosted trees */
	float *gbp;             /* cap: their probabilities */
	float *RC, *contrib;    /* the rows that need reasons, and their SHAP contributions */
	size_t *crow;           /* slot -> row in RC */
	uint64_t *hcnt, *hmiss; /* drift: nin x FD_MODEL_HIST_BINS bin counts, nin missing */
	struct drift_edges *hedge; /* nin: each feature's histogram edges, for drift_bin */
	uint64_t rows, flagged;
	struct fd_nn_ws *ws;
	const char **rptr;      /* reason pointers handed to emit */
	size_t *ord;            /* their order, when there are many */
	struct fd_score_cal cal;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void fd_scorer_free(struct fd_scorer *sc)
{
	size_t i;

	if (!sc)
		return;
	for (i = 0; sc->slots && i < sc->cap; i++) {
		fd_buf_release(&sc->slots[i].sender);
		fd_buf_release(&sc->slots[i].text);
		free(sc->slots[i].all);
		free(sc->slots[i].hits);
		free(sc->slots[i].roff);
		free(sc->slots[i].rw);
	}
	free(sc->slots);
	fd_features_free(sc->fe);
	fd_nn_ws_free(sc->ws);
	free(sc->cidx);
	free(sc->group);
	free(sc->covered);
	free(sc->sel);
	free(sc->X);
	free(sc->err);
	free(sc->ferr);
	free(sc->ifs);
	free(sc->R);
	free(sc->gbp);
	free(sc->RC);
	free(sc->contrib);
	free(sc->crow);
	free(sc->hcnt);
	free(sc->hmiss);
	free(sc->hedge);
	free(sc->rptr);
	free(sc->ord);
	free(sc);
}

/* 1 when name occurs in expr as a whole identifier. */
static int reads_name(const char *expr, const char *name)
{
	size_t n = strlen(name);
	const char *p = expr;

	while ((p = strstr(p, name))) {
		int before = p > expr && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
					  (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
		char c = p[n];
		int after = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!before && !after)
			return 1;
		p += n;
	}
	return 0;
}

/* What feature reasons must leave out: measures a hit rule already speaks of (in its
 * expression or its reason), and a second sentence about one measure. */
static int reason_tables(struct fd_scorer *sc, struct fd_err *err)
{
	size_t i, j;

	sc->group = malloc((sc->nin + 1) * sizeof(*sc->group));
	sc->covered = calloc(sc->nrules * sc->nin + 1, 1);
	if (!sc->group || !sc->covered)
		return fd_score_oom(err);
	for (j = 0; j < sc->nin; j++) {
		const struct phrase *ph = fd_score_phrase_of(sc->m->features[j]);
		enum kind k = ph ? ph->kind : K_GENERIC;

		/* one sentence per measure: the amount against the sender's history, counts, sums,
		 * the distance from the previous located transaction */
		switch (k) {
		case K_AMOUNT: case K_ZSCORE: case K_TO_MAX: case K_PCTL: case K_TO_MEAN: case K_DEV:
		case K_WZSCORE:
			sc->group[j] = K_AMOUNT;
			break;
		case K_GEO_DIST: case K_GEO_SPEED: case K_MINS_GEO:
			sc->group[j] = K_GEO_DIST;
			break;
		case K_COUNT:
			sc->group[j] = (int)k;
			break;
		case K_SUM: case K_WMEAN:
			sc->group[j] = K_SUM;
			break;
		case K_HOUR: case K_LOCAL_HOUR: case K_NIGHT:  /* the time of day, on any clock */
			sc->group[j] = K_HOUR;
			break;
		case K_DOW: case K_WEEKEND:
			sc->group[j] = K_DOW;
			break;
		case K_BELOW_THR: case K_NEAR_THR:  /* amounts just below the reporting threshold */
			sc->group[j] = K_NEAR_THR;
			break;
		case K_KNOWN_FRAUDS: case K_FRAUD_SHARE: case K_FIRST_FRAUD: case K_MERCH_FRAUD:
			/* the labelled history of one party, over any window */
			sc->group[j] = strcmp(ph->arg ? ph->arg : "merchant", "recipient") == 0 ? K_FRAUD_SHARE
												  : K_MERCH_FRAUD;
			break;
		default:
			sc->group[j] = -1;
		}
		for (i = 0; i < sc->nrules; i++)
			sc->covered[i * sc->nin + j] =
				(unsigned char)(reads_name(fd_rules_expr(sc->r, i), sc->m->features[j]) ||
						reads_name(fd_rules_reason_template(sc->r, i), sc->m->features[j]));
	}
	/* a rule that speaks of one feature of a measure speaks of the measure: the amount against
	 * the sender's history over any window is its to say */
	for (i = 0; i < sc->nrules; i++)
		for (j = 0; j < sc->nin; j++) {
			size_t k;

			if (!sc->covered[i * sc->nin + j] || sc->group[j] < 0)
				continue;
			for (k = 0; k < sc->nin; k++)
				if (sc->group[k] == sc->group[j])
					sc->covered[i * sc->nin + k] |= 2;
		}
	return FD_OK;
}

int fd_scorer_create(struct fd_scorer **out, const struct fd_model *m, const struct fd_rules *r,
		     const struct fd_scorer_opts *o, struct fd_err *err)
{
	struct fd_scorer *sc;
	const struct fd_feat_def *defs;
	struct fd_buf unknown = FD_BUF_INIT;
	size_t i, j, nunknown = 0;
	int rc;

	*out = NULL;
	if (!m->nn && !m->forest)
		return fd_err_set(err, FD_EINPUT, "the model has neither an autoencoder nor a forest");
	if (!o->emit)
		return fd_err_set(err, FD_EUSAGE, "no emit callback");
	if (!(sc = calloc(1, sizeof(*sc))))
		return fd_score_oom(err);
	sc->m = m;
	sc->r = r;
	sc->o = *o;
	if (!sc->o.batch)
		sc->o.batch = 256;
	if (!sc->o.top)
		sc->o.top = 3;
	sc->ncat = fd_feat_catalog(&defs);
	sc->nin = m->n_features;
	sc->nrules = r ? fd_rules_count(r) : 0;
	sc->maxreasons = sc->nrules + sc->o.top;
	sc->cap = sc->o.batch;
	fd_score_cal_init(m, &sc->cal);
	if (!(sc->cidx = malloc(sc->nin * sizeof(*sc->cidx)))) {
		rc = fd_score_oom(err);
		goto fail;
	}
	for (i = 0; i < sc->nin; i++) {
		sc->cidx[i] = fd_feat_lookup(m->features[i]);
		if (sc->cidx[i] < 0) {
			char vis[128];

			fd_visible(vis, sizeof(vis), m->features[i], strlen(m->features[i]));
			if (nunknown++ < 10)
				fd_buf_addf(&unknown, "%s%s", nunknown > 1 ? ", " : "", vis);
		}
	}
	if (nunknown) {
		rc = fd_err_set(err, FD_EINPUT, "the model needs %zu feature%s this fd does not know: %s%s",
				nunknown, nunknown == 1 ? "" : "s", unknown.s ? unknown.s : "",
				nunknown > 10 ? ", ..." : "");
		goto fail;
	}
	if ((rc = reason_tables(sc, err)))
		goto fail;
	if ((rc = fd_features_create(&sc->fe, o->feat, err)) ||
	    (rc = fd_features_select_idx(sc->fe, sc->cidx, sc->nin, 0, err)))
		goto fail;
	if (r) {
		const int *idx;
		size_t nidx = fd_rules_features(r, &idx);

		if (nidx && (rc = fd_features_select_idx(sc->fe, idx, nidx, 1, err)))
			goto fail;
	}
	sc->sel = malloc((fd_features_count(sc->fe) + 1) * sizeof(*sc->sel));
	sc->slots = calloc(sc->cap, sizeof(*sc->slots));
	sc->X = malloc(sc->cap * sc->nin * sizeof(*sc->X));
	sc->err = malloc(sc->cap * sizeof(*sc->err));
	sc->ferr = malloc(sc->cap * sc->nin * sizeof(*sc->ferr));
	sc->ifs = malloc(sc->cap * sizeof(*sc->ifs));
	sc->rptr = malloc((sc->maxreasons + 1) * sizeof(*sc->rptr));
	sc->ord = malloc((sc->maxreasons + 1) * sizeof(*sc->ord));
	if (!sc->sel || !sc->slots || !sc->X || !sc->err || !sc->ferr || !sc->ifs || !sc->rptr || !sc->ord) {
		rc = fd_score_oom(err);
		goto fail;
	}
	for (i = 0; i < sc->cap; i++) {
		struct slot *s = &sc->slots[i];

		s->all = malloc(sc->ncat * sizeof(*s->all));
		s->hits = malloc((sc->nrules + 1) * sizeof(*s->hits));
		s->roff = malloc((sc->maxreasons + 1) * sizeof(*s->roff));
		s->rw = malloc((sc->maxreasons + 1) * sizeof(*s->rw));
		/* room for the usual reasons up front, so that scoring does not allocate */
		if (!s->all || !s->hits || !s->roff || !s->rw || fd_buf_grow(&s->text, 512) ||
		    fd_buf_grow(&s->sender, 64)) {
			rc = fd_score_oom(err);
			goto fail;
		}
		s->basis.all = s->all;
	}
	if (m->nn && (rc = fd_nn_ws_create(&sc->ws, m->nn, sc->cap, err)))
		goto fail;
	if (m->gb) {
		sc->R = malloc(sc->cap * sc->nin * sizeof(*sc->R));
		sc->gbp = malloc(sc->cap * sizeof(*sc->gbp));
		sc->RC = malloc(sc->cap * sc->nin * sizeof(*sc->RC));
		sc->contrib = malloc(sc->cap * (sc->nin + 1) * sizeof(*sc->contrib));
		sc->crow = malloc(sc->cap * sizeof(*sc->crow));
		if (!sc->R || !sc->gbp || !sc->RC || !sc->contrib || !sc->crow) {
			rc = fd_score_oom(err);
			goto fail;
		}
	}
	if (sc->o.drift && m->hist) {
		sc->hcnt = calloc(sc->nin * FD_MODEL_HIST_BINS, sizeof(*sc->hcnt));
		sc->hmiss = calloc(sc->nin, sizeof(*sc->hmiss));
		sc->hedge = malloc(sc->nin * sizeof(*sc->hedge));
		if (!sc->hcnt || !sc->hmiss || !sc->hedge) {
			rc = fd_score_oom(err);
			goto fail;
		}
		for (j = 0; j < sc->nin; j++)
			drift_edges_init(&sc->hedge[j], &m->hist[j]);
	}
	fd_buf_release(&unknown);
	*out = sc;
	return FD_OK;
fail:
	fd_buf_release(&unknown);
	fd_scorer_free(sc);
	return rc;
}

int64_t fd_scorer_lookback_ms(const struct fd_scorer *sc)
{
	return fd_features_lookback_ms(sc->fe);
}

int fd_scorer_warm(struct fd_scorer *sc, const struct fd_txn *t, struct fd_err *err)
{
	return fd_features_warm(sc->fe, t, err);
}

/* Indices of the k largest of c[0 .. n-1], largest first (k <= n, small). */
static size_t top_k(const float *c, size_t n, size_t k, size_t *idx)
{
	size_t i, j, got = 0;

	for (i = 0; i < n; i++) {
		float v = c[i];

		if (!(v == v))
			continue;
		if (got < k)
			got++;
		else if (!(v > c[idx[got - 1]]))
			continue;
		for (j = got - 1; j > 0 && v > c[idx[j - 1]]; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	return got;
}

/*
 * The scale reasons are ranked on (fd_score.h, REASONS): what each reason added to the risk.
 * With a stacker, log-odds: a rule hit w_points * points / 100 + w_hit / hits, a feature
 * w_gb times its contribution to the trees' margin (or, without trees, its share of the
 * reconstruction error or deviation times the model layers' w * u).  Without one, risk
 * points: a rule hit its points, a feature its share of the model's risk 25 * mean(u).
 * A rule that blocks decides: it ranks above everything.
 */
struct rank {
	int logodds;        /* a stacker's scale */
	double model;       /* the model layers' total, shared among features (non-SHAP) */
	double gbw;         /* the stacker's weight on the trees' margin (SHAP), else 1 */
	double per_point;   /* a rule's weight per point, and per hit */
	double per_hit;
};

static void rank_scale(const struct fd_scorer *sc, const struct slot *s, struct rank *rk)
{
	const struct fd_model *m = sc->m;
	const struct fd_score_layers *l = &s->l;
	int fitted;
	const struct fd_stacker *sk = fd_score_stacker_for(m, l->rules_present, &fitted);
	double z[FD_MODEL_MAX_STACK_INPUTS], u = 0;
	size_t k = 0;
	int nu = 0;

	memset(rk, 0, sizeof(*rk));
	rk->gbw = 1.0;
	/* a stacker fitted without rules scoring with them: the rules add nothing to the risk
	 * (per_point and per_hit 0), so their reasons follow the features' (a block still first) */
	if (sk && fd_score_stack_inputs(m, l, fitted, z) == sk->k) {
		rk->logodds = 1;
		if (m->nn && !m->gb) {
			rk->model += sk->w[k] * z[k];
			k++;
		}
		if (m->forest && !m->gb) {
			rk->model += sk->w[k] * z[k];
			k++;
		}
		if (m->gb)
			rk->gbw = sk->w[k++];
		if (fitted) {
			rk->per_point = sk->w[k] / 100.0;
			rk->per_hit = l->nhits ? sk->w[k + 1] / (double)l->nhits : 0.0;
		}
		return;
	}
	if (!isnan(l->ae_u)) {
		u += l->ae_u;
		nu++;
	}
	if (!isnan(l->if_u)) {
		u += l->if_u;
		nu++;
	}
	rk->model = nu ? FD_SCORE_MODEL_WEIGHT * u / nu : 0.0;
	rk->per_point = 1.0;
}

/* The weight of the reason of hit h. */
static double rule_weight(const struct rank *rk, const struct fd_rule_hit *h)
{
	if (h->action == FD_RULE_BLOCK)
		return INFINITY;
	return rk->per_point * h->points + rk->per_hit;
}

static int add_feature_reasons(struct fd_scorer *sc, struct slot *s, size_t row, const struct rank *rk,
			       struct fd_err *err)
{
	const int shap = sc->m->gb != NULL;
	/* every feature is a candidate: rule-covered ones, repeats of a measure, flags that are
	 * off, undefined values and facts too weak to say are passed over, and three must still
	 * be found */
	size_t idx[FD_MODEL_MAX_FEATURES], k = sc->nin, got, i, h, added = 0;
	int used[16], nused = 0, u;
	float absx[FD_MODEL_MAX_FEATURES];
	double total = 0;
	const float *c;

	if (shap)
		c = sc->contrib + sc->crow[row] * (sc->nin + 1);
	else if (sc->m->nn)
		c = sc->ferr + row * sc->nin;
	else {
		for (i = 0; i < sc->nin; i++)
			absx[i] = fabsf(sc->X[row * sc->nin + i]);
		c = absx;
	}
	for (i = 0; i < sc->nin; i++)
		if (c[i] > 0)
			total += c[i];
	got = top_k(c, sc->nin, k, idx);
	for (i = 0; i < got && added < sc->o.top; i++) {
		size_t j = idx[i];
		double v = s->all[sc->cidx[j]];

		if (!(c[j] > 0))
			break;  /* only what raised the risk is a reason */
		for (h = 0; h < s->nhits; h++)
			if (sc->covered[s->hits[h].rule * sc->nin + j])
				break;
		if (h < s->nhits)
			continue;  /* the rule's own reason says it */
		if (!fd_score_feature_notable(sc->cidx[j], v, sc->m->mean[j], &s->basis))
			continue;  /* true, but nothing an investigator would call unusual */
		if (sc->group[j] >= 0) {
			for (u = 0; u < nused && used[u] != sc->group[j]; u++)
				;
			if (u < nused)
				continue;  /* said already, over another window */
			if (nused < (int)(sizeof(used) / sizeof(used[0])))
				used[nused++] = sc->group[j];
		}
		s->rw[s->nreasons] = shap && rk->logodds ? rk->gbw * c[j]
				     : total > 0 ? rk->model * c[j] / total : 0.0;
		s->roff[s->nreasons++] = s->text.len;
		if (fd_score_feature_reason(sc->cidx[j], v, sc->m->mean[j], &s->basis, &s->text) ||
		    (shap && fd_buf_adds(&s->text, " (raises risk)")) || fd_buf_addc(&s->text, '\0'))
			return fd_score_oom(err);
		added++;
	}
	return FD_OK;
}

/*
 * Hand the reasons of s to emit in sc->rptr: most decisive first (stable, so rules of equal
 * weight keep their order, and a rule before a feature of the same weight), a sentence
 * already given left out.  Returns how many.
 */
static size_t order_reasons(struct fd_scorer *sc, struct slot *s)
{
	size_t *o = sc->ord, n = s->nreasons, i, j, k, out = 0;

	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && s->rw[o[j - 1]] < s->rw[i]; j--)
			o[j] = o[j - 1];
		o[j] = i;
	}
	for (i = 0; i < n; i++) {
		const char *t = s->text.s + s->roff[o[i]];

		for (k = 0; k < out && strcmp(sc->rptr[k], t) != 0; k++)
			;
		if (k == out)
			sc->rptr[out++] = t;
	}
	return out;
}

/* Run the model over the pending rows and emit them. */
static int score_batch(struct fd_scorer *sc, struct fd_err *err)
{
	const struct fd_model *m = sc->m;
	size_t n = sc->n, i, k;
	double now = 0;
	int rc = FD_OK;

	if (n == 0)
		return FD_OK;
	sc->n = 0;
	if (m->nn)
		fd_nn_errors(m->nn, sc->ws, sc->X, n, sc->err, sc->ferr);
	if (m->forest) {
		if (n == 1)
			sc->ifs[0] = fd_iforest_score_row(m->forest, sc->X);
		else
			fd_iforest_score(m->forest, sc->X, n, sc->ifs);
	}
	if (m->gb && (rc = fd_gbdt_predict(m->gb, sc->R, n, sc->gbp, err)))
		return rc;
	/* first pass: the verdicts, and which rows need reasons */
	for (i = 0; i < n; i++) {
		struct slot *s = &sc->slots[i];
		struct fd_score_layers *l = &s->l;

		l->ae_error = m->nn ? sc->err[i] : NAN;
		l->ae_p = m->nn ? fd_model_ae_score(m, l->ae_error) : NAN;
		l->ae_u = fd_score_ae_u(&sc->cal, m, l->ae_error);
		l->if_score = m->forest ? sc->ifs[i] : NAN;
		l->if_u = fd_score_if_u(&sc->cal, l->if_score);
		l->gb_p = m->gb ? sc->gbp[i] : NAN;
		l->rules_present = sc->r != NULL;
		l->rule_points = s->points;
		l->nhits = s->nhits;
		l->block = s->block;
		if (sc->o.thresholds)
			fd_score_combine_at(m, l, sc->o.medium, sc->o.high, &s->v);
		else
			fd_score_combine(m, l, &s->v);
		s->need = !sc->o.no_reasons && (sc->o.reasons_all || s->v.level >= FD_LEVEL_MEDIUM);
		sc->rows++;
		sc->flagged += s->v.level >= FD_LEVEL_MEDIUM;
	}
	/* the SHAP contributions of those rows, in one call */
	if (m->gb) {
		size_t nc = 0;

		for (i = 0; i < n; i++)
			if (sc->slots[i].need) {
				memcpy(sc->RC + nc * sc->nin, sc->R + i * sc->nin, sc->nin * sizeof(*sc->RC));
				sc->crow[i] = nc++;
			}
		if (nc && (rc = fd_gbdt_contrib(m->gb, sc->RC, nc, 0, sc->contrib, err)))
			return rc;
	}
	if (sc->o.timing)
		now = mono_s();
	for (i = 0; i < n; i++) {
		struct slot *s = &sc->slots[i];
		struct fd_score_row row;

		row.txn_id = s->txn_id;
		row.ts = s->basis.ts;
		row.sender_id = s->sender.s ? s->sender.s : "";
		row.label = s->label;
		row.l = s->l;
		row.v = s->v;
		row.hits = s->hits;
		if (s->nreasons || s->need) {
			struct rank rk;

			rank_scale(sc, s, &rk);
			for (k = 0; k < s->nreasons; k++)  /* the rule reasons, one per hit */
				s->rw[k] = rule_weight(&rk, &s->hits[k]);
			if (s->need && (rc = add_feature_reasons(sc, s, i, &rk, err)))
				return rc;
		}
		row.nreasons = order_reasons(sc, s);
		row.reasons = sc->rptr;
		row.latency_s = sc->o.timing ? now - s->t_push : 0.0;
		if ((rc = sc->o.emit(sc->o.user, &row, err)))
			return rc;
	}
	return FD_OK;
}

int fd_scorer_push(struct fd_scorer *sc, const struct fd_txn *t, struct fd_err *err)
{
	const struct fd_model *m = sc->m;
	struct slot *s = &sc->slots[sc->n];
	float *x = sc->X + sc->n * sc->nin;
	size_t j, k, len;
	int rc;

	if (sc->o.timing)
		s->t_push = mono_s();
	if ((rc = fd_features_push(sc->fe, t, sc->sel, s->all, err)))
		return rc;
	len = strlen(t->txn_id);
	if (len > FD_TXN_ID_MAX)
		len = FD_TXN_ID_MAX;
	memcpy(s->txn_id, t->txn_id, len);
	s->txn_id[len] = '\0';
	fd_buf_reset(&s->sender);
	if (fd_buf_adds(&s->sender, t->sender_id))
		return fd_score_oom(err);
	s->label = t->label;
	s->basis.ts = t->ts;
	s->basis.amount = t->amount;
	s->basis.exponent = t->exponent;
	memcpy(s->basis.currency, t->currency, sizeof(s->basis.currency));
	fd_features_context(sc->fe, &s->basis.ctx);
	/* each model feature once: standardised, raw for the trees, counted for drift */
	{
		float *r = sc->R ? sc->R + sc->n * sc->nin : NULL;
		const size_t nin = sc->nin;

		for (j = 0; j < nin; j++) {
			double v = s->all[sc->cidx[j]];

			x[j] = isnan(v) ? 0.0f : (float)((v - m->mean[j]) / m->std[j]);
			if (r)
				r[j] = (float)v;
			if (sc->hcnt) {
				int b = drift_bin(&sc->hedge[j], v);

				if (b < 0)
					sc->hmiss[j]++;
				else
					sc->hcnt[j * FD_MODEL_HIST_BINS + (size_t)b]++;
			}
		}
	}
	s->nhits = 0;
	s->points = s->block = 0;
	s->nreasons = 0;
	fd_buf_reset(&s->text);
	if (sc->r) {
		s->nhits = fd_rules_eval(sc->r, t, s->all, s->hits);
		for (k = 0; k < s->nhits; k++) {
			s->points += s->hits[k].points;
			s->block |= s->hits[k].action == FD_RULE_BLOCK;
			if (sc->o.no_reasons)
				continue;
			s->roff[s->nreasons++] = s->text.len;
			if ((rc = fd_rules_reason(sc->r, s->hits[k].rule, t, s->all, &s->text, err)))
				return rc;
			if (fd_buf_addc(&s->text, '\0'))
				return fd_score_oom(err);
		}
	}
	if (++sc->n == sc->cap)
		return score_batch(sc, err);
	return FD_OK;
}

int fd_scorer_flush(struct fd_scorer *sc, struct fd_err *err)
{
	return score_batch(sc, err);
}

void fd_scorer_summary(const struct fd_scorer *sc, uint64_t *rows, uint64_t *flagged, double *psi)
{
	size_t j;

	*rows = sc->rows;
	*flagged = sc->flagged;
	if (!psi)
		return;
	for (j = 0; j < sc->nin; j++)
		psi[j] = sc->hcnt ? fd_model_psi(&sc->m->hist[j], sc->hcnt + j * FD_MODEL_HIST_BINS, sc->hmiss[j]) : NAN;
}
