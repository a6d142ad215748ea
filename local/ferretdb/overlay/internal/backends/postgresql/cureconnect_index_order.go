package postgresql

// CureConnect patch "index-order": a sorted, limited find served by a companion index in order.
//
// When the filter can be stated exactly (see cureconnectExact), holds an equality on each of
// the first keys of an index with a companion (metadata/cureconnect_index_order.go), and the
// sort is the index's next keys (all in its directions, or all reversed), the rows are asked for
// by the companion's own expressions: the planner walks the index from the equality's first
// entry and stops at the page's limit, whatever the size of the collection or of the equality's
// match. It is exact when no row of the collection has a value the companion does not order
// in any of the index's keys (an array, a document, a double beyond 2^53): the query first
// looks for one such row through the index's first column, and leaves the find to the
// "sql-sort-count" path if there is one. Rows the filter's other keys may misjudge (risky) are
// returned too; the handler checks every row of the page and runs the find again without the
// limit when it meets one.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/postgresql/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// ccOrderPair is an equality's value as the companion's jsonb pair; ok is false for values it
// does not order.
func ccOrderPair(v any) (string, bool) {
	pair, _, ok := ccOrderRankPair(v)
	return pair, ok
}

// ccOrderRankPair is ccOrderPair with the value's rank.
func ccOrderRankPair(v any) (string, int, bool) {
	var pair []any

	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.Abs(v) > metadata.CureConnectOrderMaxDouble {
			return "", 0, false
		}
		pair = []any{2, v}
	case int32:
		pair = []any{2, v}
	case int64:
		pair = []any{2, v}
	case string:
		pair = []any{3, v}
	case types.ObjectID:
		pair = []any{4, fmt.Sprintf("%x", v[:])}
	case bool:
		pair = []any{5, v}
	case time.Time:
		pair = []any{6, v.UnixMilli()}
	default:
		return "", 0, false
	}

	b, err := json.Marshal(pair)
	if err != nil {
		return "", 0, false
	}

	return string(b), pair[0].(int), true
}

var ccRangeOperators = map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

// ccPairBounds states a range condition on key k (`{$gt: v, $lte: w}`, ordered scalars) as bounds
// on its companion pair, bracketed by type as MongoDB does (a bound only holds values of its
// type's rank); ok is false for any other condition. Exact for rows whose key holds an ordered
// value (the companion's certain rows).
func ccPairBounds(p *metadata.Placeholder, k string, cond any) (conds []string, args []any, ok bool) {
	doc, isDoc := cond.(*types.Document)
	if !isDoc || doc.Len() == 0 {
		return nil, nil, false
	}

	key := metadata.CureConnectOrderKey(k)

	for _, op := range doc.Keys() {
		sqlOp, known := ccRangeOperators[op]
		if !known {
			return nil, nil, false
		}

		pair, rank, good := ccOrderRankPair(must.NotFail(doc.Get(op)))
		if !good {
			return nil, nil, false
		}

		conds = append(conds, fmt.Sprintf("%s %s %s::jsonb", key, sqlOp, p.Next()))
		args = append(args, pair)

		if strings.HasPrefix(sqlOp, ">") {
			conds = append(conds, fmt.Sprintf("%s < '[%d, null]'::jsonb", key, rank+1))
		} else {
			conds = append(conds, fmt.Sprintf("%s > '[%d, null]'::jsonb", key, rank))
		}
	}

	return conds, args, true
}

// ccEquality is the value of a filter condition that is a plain equality (`v` or `{$eq: v}`).
func ccEquality(filter *types.Document, k string) (any, bool) {
	cond, err := filter.Get(k)
	if err != nil {
		return nil, false
	}

	if doc, isDoc := cond.(*types.Document); isDoc {
		if doc.Len() != 1 || doc.Keys()[0] != "$eq" {
			return nil, false
		}

		cond = must.NotFail(doc.Get("$eq"))
	}

	return cond, true
}

// cureconnectOrderIndex finds an index whose companion serves the find: its first keys held by
// equalities of the filter (their pairs), then the sort's keys; reverse tells a backward walk.
func cureconnectOrderIndex(meta *metadata.Collection, filter, sort *types.Document) (
	index metadata.IndexInfo, eqPairs []string, reverse, ok bool,
) {
	sortKeys := sort.Keys()

	for _, candidate := range meta.Indexes {
		if !metadata.CureConnectOrderable(candidate) {
			continue
		}

		for e := 0; e+len(sortKeys) <= len(candidate.Key); e++ {
			pairs := make([]string, 0, e)

			for _, key := range candidate.Key[:e] {
				v, found := ccEquality(filter, key.Field)
				if !found {
					break
				}

				pair, good := ccOrderPair(v)
				if !good {
					break
				}

				pairs = append(pairs, pair)
			}

			if len(pairs) != e {
				break // a longer equality prefix cannot be held either
			}

			matches, backward := true, false

			for i, k := range sortKeys {
				key := candidate.Key[e+i]
				desc := false

				if n, isLong := must.NotFail(sort.Get(k)).(int64); isLong && n == -1 {
					desc = true
				}

				flipped := desc != key.Descending
				if key.Field != k || (i > 0 && flipped != backward) {
					matches = false
					break
				}

				backward = flipped
			}

			if matches {
				return candidate, pairs, backward, true
			}
		}
	}

	return metadata.IndexInfo{}, nil, false, false
}

// cureconnectIndexOrderSQL is the query of a sorted find with a limit that a companion index
// serves in order; ok is false when none can (the caller then builds the "sql-sort-count" query).
func cureconnectIndexOrderSQL(ctx context.Context, q pgxQuerier, table string, meta *metadata.Collection,
	params *backends.QueryParams,
) (sql string, args []any, ok bool, err error) {
	if params.CureConnectLimit <= 0 || params.CureConnectSort.Len() == 0 {
		return "", nil, false, nil
	}

	filter := params.Filter
	if filter == nil {
		filter = must.NotFail(types.NewDocument())
	}

	index, eqPairs, reverse, found := cureconnectOrderIndex(meta, filter, params.CureConnectSort)
	if !found {
		return "", nil, false, nil
	}

	var p metadata.Placeholder

	pred, risky, predArgs, exact := cureconnectExact(&p, filter)
	if !exact {
		return "", nil, false, nil
	}

	certain := metadata.CureConnectOrderCertain(index.Key)

	var unordered bool
	if err = q.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s = 0)", table, certain)).
		Scan(&unordered); err != nil {
		return "", nil, false, lazyerrors.Error(err)
	}

	if unordered {
		return "", nil, false, nil
	}

	conds := []string{certain + " = 1"}
	args = predArgs

	for i, pair := range eqPairs {
		conds = append(conds, fmt.Sprintf("%s = %s::jsonb", metadata.CureConnectOrderKey(index.Key[i].Field), p.Next()))
		args = append(args, pair)
	}

	// a range on the first sort key bounds the walk (the predicate checks it again)
	first := index.Key[len(eqPairs)].Field
	if cond, err := filter.Get(first); err == nil {
		if bounds, boundArgs, bounded := ccPairBounds(&p, first, cond); bounded {
			conds, args = append(conds, bounds...), append(args, boundArgs...)
		}
	}

	conds = append(conds, fmt.Sprintf("((%s) IS TRUE OR (%s) IS TRUE)", pred, risky))

	order := make([]string, 0, params.CureConnectSort.Len())

	for i := range params.CureConnectSort.Keys() {
		key := index.Key[len(eqPairs)+i]
		desc := key.Descending != reverse

		dir := " ASC"
		if desc {
			dir = " DESC"
		}

		order = append(order, metadata.CureConnectOrderKey(key.Field)+dir)
	}

	sql = fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d", metadata.DefaultColumn, table,
		strings.Join(conds, " AND "), strings.Join(order, ", "), params.CureConnectLimit)

	return sql, args, true, nil
}

// cureconnectIndexCount counts a filter made of equalities on an index's first keys and, at
// most, a range on its next key, through its companion (no row is read for its values); counted
// is false for any other filter.
func cureconnectIndexCount(ctx context.Context, q pgxQuerier, table string, meta *metadata.Collection,
	filter *types.Document,
) (n int64, counted bool, err error) {
	if filter == nil || filter.Len() == 0 {
		return 0, false, nil
	}

	for _, index := range meta.Indexes {
		if !metadata.CureConnectOrderable(index) {
			continue
		}

		var p metadata.Placeholder

		conds := []string{metadata.CureConnectOrderCertain(index.Key) + " = 1"}

		var args []any

		used := 0

		for _, key := range index.Key {
			if used == filter.Len() {
				break
			}

			cond, getErr := filter.Get(key.Field)
			if getErr != nil {
				break
			}

			if v, isEq := ccEquality(filter, key.Field); isEq {
				if pair, good := ccOrderPair(v); good {
					conds = append(conds, fmt.Sprintf("%s = %s::jsonb", metadata.CureConnectOrderKey(key.Field), p.Next()))
					args = append(args, pair)
					used++

					continue
				}
			}

			if bounds, boundArgs, bounded := ccPairBounds(&p, key.Field, cond); bounded {
				conds, args = append(conds, bounds...), append(args, boundArgs...)
				used++
			}

			break
		}

		if used != filter.Len() {
			continue
		}

		certain := metadata.CureConnectOrderCertain(index.Key)

		var unordered bool
		if err = q.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s = 0)", table, certain)).
			Scan(&unordered); err != nil {
			return 0, false, lazyerrors.Error(err)
		}

		if unordered {
			return 0, false, nil
		}

		sql := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", table, strings.Join(conds, " AND "))
		if err = q.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			return 0, false, lazyerrors.Error(err)
		}

		return n, true, nil
	}

	return 0, false, nil
}

// cureconnectIndexCountAll answers countDocuments' pipeline (`$match` + `$group: {_id: constant,
// as: {$sum: 1}}`) through cureconnectIndexCount; grouped is false when it cannot.
func cureconnectIndexCountAll(ctx context.Context, q pgxQuerier, table string, meta *metadata.Collection,
	params *backends.QueryParams,
) (res *backends.QueryResult, grouped bool, err error) {
	if params.CureConnectGroupBy != "" {
		return nil, false, nil
	}

	n, counted, err := cureconnectIndexCount(ctx, q, table, meta, params.Filter)
	if err != nil || !counted {
		return nil, false, err
	}

	var docs []*types.Document

	if n > 0 {
		doc, docErr := types.NewDocument("_id", params.CureConnectGroupID, params.CureConnectGroupAs, int32(n))
		if docErr != nil {
			return nil, false, lazyerrors.Error(docErr)
		}

		docs = append(docs, doc)
	}

	return &backends.QueryResult{Iter: iterator.Values(iterator.ForSlice(docs)), CureConnectGrouped: true}, true, nil
}
