-- Virtual account numbers for bank transfer top-ups, allocated: one per wallet (a student's),
-- unique, given when the student is created and never changed afterwards. They used to be
-- derived from a hash of the wallet, so two wallets could be given the same number.
--
-- The format (core/wallet/portal.py describes it too, and a test holds the two together):
-- 16 digits, the bank's prefix for Saku wallets "8808", the allocation's number from one
-- sequence zero-padded to 11 digits, and a Luhn check digit over the 15 digits before it.
-- One sequence for every tenant: the bank knows a number, not a tenant. Saku looks a number
-- up only within the caller's tenant.

CREATE SEQUENCE virtual_account_seq AS bigint MINVALUE 1 MAXVALUE 99999999999 NO CYCLE;

CREATE FUNCTION virtual_account_number(seq bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    body  text;
    total int := 0;
    d     int;
BEGIN
    IF seq < 1 OR seq > 99999999999 THEN
        RAISE EXCEPTION 'virtual account allocation % is out of range', seq;
    END IF;
    body := '8808' || lpad(seq::text, 11, '0');
    -- Luhn: from the right, every second digit doubled, starting with the rightmost one
    -- (the check digit is appended after them)
    FOR i IN 1..length(body) LOOP
        d := substr(body, length(body) + 1 - i, 1)::int;
        IF i % 2 = 1 THEN
            d := d * 2;
            IF d > 9 THEN
                d := d - 9;
            END IF;
        END IF;
        total := total + d;
    END LOOP;
    RETURN body || ((10 - total % 10) % 10)::text;
END $$;

-- Existing wallets get theirs in the order they were created.
ALTER TABLE students ADD COLUMN virtual_account text;
UPDATE students s SET virtual_account = virtual_account_number(o.n)
  FROM (SELECT tenant_id, id, row_number() OVER (ORDER BY created_at, tenant_id, id) AS n
          FROM students) o
 WHERE s.tenant_id = o.tenant_id AND s.id = o.id;
SELECT setval('virtual_account_seq', count(*)) FROM students HAVING count(*) > 0;
-- Auto top-up requests not yet on the bank-facing topic go out with the new number.
UPDATE topup_requests r SET virtual_account = s.virtual_account
  FROM students s
 WHERE s.tenant_id = r.tenant_id AND s.id = r.student_id AND r.status = 'pending';

ALTER TABLE students
    ALTER COLUMN virtual_account SET DEFAULT virtual_account_number(nextval('virtual_account_seq')),
    ALTER COLUMN virtual_account SET NOT NULL,
    ADD CONSTRAINT students_virtual_account_format CHECK (virtual_account ~ '^8808[0-9]{12}$'),
    ADD CONSTRAINT students_virtual_account_key UNIQUE (virtual_account);
ALTER SEQUENCE virtual_account_seq OWNED BY students.virtual_account;

-- Once given, a wallet's number stays: guardians and banks keep it.
CREATE FUNCTION virtual_account_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.virtual_account IS DISTINCT FROM OLD.virtual_account THEN
        RAISE EXCEPTION 'a wallet keeps its virtual account number'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER students_virtual_account_kept BEFORE UPDATE OF virtual_account ON students
    FOR EACH ROW EXECUTE FUNCTION virtual_account_kept();
