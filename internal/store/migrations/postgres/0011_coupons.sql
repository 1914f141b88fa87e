-- reserved for issue #7 (coupons); replaced by its schema.
SELECT 1;
