-- reserved for issue #7 (referral); replaced by its schema.
SELECT 1;
