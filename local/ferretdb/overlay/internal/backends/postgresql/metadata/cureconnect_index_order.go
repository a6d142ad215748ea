package metadata

// CureConnect patch "index-order": companion btree indexes on MongoDB's sort order.
//
// FerretDB's own index on `_jsonb->'f'` orders values as jsonb does (strings before numbers,
// dates as plain numbers, ObjectIds as strings), which is not MongoDB's order, so no find could
// be served by an index in order: every sorted page ranked and sorted every matching row. Beside
// each index of two or more plain keys we create one more index whose columns order rows exactly
// as MongoDB does for the types PostgreSQL can compare (null/missing, numbers, strings, ObjectIds,
// booleans, dates): a leading "certain" column (1 when every key of the index holds such a
// value, else 0) and, per key, a jsonb pair [rank, value] (jsonb compares arrays of equal length
// element by element, numbers numerically and strings bytewise under the cluster's C collation).
// The PostgreSQL backend asks for rows by these same expressions, so the planner walks the index.

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CureConnectOrderMaxDouble is 2^53: doubles beyond it are not ordered by their JSON text.
const CureConnectOrderMaxDouble = 9007199254740992

// CureConnectOrderUnknown is the pair of a value the index does not order (an array, a document, ...).
const CureConnectOrderUnknown = `'[0, null]'::jsonb`

func ccOrderLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CureConnectOrderPlain reports whether a field name can be ordered by a companion index.
func CureConnectOrderPlain(k string) bool {
	return k != "" && !strings.HasPrefix(k, "$") && !strings.ContainsRune(k, '.') && !strings.ContainsRune(k, 0)
}

// CureConnectOrderKey is field k's place in MongoDB's order: [rank, value] as jsonb, rank 1 for
// null or missing, 2 numbers, 3 strings, 4 ObjectIds, 5 booleans, 6 dates, [0, null] for anything
// else (public.cureconnect_order_key, an immutable SQL function, so it can be indexed; an index
// of the whole expression did not fit PostgreSQL's catalogue row).
func CureConnectOrderKey(k string) string {
	return fmt.Sprintf("public.cureconnect_order_key(%s, %s)", DefaultColumn, ccOrderLiteral(k))
}

// CureConnectOrderCertain is 1 when every key of the index has a value CureConnectOrderKey
// orders, else 0 (the companion index's first column).
func CureConnectOrderCertain(keys []IndexKeyPair) string {
	quoted := make([]string, len(keys))
	for i, key := range keys {
		quoted[i] = ccOrderLiteral(key.Field)
	}

	return fmt.Sprintf("public.cureconnect_order_certain(%s, ARRAY[%s]::text[])", DefaultColumn, strings.Join(quoted, ", "))
}

// cureconnectOrderFunctionsSQL creates the two functions once per PostgreSQL database. Their
// COST tells the planner that evaluating them row by row (a sequential scan) is dear: without it,
// a count matching most of a collection was planned as a scan calling them on every row (1.6 s
// at 45 000 medicines) instead of reading the companion index's entries.
func cureconnectOrderFunctionsSQL() string {
	key := fmt.Sprintf(`SELECT CASE coalesce(d #>> ARRAY['$s', 'p', k, 't'], 'null') WHEN 'null' THEN '[1, null]'::jsonb `+
		`WHEN 'double' THEN CASE WHEN (d->k) > '%[1]d'::jsonb OR (d->k) < '-%[1]d'::jsonb THEN %[2]s `+
		`ELSE '[2]'::jsonb || (d->k) END `+
		`WHEN 'int' THEN '[2]'::jsonb || (d->k) WHEN 'long' THEN '[2]'::jsonb || (d->k) `+
		`WHEN 'string' THEN '[3]'::jsonb || (d->k) WHEN 'objectId' THEN '[4]'::jsonb || (d->k) `+
		`WHEN 'bool' THEN '[5]'::jsonb || (d->k) WHEN 'date' THEN '[6]'::jsonb || (d->k) ELSE %[2]s END`,
		CureConnectOrderMaxDouble, CureConnectOrderUnknown)
	certain := fmt.Sprintf(`SELECT CASE WHEN EXISTS (SELECT 1 FROM unnest(ks) AS k `+
		`WHERE public.cureconnect_order_key(d, k) = %s) THEN 0 ELSE 1 END`, CureConnectOrderUnknown)

	return "DO $cc$ BEGIN " +
		"CREATE FUNCTION public.cureconnect_order_key(d jsonb, k text) RETURNS jsonb " +
		"LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000 AS $f$ " + key + " $f$; " +
		"CREATE FUNCTION public.cureconnect_order_certain(d jsonb, ks text[]) RETURNS integer " +
		"LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000 AS $f$ " + certain + " $f$; " +
		"EXCEPTION WHEN duplicate_function OR unique_violation THEN NULL; END $cc$"
}

// CureConnectOrderable reports whether an index gets a companion: two or more plain keys.
func CureConnectOrderable(index IndexInfo) bool {
	if len(index.Key) < 2 {
		return false
	}

	for _, key := range index.Key {
		if !CureConnectOrderPlain(key.Field) {
			return false
		}
	}

	return true
}

// CureConnectOrderIndexName is the companion's name (as long as the index's own).
func CureConnectOrderIndexName(pgIndex string) string {
	return strings.TrimSuffix(pgIndex, "_idx") + "_ord"
}

// cureconnectOrderIndexSQL creates the companion of an index: certain, then each key's pair
// in the index's directions.
func cureconnectOrderIndexSQL(dbName, table string, index IndexInfo) string {
	columns := []string{"(" + CureConnectOrderCertain(index.Key) + ")"}

	for _, key := range index.Key {
		column := "(" + CureConnectOrderKey(key.Field) + ")"
		if key.Descending {
			column += " DESC"
		}

		columns = append(columns, column)
	}

	return cureconnectOrderFunctionsSQL() + "; " + fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)",
		pgx.Identifier{CureConnectOrderIndexName(index.PgIndex)}.Sanitize(),
		pgx.Identifier{dbName, table}.Sanitize(), strings.Join(columns, ", "))
}
