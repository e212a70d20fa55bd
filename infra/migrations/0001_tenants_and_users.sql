-- Tenants (a bank or school foundation running Saku) and the people who sign in.
CREATE TABLE tenants (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     text NOT NULL REFERENCES tenants (id),
    username      text NOT NULL UNIQUE CHECK (length(username) BETWEEN 3 AND 64),
    -- argon2id hash (memory-hard); the password itself is never stored or logged
    password_hash text NOT NULL,
    role          text NOT NULL
                  CHECK (role IN ('admin', 'school_staff', 'guardian', 'operator', 'analyst')),
    -- scope: staff belong to a school; guardians see only their students
    school_id     text,
    student_ids   text[] NOT NULL DEFAULT '{}',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'school_staff' OR school_id IS NOT NULL)
);
CREATE INDEX users_tenant_idx ON users (tenant_id);

-- Round trips written by the self-check workflow: proof that worker, database and
-- workflow engine work together. Kept small: one row per check.
CREATE TABLE selfchecks (
    check_id     text PRIMARY KEY,
    source       text NOT NULL,
    workflow_id  text NOT NULL,
    checked_at   timestamptz NOT NULL DEFAULT now()
);
