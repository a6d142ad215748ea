package postgresql

// CureConnect patch "sql-sort-count": MongoDB's order and counting, done by PostgreSQL.
//
// Upstream sorts and counts in Go after decoding every matching document, so a sorted page or a
// count reads the whole match. Here PostgreSQL orders rows exactly as MongoDB would for the
// scalar types whose order it can reproduce (null/missing, numbers, strings, ObjectIds, booleans,
// dates), and counts with a predicate that is exact for non-array values. Anything else is
// reported to the handler, which falls back to upstream's Go path: rows whose sort keys hold
// another type are ordered first, so the first row tells; a count that met an array (or a double
// beyond 2^53, whose JSON text is not its exact value) is not used.

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/postgresql/metadata"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// CureConnectMaxExactDouble is 2^53: every double up to it prints as its exact value (beyond it,
// the JSON text compared in SQL is not the double MongoDB compares).
const CureConnectMaxExactDouble = 9007199254740992

func ccLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CureConnectPlainKey reports whether a field name can be ordered or counted in SQL.
func CureConnectPlainKey(k string) bool {
	return k != "" && !strings.HasPrefix(k, "$") && !strings.ContainsRune(k, '.') && !strings.ContainsRune(k, 0)
}

func ccType(k string) string {
	// one path lookup: chained -> copies every intermediate object, for every row
	return fmt.Sprintf("(%s #>> ARRAY['$s', 'p', %s, 't'])", metadata.DefaultColumn, ccLiteral(k))
}

// ccRank is MongoDB's type order for the types PostgreSQL can order; 0 for any other type.
func ccRank(k string) string {
	return fmt.Sprintf(`(CASE coalesce(%[1]s, 'null') WHEN 'null' THEN 1 `+
		`WHEN 'double' THEN CASE WHEN abs((%[2]s->>%[3]s)::numeric) > %[4]d THEN 0 ELSE 2 END `+
		`WHEN 'int' THEN 2 WHEN 'long' THEN 2 WHEN 'string' THEN 3 WHEN 'objectId' THEN 4 `+
		`WHEN 'bool' THEN 5 WHEN 'date' THEN 6 ELSE 0 END)`,
		ccType(k), metadata.DefaultColumn, ccLiteral(k), CureConnectMaxExactDouble)
}

// ccValue is a scalar's SQL comparison: its type test, the compared expression and argument.
func ccValue(k string, v any) (typeNames []string, expr string, arg any, ok bool) {
	col := metadata.DefaultColumn + "->" + ccLiteral(k)
	text := "(" + metadata.DefaultColumn + "->>" + ccLiteral(k) + `) COLLATE "C"`

	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.Abs(v) > CureConnectMaxExactDouble {
			return nil, "", nil, false
		}
		return []string{"double", "int", "long"}, col, fmt.Sprint(v), true
	case int32:
		return []string{"double", "int", "long"}, col, fmt.Sprint(v), true
	case int64:
		return []string{"double", "int", "long"}, col, fmt.Sprint(v), true
	case string:
		return []string{"string"}, text, v, true
	case types.ObjectID:
		return []string{"objectId"}, text, fmt.Sprintf("%x", v[:]), true
	case bool:
		return []string{"bool"}, col, fmt.Sprint(v), true
	case time.Time:
		return []string{"date"}, col, fmt.Sprint(v.UnixMilli()), true
	}

	return nil, "", nil, false
}

// CureConnectArraySafe reports whether a filter condition is answered exactly for an array of
// any elements by JSON containment: equality with, or `$in` of, strings that cannot be an
// ObjectId's hex (ObjectIds are stored as such strings). MongoDB matches such a condition
// against each top-level element, and so does `@>`.
func CureConnectArraySafe(cond any) bool {
	switch cond := cond.(type) {
	case string:
		return !ccHex24(cond)
	case *types.Document:
		if cond.Len() != 1 {
			return false
		}

		switch op := cond.Keys()[0]; op {
		case "$eq":
			s, ok := must.NotFail(cond.Get(op)).(string)
			return ok && !ccHex24(s)
		case "$in":
			values, ok := must.NotFail(cond.Get(op)).(*types.Array)
			if !ok {
				return false
			}

			for i := 0; i < values.Len(); i++ {
				if s, isString := must.NotFail(values.Get(i)).(string); !isString || ccHex24(s) {
					return false
				}
			}

			return true
		}
	}

	return false
}

func ccHex24(s string) bool {
	if len(s) != 24 {
		return false
	}

	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}

	return true
}

func ccCompare(p *metadata.Placeholder, k, op string, v any, inArrays bool) (string, []any, bool) {
	if _, null := v.(types.NullType); null && op == "=" {
		return fmt.Sprintf("(%s = 'null' OR %s IS NULL)", ccType(k), ccType(k)), nil, true
	}

	typeNames, expr, arg, ok := ccValue(k, v)
	if !ok {
		return "", nil, false
	}

	quoted := make([]string, len(typeNames))
	for i, t := range typeNames {
		quoted[i] = ccLiteral(t)
	}

	rhs := p.Next()
	if !strings.HasSuffix(expr, `COLLATE "C"`) {
		rhs += "::jsonb"
	}

	sql := fmt.Sprintf("(%s IN (%s) AND %s %s %s)", ccType(k), strings.Join(quoted, ", "), expr, op, rhs)
	if inArrays && op == "=" {
		sql = fmt.Sprintf("(%s OR (%s = 'array' AND %s->%s @> jsonb_build_array(%s::text)))",
			sql, ccType(k), metadata.DefaultColumn, ccLiteral(k), rhs)
	}

	return sql, []any{arg}, true
}

var ccOperators = map[string]string{"$eq": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

// cureconnectExact is a predicate equal to MongoDB's filter for rows whose filtered keys hold no
// array and no double beyond 2^53 (risky tells those rows); ok is false for filters it cannot state.
func cureconnectExact(p *metadata.Placeholder, filter *types.Document) (pred, risky string, args []any, ok bool) {
	preds := []string{"TRUE"}
	risks := []string{"FALSE"}

	for _, k := range filter.Keys() {
		if !CureConnectPlainKey(k) {
			return "", "", nil, false
		}

		v, _ := filter.Get(k)
		inArrays := CureConnectArraySafe(v)

		if !inArrays {
			risks = append(risks, fmt.Sprintf(
				"(CASE %[1]s WHEN 'array' THEN TRUE WHEN 'double' THEN abs((%[2]s->>%[3]s)::numeric) > %[4]d ELSE FALSE END)",
				ccType(k), metadata.DefaultColumn, ccLiteral(k), CureConnectMaxExactDouble))
		}

		ops, isDoc := v.(*types.Document)
		if !isDoc {
			f, a, good := ccCompare(p, k, "=", v, inArrays)
			if !good {
				return "", "", nil, false
			}
			preds, args = append(preds, f), append(args, a...)
			continue
		}

		if ops.Len() == 0 {
			return "", "", nil, false
		}

		for _, op := range ops.Keys() {
			operand, _ := ops.Get(op)

			if op == "$in" {
				values, isArray := operand.(*types.Array)
				if !isArray || values.Len() > 1000 {
					return "", "", nil, false
				}
				ors := []string{"FALSE"}
				for i := 0; i < values.Len(); i++ {
					item, _ := values.Get(i)
					f, a, good := ccCompare(p, k, "=", item, inArrays)
					if !good {
						return "", "", nil, false
					}
					ors, args = append(ors, f), append(args, a...)
				}
				preds = append(preds, "("+strings.Join(ors, " OR ")+")")
				continue
			}

			sqlOp, known := ccOperators[op]
			if !known {
				return "", "", nil, false
			}
			f, a, good := ccCompare(p, k, sqlOp, operand, inArrays)
			if !good {
				return "", "", nil, false
			}
			preds, args = append(preds, f), append(args, a...)
		}
	}

	return strings.Join(preds, " AND "), strings.Join(risks, " OR "), args, true
}

// cureconnectCount counts in SQL when the filter can be stated exactly and no matching row is
// risky; counted is false otherwise (the handler then counts in Go as upstream does).
func cureconnectCount(ctx context.Context, q pgxQuerier, table string, p *metadata.Placeholder, where string,
	whereArgs []any, filter *types.Document,
) (n int64, counted bool, err error) {
	pred, risky, args, ok := cureconnectExact(p, filter)
	if !ok {
		return 0, false, nil
	}

	sql := fmt.Sprintf("SELECT count(*) FILTER (WHERE %s), count(*) FILTER (WHERE %s) FROM %s%s", pred, risky, table, where)

	var risks int64
	if err = q.QueryRow(ctx, sql, append(append([]any{}, whereArgs...), args...)...).Scan(&n, &risks); err != nil {
		return 0, false, lazyerrors.Error(err)
	}

	return n, risks == 0, nil
}

type pgxQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// cureconnectSortSQL is the query of a find sorted by plain keys: MongoDB's order, with rows it
// cannot order first. Each key's type rank is computed once per row (in a subquery kept apart by
// OFFSET 0). When the filter can be stated exactly and the handler asked for at most
// CureConnectLimit rows, the query also keeps only matching rows (and risky ones, ordered first
// too) and applies the limit; limited tells the handler that a first row which is neither
// unordered nor risky proves the page exact.
func cureconnectSortSQL(p *metadata.Placeholder, table, where string, params *backends.QueryParams) (
	q string, args []any, limited bool,
) {
	cols := []string{metadata.DefaultColumn}
	uncertain := []string{"FALSE"}
	var order []string

	for i, k := range params.CureConnectSort.Keys() {
		v, _ := params.CureConnectSort.Get(k)
		dir := " ASC"
		if n, ok := v.(int64); ok && n == -1 {
			dir = " DESC"
		}

		r := fmt.Sprintf("cc_r%d", i)
		cols = append(cols, ccRank(k)+" AS "+r)
		uncertain = append(uncertain, r+" = 0")
		order = append(order,
			r+dir,
			// strings and ObjectIds (lowercase hex) in byte order, as MongoDB compares them
			fmt.Sprintf(`(CASE WHEN %s IN (3, 4) THEN %s->>%s END) COLLATE "C"%s`, r, metadata.DefaultColumn, ccLiteral(k), dir),
			// numbers and dates (milliseconds) numerically, booleans false < true
			fmt.Sprintf(`(CASE WHEN %s IN (2, 5, 6) THEN %s->%s END)%s`, r, metadata.DefaultColumn, ccLiteral(k), dir),
		)
	}

	var outerWhere, limit string

	if params.CureConnectLimit > 0 {
		if pred, risky, predArgs, ok := cureconnectExact(p, params.Filter); ok {
			cols = append(cols, "("+pred+") AS cc_match", "("+risky+") IS TRUE AS cc_risky")
			uncertain = append(uncertain, "cc_risky")
			outerWhere = " WHERE cc_match OR cc_risky"
			limit = fmt.Sprintf(" LIMIT %d", params.CureConnectLimit)
			args, limited = predArgs, true
		}
	}

	q = fmt.Sprintf("SELECT %s FROM (SELECT %s FROM %s%s OFFSET 0) cc%s ORDER BY (%s) DESC, %s%s",
		metadata.DefaultColumn, strings.Join(cols, ", "), table, where, outerWhere,
		strings.Join(uncertain, " OR "), strings.Join(order, ", "), limit)

	return q, args, limited
}

// cureconnectGroupCount answers `[{$match: filter}, {$group: {_id: "$G", as: {$sum: 1}}}]` with one
// GROUP BY (and `_id: constant`, countDocuments' pipeline, with one count), when the filter can be stated exactly, no scanned row is risky for it, and every
// group key is null/missing, a string, an ObjectId, a boolean or a date (types whose SQL
// equality is MongoDB's). grouped is false otherwise (the handler runs the stages in Go).
func cureconnectGroupCount(ctx context.Context, q pgxQuerier, table string, p *metadata.Placeholder, where string,
	whereArgs []any, params *backends.QueryParams,
) (res *backends.QueryResult, grouped bool, err error) {
	pred, risky, args, ok := cureconnectExact(p, params.Filter)
	if !ok {
		return nil, false, nil
	}

	g := params.CureConnectGroupBy
	if g == "" {
		return cureconnectCountAll(ctx, q, table, where, append(append([]any{}, whereArgs...), args...), pred, risky, params)
	}

	class := fmt.Sprintf("coalesce(%s, 'null')", ccType(g))
	sql := fmt.Sprintf(
		"SELECT cls, val, count(*) FILTER (WHERE cc_match), bool_or(cc_risky) FROM ("+
			"SELECT %[1]s AS cls, CASE WHEN %[1]s IN ('string', 'objectId', 'bool', 'date') THEN %[2]s->>%[3]s END AS val, "+
			"(%[4]s) IS TRUE AS cc_match, ((%[5]s) IS TRUE OR %[1]s NOT IN ('null', 'string', 'objectId', 'bool', 'date')) AS cc_risky "+
			"FROM %[6]s%[7]s OFFSET 0) cc GROUP BY cls, val",
		class, metadata.DefaultColumn, ccLiteral(g), pred, risky, table, where)

	rows, err := q.Query(ctx, sql, append(append([]any{}, whereArgs...), args...)...)
	if err != nil {
		return nil, false, lazyerrors.Error(err)
	}
	defer rows.Close()

	var docs []*types.Document

	for rows.Next() {
		var cls string
		var val *string
		var n int64
		var anyRisky bool

		if err = rows.Scan(&cls, &val, &n, &anyRisky); err != nil {
			return nil, false, lazyerrors.Error(err)
		}

		if anyRisky {
			return nil, false, nil
		}

		if n == 0 {
			continue
		}

		var id any = types.Null

		switch {
		case cls == "string" && val != nil:
			id = *val
		case cls == "objectId" && val != nil:
			raw, hexErr := hex.DecodeString(*val)
			if hexErr != nil || len(raw) != types.ObjectIDLen {
				return nil, false, lazyerrors.Errorf("objectId %q", *val)
			}
			id = types.ObjectID(raw)
		case cls == "bool" && val != nil:
			id = *val == "true"
		case cls == "date" && val != nil:
			var ms int64
			if _, err = fmt.Sscan(*val, &ms); err != nil {
				return nil, false, lazyerrors.Error(err)
			}
			id = time.UnixMilli(ms).UTC()
		}

		doc, docErr := types.NewDocument("_id", id, params.CureConnectGroupAs, int32(n))
		if docErr != nil {
			return nil, false, lazyerrors.Error(docErr)
		}

		docs = append(docs, doc)
	}

	if err = rows.Err(); err != nil {
		return nil, false, lazyerrors.Error(err)
	}

	return &backends.QueryResult{Iter: iterator.Values(iterator.ForSlice(docs)), CureConnectGrouped: true}, true, nil
}

// cureconnectCountAll is the one group of `_id: constant`: the number of matches, if any.
func cureconnectCountAll(ctx context.Context, q pgxQuerier, table, where string, args []any, pred, risky string,
	params *backends.QueryParams,
) (*backends.QueryResult, bool, error) {
	sql := fmt.Sprintf("SELECT count(*) FILTER (WHERE (%s) IS TRUE), coalesce(bool_or((%s) IS TRUE), FALSE) FROM %s%s",
		pred, risky, table, where)

	var n int64
	var anyRisky bool

	if err := q.QueryRow(ctx, sql, args...).Scan(&n, &anyRisky); err != nil {
		return nil, false, lazyerrors.Error(err)
	}

	if anyRisky {
		return nil, false, nil
	}

	return cureconnectCountGroup(n, params)
}

// cureconnectCountGroup is countDocuments' answer for n matches: one group `{_id: constant,
// as: n}`, or none when nothing matched.
func cureconnectCountGroup(n int64, params *backends.QueryParams) (*backends.QueryResult, bool, error) {
	var docs []*types.Document

	if n > 0 {
		doc, err := types.NewDocument("_id", params.CureConnectGroupID, params.CureConnectGroupAs, int32(n))
		if err != nil {
			return nil, false, lazyerrors.Error(err)
		}

		docs = append(docs, doc)
	}

	return &backends.QueryResult{Iter: iterator.Values(iterator.ForSlice(docs)), CureConnectGrouped: true}, true, nil
}
