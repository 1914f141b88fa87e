-- A product or coupon card on an outbound message (JSON), for channels
-- that show cards (LINE Flex); others send the text.
ALTER TABLE outbox ADD COLUMN card TEXT NOT NULL DEFAULT '';
