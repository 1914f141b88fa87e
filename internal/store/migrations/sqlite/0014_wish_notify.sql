-- reserved for issue #7 (wish_notify); replaced by its schema.
SELECT 1;
