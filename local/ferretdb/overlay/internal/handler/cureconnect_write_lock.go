package handler

import "sync"

// writeLock serialises update, findAndModify and delete so that each one's read-modify-write
// is atomic with respect to the others (CureConnect patch "atomic-writes"; FerretDB#3040).
var writeLock sync.Mutex
