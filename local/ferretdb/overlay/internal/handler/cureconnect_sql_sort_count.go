package handler

// CureConnect patch "sql-sort-count", the handler's half: ask the PostgreSQL backend to order
// rows (find sorted by plain keys, with the page's limit when it can state the filter), to count
// (the count command) and to count per value of a field (aggregate `$match` + `$group` with
// `$sum: 1`, countDocuments' pipeline among them), and fall back to the Go path when it cannot do
// so exactly.

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/postgresql"
	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// cureconnectSQL is set when the backend is PostgreSQL, the only one that implements the patch.
var cureconnectSQL bool

// EnableCureConnectSQL is called by the PostgreSQL registry.
func EnableCureConnectSQL() { cureconnectSQL = true }

func cureconnectPlainKey(k string) bool { return postgresql.CureConnectPlainKey(k) }

// cureconnectSortable: a sort PostgreSQL may try (plain keys, not a capped collection).
func (h *Handler) cureconnectSortable(params *common.FindParams, cInfo *backends.CollectionInfo) bool {
	if !cureconnectSQL || h.DisablePushdown || cInfo.Capped() || params.Sort.Len() == 0 || params.Tailable {
		return false
	}

	for _, k := range params.Sort.Keys() {
		if !cureconnectPlainKey(k) {
			return false
		}
	}

	return true
}

// cureconnectOrdered reports whether a value's type is one PostgreSQL orders like MongoDB.
func cureconnectOrdered(v any) bool {
	switch v := v.(type) {
	case nil, types.NullType, int32, int64, string, types.ObjectID, bool, time.Time:
		return true
	case float64:
		return math.Abs(v) <= postgresql.CureConnectMaxExactDouble
	}

	return false
}

// cureconnectPeeked yields a first document read ahead, then the rest.
type cureconnectPeeked struct {
	first *types.Document
	rest  types.DocumentsIterator
	done  bool
}

func (it *cureconnectPeeked) Next() (struct{}, *types.Document, error) {
	if it.first != nil {
		doc := it.first
		it.first = nil

		return struct{}{}, doc, nil
	}

	if it.done {
		return struct{}{}, nil, iterator.ErrIteratorDone
	}

	return it.rest.Next()
}

func (it *cureconnectPeeked) Close() { it.rest.Close() }

// cureconnectRisky reports whether a filtered value is one the backend's exact predicate does not
// decide (an array, or a double beyond 2^53).
func cureconnectRisky(v any) bool {
	switch v := v.(type) {
	case *types.Array:
		return true
	case float64:
		return math.Abs(v) > postgresql.CureConnectMaxExactDouble
	}

	return false
}

// cureconnectSorted checks the first row of a query PostgreSQL ordered: rows PostgreSQL cannot
// order (and, when it also applied the filter and the limit, rows the filter may misjudge) come
// first, so a first row without either proves them all. Otherwise the query runs again: ordered
// but unlimited when only the filter was in doubt, else without the SQL order (upstream's Go
// sort). sorted tells whether the rows come in order.
func (h *Handler) cureconnectSorted(ctx context.Context, coll backends.Collection, qp *backends.QueryParams,
	res *backends.QueryResult,
) (*backends.QueryResult, bool, error) {
	_, first, err := res.Iter.Next()
	if errors.Is(err, iterator.ErrIteratorDone) {
		return &backends.QueryResult{Iter: &cureconnectPeeked{rest: res.Iter, done: true}}, true, nil
	}

	if err != nil {
		res.Iter.Close()
		return nil, false, err
	}

	for _, k := range qp.CureConnectSort.Keys() {
		v, _ := first.Get(k)
		if !cureconnectOrdered(v) {
			res.Iter.Close()
			qp.CureConnectSort, qp.CureConnectLimit = nil, 0
			res, err = coll.Query(ctx, qp)

			return res, false, err
		}
	}

	if res.CureConnectLimited {
		for _, k := range qp.Filter.Keys() {
			v, _ := first.Get(k)
			if cureconnectRisky(v) && !postgresql.CureConnectArraySafe(must.NotFail(qp.Filter.Get(k))) {
				res.Iter.Close()
				qp.CureConnectLimit = 0
				if res, err = coll.Query(ctx, qp); err != nil {
					return nil, false, err
				}

				// the unlimited rows start with any a sort key's value leaves unordered: checked again
				return h.cureconnectSorted(ctx, coll, qp, res)
			}
		}
	}

	return &backends.QueryResult{Iter: &cureconnectPeeked{first: first, rest: res.Iter}}, true, nil
}

// cureconnectFindParams sets what a find asks of the PostgreSQL backend: its order, and a limit
// when the whole filter is on plain keys (so the backend can state all of it).
func (h *Handler) cureconnectFindParams(qp *backends.QueryParams, params *common.FindParams, cInfo *backends.CollectionInfo) {
	if !h.cureconnectSortable(params, cInfo) {
		return
	}

	qp.CureConnectSort = params.Sort

	for _, k := range params.Filter.Keys() {
		if !cureconnectPlainKey(k) {
			return
		}
	}

	if params.Limit > 0 {
		qp.CureConnectLimit = params.Skip + params.Limit
	}
}

// cureconnectGroupCount answers `[{$match: filter}, {$group: {_id: "$field", as: {$sum: 1}}}]`
// (counts per value of a field) and `_id: constant` (countDocuments) in SQL when the backend can do so exactly; done is false when the
// stages must run in Go.
func (h *Handler) cureconnectGroupCount(ctx context.Context, c backends.Collection, qp *backends.QueryParams,
	pipeline []any,
) (types.DocumentsIterator, bool, error) {
	if !cureconnectSQL || h.DisablePushdown || len(pipeline) != 2 {
		return nil, false, nil
	}

	match, _ := pipeline[0].(*types.Document)
	group, _ := pipeline[1].(*types.Document)

	if match.Len() != 1 || group.Len() != 1 {
		return nil, false, nil
	}

	filter, _ := must.NotFail(match.Get(match.Keys()[0])).(*types.Document)
	spec, _ := must.NotFail(group.Get(group.Keys()[0])).(*types.Document)

	if match.Keys()[0] != "$match" || group.Keys()[0] != "$group" || spec.Len() != 2 || filter == nil {
		return nil, false, nil
	}

	for _, k := range filter.Keys() {
		if !cureconnectPlainKey(k) {
			return nil, false, nil
		}
	}

	by, _ := spec.Get("_id")
	as := spec.Keys()[1]

	if !cureconnectPlainKey(as) || spec.Keys()[0] != "_id" {
		return nil, false, nil
	}

	var field string

	switch by := by.(type) {
	case string:
		if !strings.HasPrefix(by, "$") || !cureconnectPlainKey(by[1:]) {
			return nil, false, nil
		}
		field = by[1:]
	case int32, int64, types.NullType: // one group of every match: countDocuments' pipeline
	default:
		return nil, false, nil
	}

	sum, _ := must.NotFail(spec.Get(as)).(*types.Document)
	if sum.Len() != 1 || sum.Keys()[0] != "$sum" {
		return nil, false, nil
	}

	switch one := must.NotFail(sum.Get("$sum")); one {
	case int32(1), int64(1), float64(1):
	default:
		return nil, false, nil
	}

	grouped := *qp
	grouped.Filter, grouped.CureConnectGroup, grouped.CureConnectGroupBy = filter, true, field
	grouped.CureConnectGroupID, grouped.CureConnectGroupAs = by, as

	res, err := c.Query(ctx, &grouped)
	if err != nil {
		return nil, false, err
	}

	if !res.CureConnectGrouped {
		res.Iter.Close()
		return nil, false, nil
	}

	return res.Iter, true, nil
}
