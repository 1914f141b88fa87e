package store

import "database/sql"

// CollectMap reads rows of two columns (key, value) into a map and closes
// them: counts per id, ids per name.
func CollectMap[K comparable, V any](rows *sql.Rows) (map[K]V, error) {
	defer rows.Close()
	out := map[K]V{}
	for rows.Next() {
		var k K
		var v V
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}
