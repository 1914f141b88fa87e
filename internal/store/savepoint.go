package store

import (
	"context"
	"fmt"
)

// validSavepoint reports whether name can be spliced into a SAVEPOINT
// statement (quoted, so a keyword such as "outer" is fine on both engines):
// an ASCII identifier of at most 63 bytes (PostgreSQL's limit).
func validSavepoint(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Savepoint sets a savepoint named name (SQL SAVEPOINT): RollbackTo undoes
// what the transaction did since, hooks included; Release keeps it. Names
// follow SQL: a name set again hides the earlier one until released.
func (tx *Tx) Savepoint(ctx context.Context, name string) error {
	if !validSavepoint(name) {
		return fmt.Errorf("store: %w: savepoint name %q", ErrInvalid, name)
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT "`+name+`"`); err != nil {
		return fmt.Errorf("store: savepoint %s: %w", name, err)
	}
	tx.saves = append(tx.saves, savepoint{name: name, after: len(tx.after), ordered: len(tx.ordered)})
	return nil
}

// open is the index of the innermost open savepoint named name, or an
// error.
func (tx *Tx) open(name string) (int, error) {
	for i := len(tx.saves) - 1; i >= 0; i-- {
		if tx.saves[i].name == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("store: %w: no savepoint %q is open", ErrInvalid, name)
}

// RollbackTo undoes everything done since the savepoint name was set
// (SQL ROLLBACK TO SAVEPOINT): the writes, the savepoints set after it,
// and the after-commit hooks registered since — an event appended and
// rolled back is never published. The savepoint itself stays open. On
// PostgreSQL this also recovers a transaction a failed statement aborted.
// If the statement fails the hooks are dropped all the same and the
// transaction must be rolled back.
func (tx *Tx) RollbackTo(ctx context.Context, name string) error {
	i, err := tx.open(name)
	if err != nil {
		return err
	}
	sp := tx.saves[i]
	clear(tx.after[sp.after:])
	tx.after = tx.after[:sp.after]
	clear(tx.ordered[sp.ordered:])
	tx.ordered = tx.ordered[:sp.ordered]
	tx.saves = tx.saves[:i+1]
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT "`+name+`"`); err != nil {
		return fmt.Errorf("store: rollback to savepoint %s: %w", name, err)
	}
	return nil
}

// Release forgets the savepoint name and those set after it (SQL RELEASE
// SAVEPOINT), keeping what was done since: it commits with the
// transaction.
func (tx *Tx) Release(ctx context.Context, name string) error {
	i, err := tx.open(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT "`+name+`"`); err != nil {
		return fmt.Errorf("store: release savepoint %s: %w", name, err)
	}
	tx.saves = tx.saves[:i]
	return nil
}

// advance releases the savepoint name and sets it again at this point, in
// one round trip (the group committer's step from one request to the
// next).
func (tx *Tx) advance(ctx context.Context, name string) error {
	i, err := tx.open(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT "`+name+`"; SAVEPOINT "`+name+`"`); err != nil {
		return fmt.Errorf("store: move savepoint %s: %w", name, err)
	}
	tx.saves = append(tx.saves[:i], savepoint{name: name, after: len(tx.after), ordered: len(tx.ordered)})
	return nil
}
