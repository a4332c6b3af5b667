/*
 * fd_nn.h — the autoencoder: a small dense network trained to reconstruct standardised
 * feature vectors; a large reconstruction error marks an unusual transaction.
 *
 * Architecture.  n_in inputs, the hidden layers given by the caller (e.g. 12,6,12), n_in
 * outputs.  Each hidden layer is
 *     z = a·W  (no bias: batch normalisation's shift plays that role)
 *     y = gamma·(z − mean)/sqrt(var + 1e-5) + beta    (batch normalisation)
 *     a = dropout(relu(y))                            (dropout in training only)
 * and the output layer is linear: yhat = a·W + b.  The loss is the mean squared error over all
 * elements of the batch (as PyTorch's MSELoss), optimised by Adam (lr 1e-3, beta1 0.9,
 * beta2 0.999, eps 1e-8, no weight decay).  Batch normalisation uses the batch's mean and
 * biased variance while training and keeps running estimates for inference (momentum 0.1; the
 * running variance takes the unbiased batch variance, as PyTorch).  Dropout is inverted: kept
 * units are scaled by 1/(1 − p), so inference needs no rescaling.  Weights start He-uniform
 * (hidden layers, U(±sqrt(6/in))) and Xavier-uniform (output, U(±sqrt(6/(in+out)))); gamma 1,
 * beta 0, bias 0, running mean 0 and variance 1.
 *
 * Inference folds each batch normalisation into its layer (W·s, beta − mean·s with
 * s = gamma/sqrt(var + eps)), so scoring costs one matrix product, a bias and a ReLU per layer.
 * The validation errors returned by training come from this very path, so thresholds
 * calibrated on them mean the same thing at scoring time.
 *
 * Matrix work goes through OpenBLAS (cblas_sgemm, cblas_sgemv), in single precision.
 * fd_nn_create() calls openblas_set_num_threads(1): PROCESS-WIDE, OpenBLAS then runs every
 * call in the calling thread.  This is deliberate: the matrices are tiny (threads cost more
 * than they give), results must not depend on how work is split, and benchmarks are
 * single-core.  A tool that wants parallelism runs shards as separate processes.
 *
 * Determinism.  Every random choice (initial weights, the validation split, the shuffles,
 * the dropout masks) comes from fd's own PRNG (xoshiro256** seeded through splitmix64), never
 * from the clock or rand().  The same input, seed and options give bit-identical weights on the
 * same build and CPU type.  OpenBLAS picks its kernels by CPU at run time, so two different CPU
 * models may differ in the last bits (set OPENBLAS_CORETYPE to pin the kernel if that matters).
 *
 * Data: matrices are row-major float, rows × n_in, standardised (see fd_model.h) and finite.
 *
 * Thread safety: a trained network is read-only during inference; any number of threads may
 * call fd_nn_errors() on the same network, each with its own workspace.
 */
#ifndef FD_NN_H
#define FD_NN_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"

#define FD_NN_MAX_HIDDEN 16    /* hidden layers */
#define FD_NN_MAX_WIDTH 4096   /* units in any layer, inputs included */

/*
 * The default hidden layers for n_in features: round(2n/3), round(n/3), round(2n/3) (each at
 * least 1), into hidden[0 .. *n-1] (*n = 3).  For 18 features that is the reference design
 * 18-12-6-12-18; for 41, 41-27-14-27-41 (the bottleneck of the reference 41-64-32-14-32-64-41);
 * for the 60 catalog features, 60-40-20-40-60.
 *
 * Chosen by measurement (tests/bench/bench_nn.c -S: fd_gen data, 300,000 rows, 60 features,
 * trained on the first 70% of the time without fraud, tested on the last 30%; two seeds):
 *     layers              ROC AUC        avg precision   s/epoch (208k rows)
 *     12,6,12             0.966 0.966    0.611 0.651     0.19-0.25
 *     40,20,40 (this)     0.975 0.975    0.674 0.677     0.34-0.39
 *     64,32,14,32,64      0.976 0.974    0.682 0.681     0.61
 *     128,64,32,64,128    0.986 0.981    0.757 0.736     1.29-1.37
 *     (isolation forest   0.975 0.980    0.505 0.505)
 * The rule keeps the 18-feature reference exactly, beats a fixed 12,6,12 on wider inputs and
 * matches the 41-feature reference design at half its cost.  Wider networks (about 2n, n,
 * n/2, n, 2n) detected better still, at 4 times the training time and 6 times the scoring
 * cost, which would spend the whole of fd-score's per-row budget: pass them with --layers.
 */
void fd_nn_default_layers(size_t n_in, size_t hidden[FD_NN_MAX_HIDDEN], size_t *n);

struct fd_nn;

/*
 * Parse a hidden-layer list "12,6,12" (decimal sizes separated by commas, spaces allowed
 * around them) into hidden[0 .. *n-1].  At most FD_NN_MAX_HIDDEN sizes, each 1 ..
 * FD_NN_MAX_WIDTH.  FD_EUSAGE naming the offending text otherwise.
 */
int fd_nn_parse_layers(const char *spec, size_t hidden[FD_NN_MAX_HIDDEN], size_t *n,
		       struct fd_err *err);

/*
 * Create a network with n_in inputs (and outputs) and the n_hidden hidden layers of sizes
 * hidden[], initialised from seed.  n_hidden may be 0 (a linear model).  FD_EUSAGE when a
 * size is 0 or above the limits, FD_EIO when out of memory.  Sets OpenBLAS to one thread.
 */
int fd_nn_create(struct fd_nn **nn, size_t n_in, const size_t *hidden, size_t n_hidden,
		 uint64_t seed, struct fd_err *err);
/* Accepts NULL. */
void fd_nn_free(struct fd_nn *nn);

/* Inputs (= outputs). */
size_t fd_nn_inputs(const struct fd_nn *nn);
/* Number of hidden layers; when sizes is not NULL, the first min(n, max) sizes are stored. */
size_t fd_nn_hidden(const struct fd_nn *nn, size_t *sizes, size_t max);

/*
 * The parameters, for the model file.  fd_nn_params() gives the trainable parameters, layer
 * by layer: hidden layer: W (in × out, row-major), gamma[out], beta[out]; output layer:
 * W (in × n_in), b[n_in].  fd_nn_bn_state() gives the running statistics, hidden layer by
 * hidden layer: mean[out], var[out].  The pointers are borrowed: valid until the network is
 * trained, set or freed.  *n receives the count of floats.
 */
const float *fd_nn_params(const struct fd_nn *nn, size_t *n);
const float *fd_nn_bn_state(const struct fd_nn *nn, size_t *n);

/*
 * The counts fd_nn_params() and fd_nn_bn_state() would give for this architecture, without
 * creating a network (a model file's counts are checked with it before anything is
 * allocated).  FD_EINPUT when the architecture is outside the limits above.
 */
int fd_nn_param_count(size_t n_in, const size_t *hidden, size_t n_hidden, size_t *n_params,
		      size_t *n_bn, struct fd_err *err);

/*
 * Replace the parameters and running statistics (copies them; layouts as above).  FD_EINPUT
 * when a count does not match the architecture, a value is not finite or a running variance
 * is negative; the network is unchanged then.
 */
int fd_nn_set_params(struct fd_nn *nn, const float *params, size_t n_params, const float *bn,
		     size_t n_bn, struct fd_err *err);

/* Training options.  fd_nn_train_opts_init() fills the defaults given in the comments. */
struct fd_nn_train_opts {
	size_t batch;          /* mini-batch rows: 64 */
	unsigned max_epochs;   /* 100 */
	unsigned patience;     /* stop after this many epochs without a better validation loss: 5;
				  0 = never stop early */
	float lr;              /* Adam learning rate: 1e-3 */
	float dropout;         /* drop probability on hidden units, 0 <= p < 1: 0.2 */
	double val_fraction;   /* share of rows held out for validation, 0 .. 0.5: 0.2 */
	uint64_t seed;         /* the split, the shuffles and the dropout masks: 0 */
	/*
	 * Called after every epoch (may be NULL) with the epoch number (1-based), the mean
	 * training loss (with dropout), the validation loss (mean squared error of the
	 * validation rows in inference mode, NaN without validation rows) and the training
	 * speed.  A non-zero return stops training (as early stopping would: the best weights
	 * are kept).
	 */
	int (*progress)(unsigned epoch, double train_loss, double val_loss, double rows_per_s,
			void *user);
	void *user;
};
void fd_nn_train_opts_init(struct fd_nn_train_opts *o);

/* What training did.  val_errors is allocated by fd_nn_train() and owned by the caller
 * (free()); NULL when there are no validation rows. */
struct fd_nn_train_result {
	unsigned epochs;       /* epochs run */
	unsigned best_epoch;   /* the epoch whose weights were kept (1-based) */
	int stopped_early;     /* 1 when patience (or the progress callback) ended training */
	double train_loss;     /* mean training loss of the best epoch */
	double val_loss;       /* its validation loss (NaN without validation rows) */
	size_t n_train, n_val;
	float *val_errors;     /* n_val per-row reconstruction errors, in row order of X */
	size_t *val_rows;      /* n_val indices into X of the validation rows, ascending;
				  owned by the caller (free()), NULL when n_val is 0 */
};

/*
 * Train on X (rows × cols, row-major, cols == fd_nn_inputs(), every value finite), starting
 * from the current weights.  A deterministic share val_fraction of the rows (at least one
 * when val_fraction > 0) is held out; at each epoch the training rows are reshuffled and fed
 * in mini-batches (a last batch of a single row joins the one before it, since batch
 * normalisation needs two rows).  After each epoch the validation loss is measured; the best
 * weights are kept, and training stops after `patience` epochs without improvement, or at
 * max_epochs.  On return the network holds the best weights and res (which may be NULL)
 * tells what happened.
 *
 * Errors: FD_EUSAGE for bad options or cols mismatch; FD_EINPUT when a value is not finite,
 * when fewer than 2 training rows remain, or when training diverges (a non-finite loss);
 * FD_EIO when out of memory.  On error the weights are unspecified and res->val_errors NULL.
 */
int fd_nn_train(struct fd_nn *nn, const float *X, size_t rows, size_t cols,
		const struct fd_nn_train_opts *o, struct fd_nn_train_result *res,
		struct fd_err *err);
/* Free the arrays of a result (accepts NULL); does not free res itself. */
void fd_nn_train_result_release(struct fd_nn_train_result *res);

/*
 * Inference workspace: scratch for up to max_rows rows per internal block (0 = 256), so that
 * fd_nn_errors() never allocates.  One per thread.  FD_EIO when out of memory.
 */
struct fd_nn_ws;
int fd_nn_ws_create(struct fd_nn_ws **ws, const struct fd_nn *nn, size_t max_rows,
		    struct fd_err *err);
/* Accepts NULL. */
void fd_nn_ws_free(struct fd_nn_ws *ws);

/*
 * Reconstruction errors of X (rows × n_in, standardised, row-major): err[r] is the mean over
 * features of the squared difference between input and reconstruction.  When feat_err is not
 * NULL it receives the squared differences themselves (rows × n_in), so a caller can name the
 * features that contribute most.  Any rows count; rows == 1 takes a matrix-vector path (the
 * single-row fast path: no allocation; 0.15 µs at 18-12-6-12-18, 0.6 µs at
 * 41-64-32-14-32-64-41).  Blocks of rows are much cheaper per row (about 40 ns at 18 features):
 * batch when you can.  Results of the two paths agree to float rounding, not bit for bit.  ws must have been created for
 * this network (same layer sizes).  A non-finite input gives a non-finite error, not a crash.
 */
void fd_nn_errors(const struct fd_nn *nn, struct fd_nn_ws *ws, const float *X, size_t rows,
		  float *err, float *feat_err);

#endif
