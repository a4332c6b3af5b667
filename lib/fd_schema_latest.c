/* fd_schema_latest.c — migration 9, owned by fd-score: the one meaning of a transaction's risk.
 * See fd_schema.c. */
#include "fd_schema.h"

/*
 * latest_scores: a transaction's risk is its latest score (DESIGN.md), and every module reads
 * it here rather than choosing its own (a maximum over model versions in one place, the
 * latest in another).  The latest score of a transaction is its scores row with the greatest
 * scored_at (the scoring run's start), ties broken by the greatest id (the later insert); so
 * a rescoring with another model replaces the risk, even when the new risk is lower.  One row
 * per scored transaction, with all the columns of scores.  Risks are stored as written: whole
 * numbers by stores before two-decimal risks (INTEGER), else to the hundredth (REAL when not
 * whole; the column's affinity keeps 80.00 as the integer 80).
 */
const char fd_schema_v9_latest[] =
	"CREATE VIEW latest_scores AS"
	"  SELECT s.* FROM scores s"
	"  WHERE s.id = (SELECT n.id FROM scores n WHERE n.txn_id = s.txn_id"
	"                ORDER BY n.scored_at DESC, n.id DESC LIMIT 1);";
