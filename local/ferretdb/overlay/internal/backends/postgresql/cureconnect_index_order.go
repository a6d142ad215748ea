package postgresql

// CureConnect patch "index-order": a sorted, limited find served by a companion index in order,
// and a count answered from a companion alone.
//
// When the filter can be stated exactly (see cureconnectExact), holds an equality on each of
// the first keys of an index with a companion (metadata/cureconnect_index_order.go), and the
// sort is the index's next keys (all in its directions, or all reversed), the rows are asked for
// by the companion's own columns: the planner walks the index from the equality's first
// entry and stops at the page's limit, whatever the size of the collection or of the equality's
// match. It is exact when no row of the collection has a value the companion does not order
// in any of the index's keys (an array, a document, a double beyond 2^53): the query first
// looks for one such row through the index's first column, and leaves the find to the
// "sql-sort-count" path if there is one. Rows the filter's other keys may misjudge (risky) are
// returned too; the handler checks every row of the page and runs the find again without the
// limit when it meets one. A count of equalities (or an `$in` of one type) on an index's first
// keys, and a range on the next, counts the companion's entries in an index-only scan.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/postgresql/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// ccOrderValue is a value as the companion's columns hold it: its rank, its number (a numeric
// literal) and its text (a string or an ObjectId's hex, else ""); ok is false for values the
// companion does not order.
func ccOrderValue(v any) (rank int, number, text string, ok bool) {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.Abs(v) > metadata.CureConnectOrderMaxDouble {
			return 0, "", "", false
		}
		return 2, strconv.FormatFloat(v, 'f', -1, 64), "", true
	case int32:
		return 2, strconv.FormatInt(int64(v), 10), "", true
	case int64:
		return 2, strconv.FormatInt(v, 10), "", true
	case string:
		return 3, "0", v, true
	case types.ObjectID:
		return 4, "0", hex.EncodeToString(v[:]), true
	case bool:
		if v {
			return 5, "1", "", true
		}
		return 5, "0", "", true
	case time.Time:
		return 6, strconv.FormatInt(v.UnixMilli(), 10), "", true
	}

	return 0, "", "", false
}

// ccOrderEquality states `k = v` on field k's columns; ok is false for values the companion does
// not order.
func ccOrderEquality(p *metadata.Placeholder, k string, v any) (conds []string, args []any, ok bool) {
	rank, number, text, ok := ccOrderValue(v)
	if !ok {
		return nil, nil, false
	}

	conds = []string{
		fmt.Sprintf("%s = %d", metadata.CureConnectOrderRank(k), rank),
		fmt.Sprintf("%s = '%s'::numeric", metadata.CureConnectOrderNumber(k), number),
		fmt.Sprintf("%s = %s", metadata.CureConnectOrderText(k), p.Next()),
	}

	return conds, []any{text}, true
}

// ccOrderIn states `k: {$in: [v, ...]}` on field k's columns when every value has the same rank
// (strings, ObjectIds, numbers, ...): one equality on the rank, one on the number and `= ANY` of
// the texts, or the other way round, which a btree scans as so many equalities; ok is false for
// any other condition.
func ccOrderIn(p *metadata.Placeholder, k string, cond any) (conds []string, args []any, ok bool) {
	doc, isDoc := cond.(*types.Document)
	if !isDoc || doc.Len() != 1 || doc.Keys()[0] != "$in" {
		return nil, nil, false
	}

	values, isArray := must.NotFail(doc.Get("$in")).(*types.Array)
	if !isArray || values.Len() == 0 || values.Len() > 1000 {
		return nil, nil, false
	}

	var numbers, texts []string

	first := -1

	for i := 0; i < values.Len(); i++ {
		rank, number, text, good := ccOrderValue(must.NotFail(values.Get(i)))
		if !good || (first >= 0 && rank != first) {
			return nil, nil, false
		}

		first = rank
		numbers, texts = append(numbers, number), append(texts, text)
	}

	conds = []string{fmt.Sprintf("%s = %d", metadata.CureConnectOrderRank(k), first)}

	if first == 3 || first == 4 {
		conds = append(conds, fmt.Sprintf("%s = 0", metadata.CureConnectOrderNumber(k)),
			fmt.Sprintf("%s = ANY(%s::text[])", metadata.CureConnectOrderText(k), p.Next()))

		return conds, []any{texts}, true
	}

	conds = append(conds, fmt.Sprintf("%s = ANY('{%s}'::numeric[])", metadata.CureConnectOrderNumber(k),
		strings.Join(numbers, ",")), fmt.Sprintf("%s = ''", metadata.CureConnectOrderText(k)))

	return conds, nil, true
}

var ccRangeOperators = map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

// ccOrderBounds states a range condition on key k (`{$gt: v, $lte: w}`, ordered scalars) on its
// columns, bracketed by type as MongoDB does (a bound only holds values of its type's rank); ok
// is false for any other condition. Exact for rows whose key holds an ordered value (the
// companion's certain rows).
func ccOrderBounds(p *metadata.Placeholder, k string, cond any) (conds []string, args []any, ok bool) {
	doc, isDoc := cond.(*types.Document)
	if !isDoc || doc.Len() == 0 {
		return nil, nil, false
	}

	for _, op := range doc.Keys() {
		sqlOp, known := ccRangeOperators[op]
		if !known {
			return nil, nil, false
		}

		rank, number, text, good := ccOrderValue(must.NotFail(doc.Get(op)))
		if !good {
			return nil, nil, false
		}

		conds = append(conds, fmt.Sprintf("%s = %d", metadata.CureConnectOrderRank(k), rank))

		if rank == 3 || rank == 4 {
			conds = append(conds, fmt.Sprintf("%s %s %s", metadata.CureConnectOrderText(k), sqlOp, p.Next()))
			args = append(args, text)
		} else {
			conds = append(conds, fmt.Sprintf("%s %s '%s'::numeric", metadata.CureConnectOrderNumber(k), sqlOp, number))
		}
	}

	return conds, args, true
}

// ccUnordered reports whether a row of the table holds, in the index's keys, a value the
// companion does not order. A table without the companion's columns (its index was made by an
// older build, on expressions) counts as unordered: its finds take the "sql-sort-count" path.
func ccUnordered(ctx context.Context, q pgxQuerier, table string, keys []metadata.IndexKeyPair) (bool, error) {
	var unordered bool

	err := q.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s = 0)", table,
		metadata.CureConnectOrderCertain(keys))).Scan(&unordered)

	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgerrcode.UndefinedColumn {
		return true, nil
	}

	if err != nil {
		return false, lazyerrors.Error(err)
	}

	return unordered, nil
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
// equalities of the filter (their values), then the sort's keys; reverse tells a backward walk.
func cureconnectOrderIndex(meta *metadata.Collection, filter, sort *types.Document) (
	index metadata.IndexInfo, eqValues []any, reverse, ok bool,
) {
	sortKeys := sort.Keys()

	for _, candidate := range meta.Indexes {
		if !metadata.CureConnectOrderable(candidate) {
			continue
		}

		for e := 0; e+len(sortKeys) <= len(candidate.Key); e++ {
			values := make([]any, 0, e)

			for _, key := range candidate.Key[:e] {
				v, found := ccEquality(filter, key.Field)
				if !found {
					break
				}

				if _, _, _, good := ccOrderValue(v); !good {
					break
				}

				values = append(values, v)
			}

			if len(values) != e {
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
				return candidate, values, backward, true
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

	index, eqValues, reverse, found := cureconnectOrderIndex(meta, filter, params.CureConnectSort)
	if !found {
		return "", nil, false, nil
	}

	var p metadata.Placeholder

	pred, risky, predArgs, exact := cureconnectExact(&p, filter)
	if !exact {
		return "", nil, false, nil
	}

	unordered, err := ccUnordered(ctx, q, table, index.Key)
	if err != nil || unordered {
		return "", nil, false, err
	}

	conds := []string{metadata.CureConnectOrderCertain(index.Key) + " = 1"}
	args = predArgs

	for i, v := range eqValues {
		eq, eqArgs, _ := ccOrderEquality(&p, index.Key[i].Field, v)
		conds, args = append(conds, eq...), append(args, eqArgs...)
	}

	// a range on the first sort key bounds the walk (the predicate checks it again)
	first := index.Key[len(eqValues)].Field
	if cond, err := filter.Get(first); err == nil {
		if bounds, boundArgs, bounded := ccOrderBounds(&p, first, cond); bounded {
			conds, args = append(conds, bounds...), append(args, boundArgs...)
		}
	}

	conds = append(conds, fmt.Sprintf("((%s) IS TRUE OR (%s) IS TRUE)", pred, risky))

	order := make([]string, 0, 3*params.CureConnectSort.Len())

	for i := range params.CureConnectSort.Keys() {
		key := index.Key[len(eqValues)+i]
		desc := key.Descending != reverse

		dir := " ASC"
		if desc {
			dir = " DESC"
		}

		order = append(order, metadata.CureConnectOrderRank(key.Field)+dir, metadata.CureConnectOrderNumber(key.Field)+dir,
			metadata.CureConnectOrderText(key.Field)+dir)
	}

	sql = fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d", metadata.DefaultColumn, table,
		strings.Join(conds, " AND "), strings.Join(order, ", "), params.CureConnectLimit)

	return sql, args, true, nil
}

// cureconnectIndexCount counts a filter made of equalities (or `$in` of values of one type) on
// an index's first keys and, at most, a range on its next key, from its companion alone (an index-only scan: no row is read
// while the table's visibility map is current); counted is false for any other filter.
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
				if eq, eqArgs, good := ccOrderEquality(&p, key.Field, v); good {
					conds, args = append(conds, eq...), append(args, eqArgs...)
					used++

					continue
				}
			}

			if in, inArgs, good := ccOrderIn(&p, key.Field, cond); good {
				conds, args = append(conds, in...), append(args, inArgs...)
				used++

				continue
			}

			if bounds, boundArgs, bounded := ccOrderBounds(&p, key.Field, cond); bounded {
				conds, args = append(conds, bounds...), append(args, boundArgs...)
				used++
			}

			break
		}

		if used != filter.Len() {
			continue
		}

		unordered, uErr := ccUnordered(ctx, q, table, index.Key)
		if uErr != nil || unordered {
			return 0, false, uErr
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

	return cureconnectCountGroup(n, params)
}
