-- reserved for issue #7 (commerce); replaced by its schema.
SELECT 1;
