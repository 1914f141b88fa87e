-- reserved for issue #7 (sales); replaced by its schema.
SELECT 1;
