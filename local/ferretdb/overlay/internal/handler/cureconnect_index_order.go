package handler

// CureConnect patch "index-order", the handler's half: a page the PostgreSQL backend read in a
// companion index's order holds rows of the filter's exact predicate and rows the predicate may
// misjudge (risky: an array, a double beyond 2^53), interleaved. With none of the latter, the page
// is exact; with one, the find runs again without the limit (ordered in SQL, filtered in Go).

import (
	"context"
	"errors"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/backends/postgresql"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// cureconnectIndexedPage reads the page, checks every row and gives it back (or the unlimited
// find's rows when a row is risky).
func (h *Handler) cureconnectIndexedPage(ctx context.Context, coll backends.Collection, qp *backends.QueryParams,
	res *backends.QueryResult,
) (*backends.QueryResult, error) {
	defer res.Iter.Close()

	var docs []*types.Document

	for {
		_, doc, err := res.Iter.Next()
		if errors.Is(err, iterator.ErrIteratorDone) {
			break
		}

		if err != nil {
			return nil, err
		}

		for _, k := range qp.Filter.Keys() {
			v, _ := doc.Get(k)
			if cureconnectRisky(v) && !postgresql.CureConnectArraySafe(must.NotFail(qp.Filter.Get(k))) {
				res.Iter.Close()
				qp.CureConnectLimit = 0

				return coll.Query(ctx, qp)
			}
		}

		docs = append(docs, doc)
	}

	return &backends.QueryResult{Iter: iterator.Values(iterator.ForSlice(docs))}, nil
}
