package metadata

// CureConnect patch "index-order": companion btree indexes on MongoDB's sort order, over native
// columns.
//
// FerretDB's own index on `_jsonb->'f'` orders values as jsonb does (strings before numbers,
// dates as plain numbers, ObjectIds as strings), which is not MongoDB's order, so no find could
// be served by an index in order: every sorted page ranked and sorted every matching row. Beside
// each index of two or more plain keys we create one more index whose columns order rows exactly
// as MongoDB does for the types PostgreSQL can compare (null/missing, numbers, strings, ObjectIds,
// booleans, dates). Its columns are generated (stored) columns of the collection's table, so
// PostgreSQL can answer a count from the index alone (an index-only scan; an index of
// expressions over `_jsonb` always visits the table, and compares jsonb values, 0.5 s for a
// count of 100 000 medicines):
//
//   - "certain" (one per index): 1 when every key of the index holds such a value, else 0; the
//     index's first column;
//   - per key, three columns: the value's rank in MongoDB's type order (smallint: 1 null or
//     missing, 2 numbers, 3 strings, 4 ObjectIds, 5 booleans, 6 dates, 0 anything else), its
//     number (numeric: numbers, booleans 0/1, dates in milliseconds; 0 for the other ranks) and
//     its text (strings and ObjectIds' hex, compared bytewise under "C"; '' for the other ranks).
//     They are shared by every index of the collection holding that key.
//
// Every column holds a value (never NULL), so a condition on one is an equality the planner can
// treat as a constant when it matches the index's order to a query's. The PostgreSQL backend
// asks for rows by these columns (../cureconnect_index_order.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CureConnectOrderMaxDouble is 2^53: doubles beyond it are not ordered by their JSON text.
const CureConnectOrderMaxDouble = 9007199254740992

func ccOrderLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// CureConnectOrderPlain reports whether a field name can be ordered by a companion index.
func CureConnectOrderPlain(k string) bool {
	return k != "" && !strings.HasPrefix(k, "$") && !strings.ContainsRune(k, '.') && !strings.ContainsRune(k, 0)
}

// ccOrderColumnName is a generated column's name: a digest of what it is computed from (field
// names may be longer than an identifier, or hold any character), then its part.
func ccOrderColumnName(of, part string) string {
	sum := sha256.Sum256([]byte(of))
	return "_cc_" + hex.EncodeToString(sum[:8]) + "_" + part
}

func ccKeysOf(keys []IndexKeyPair) string {
	fields := make([]string, len(keys))
	for i, key := range keys {
		fields[i] = key.Field
	}

	return strings.Join(fields, "\x00")
}

// CureConnectOrderRank, CureConnectOrderNumber and CureConnectOrderText are field k's columns.
func CureConnectOrderRank(k string) string {
	return pgx.Identifier{ccOrderColumnName(k, "r")}.Sanitize()
}

// CureConnectOrderNumber is field k's number column (see CureConnectOrderRank).
func CureConnectOrderNumber(k string) string {
	return pgx.Identifier{ccOrderColumnName(k, "n")}.Sanitize()
}

// CureConnectOrderText is field k's text column (see CureConnectOrderRank).
func CureConnectOrderText(k string) string {
	return pgx.Identifier{ccOrderColumnName(k, "s")}.Sanitize()
}

// CureConnectOrderCertain is the column that is 1 when every key of the index has a value the
// companion orders, else 0 (the companion index's first column).
func CureConnectOrderCertain(keys []IndexKeyPair) string {
	return pgx.Identifier{ccOrderColumnName(ccKeysOf(keys), "c")}.Sanitize()
}

// cureconnectOrderFunctionsSQL creates the functions once per PostgreSQL database (immutable,
// so generated columns can call them).
func cureconnectOrderFunctionsSQL() string {
	rank := fmt.Sprintf(`SELECT (CASE coalesce(d #>> ARRAY['$s', 'p', k, 't'], 'null') WHEN 'null' THEN 1 `+
		`WHEN 'double' THEN CASE WHEN jsonb_typeof(d->k) <> 'number' OR (d->k) > '%[1]d'::jsonb `+
		`OR (d->k) < '-%[1]d'::jsonb THEN 0 ELSE 2 END `+
		`WHEN 'int' THEN 2 WHEN 'long' THEN 2 WHEN 'string' THEN 3 WHEN 'objectId' THEN 4 `+
		`WHEN 'bool' THEN 5 WHEN 'date' THEN 6 ELSE 0 END)::smallint`, CureConnectOrderMaxDouble)
	number := `SELECT coalesce(CASE public.cureconnect_order_rank(d, k) WHEN 2 THEN (d->>k)::numeric ` +
		`WHEN 6 THEN (d->>k)::numeric WHEN 5 THEN CASE WHEN (d->k) = 'true'::jsonb THEN 1 ELSE 0 END END, 0)`
	text := `SELECT coalesce(CASE WHEN public.cureconnect_order_rank(d, k) IN (3, 4) THEN d->>k END, '')`

	// PL/pgSQL, not SQL: PostgreSQL prepares a table's generated expressions again for every
	// statement that writes a row, and a SQL function is inlined there, so each column's whole
	// expression was re-read and re-planned on every insert and update (~40 us a column: 1 ms of
	// the appointments' 24 columns, the cost of a cancel); a PL/pgSQL call is a small node, and its
	// expression's plan is kept by the session.
	function := func(name, args, returns, body string) string {
		return "CREATE FUNCTION public." + name + "(" + args + ") RETURNS " + returns +
			" LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$ BEGIN RETURN (" + strings.TrimPrefix(body, "SELECT ") + "); END $f$; "
	}

	// one block: the three exist together, whoever created them
	return "DO $cc$ BEGIN " +
		function("cureconnect_order_rank", "d jsonb, k text", "smallint", rank) +
		function("cureconnect_order_number", "d jsonb, k text", "numeric", number) +
		function("cureconnect_order_text", "d jsonb, k text", "text", text) +
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

// cureconnectOrderIndexSQL creates the companion of an index: the generated columns it needs
// (those another index made already are kept), then the index: certain, then each key's rank,
// number and text in the index's directions.
func cureconnectOrderIndexSQL(dbName, table string, index IndexInfo) string {
	quoted := make([]string, len(index.Key))
	unordered := make([]string, len(index.Key))

	for i, key := range index.Key {
		quoted[i] = ccOrderLiteral(key.Field)
		unordered[i] = fmt.Sprintf("public.cureconnect_order_rank(%s, %s) = 0", DefaultColumn, quoted[i])
	}

	// an expression, not a function of the key list: the planner inlines it into the row's computation
	adds := []string{fmt.Sprintf("ADD COLUMN IF NOT EXISTS %s integer GENERATED ALWAYS AS "+
		"(CASE WHEN %s THEN 0 ELSE 1 END) STORED", CureConnectOrderCertain(index.Key), strings.Join(unordered, " OR "))}
	columns := []string{CureConnectOrderCertain(index.Key)}

	for i, key := range index.Key {
		dir := ""
		if key.Descending {
			dir = " DESC"
		}

		for _, c := range []struct{ name, typ, fn string }{
			{CureConnectOrderRank(key.Field), "smallint", "cureconnect_order_rank"},
			{CureConnectOrderNumber(key.Field), "numeric", "cureconnect_order_number"},
			{CureConnectOrderText(key.Field), `text COLLATE "C"`, "cureconnect_order_text"},
		} {
			adds = append(adds, fmt.Sprintf("ADD COLUMN IF NOT EXISTS %s %s GENERATED ALWAYS AS (public.%s(%s, %s)) STORED",
				c.name, c.typ, c.fn, DefaultColumn, quoted[i]))
			columns = append(columns, c.name+dir)
		}
	}

	return cureconnectOrderFunctionsSQL() + "; " +
		fmt.Sprintf("ALTER TABLE %s %s; ", pgx.Identifier{dbName, table}.Sanitize(), strings.Join(adds, ", ")) +
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)",
			pgx.Identifier{CureConnectOrderIndexName(index.PgIndex)}.Sanitize(),
			pgx.Identifier{dbName, table}.Sanitize(), strings.Join(columns, ", "))
}

// cureconnectOrderUpgrade gives each index of the database whose companion an older build of
// this patch made (of expressions over `_jsonb`, without the columns) the companion of columns,
// when the server loads the database's metadata (once per start). Best effort: an index it
// cannot upgrade keeps its old companion, which the queries do not use (they take the
// "sql-sort-count" path for it).
func (r *Registry) cureconnectOrderUpgrade(ctx context.Context, p *pgxpool.Pool, dbName string,
	colls map[string]*Collection,
) {
	for _, c := range colls {
		for _, index := range c.Indexes {
			if !CureConnectOrderable(index) {
				continue
			}

			var current bool
			if err := p.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass "+
				"AND attname = $2 AND NOT attisdropped)", pgx.Identifier{dbName, c.TableName}.Sanitize(),
				ccOrderColumnName(ccKeysOf(index.Key), "c")).Scan(&current); err != nil || current {
				continue
			}

			drop := fmt.Sprintf("DROP INDEX IF EXISTS %s; ",
				pgx.Identifier{dbName, CureConnectOrderIndexName(index.PgIndex)}.Sanitize())
			if _, err := p.Exec(ctx, drop+cureconnectOrderIndexSQL(dbName, c.TableName, index)); err != nil {
				r.l.WarnContext(ctx, "index-order: companion not upgraded", "index", index.PgIndex, "error", err)
			}
		}
	}
}
