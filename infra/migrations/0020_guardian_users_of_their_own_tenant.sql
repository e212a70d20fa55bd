-- A guardian's sign-in user belongs to the guardian's own tenant. Before this, staff of one
-- tenant could bind a guardian user of another tenant, whose next token then listed their
-- students. Bindings across tenants are undone (the guardian keeps its record, without a
-- sign-in); the composite key keeps them from coming back.
UPDATE guardians g SET user_id = NULL
FROM users u
WHERE g.user_id = u.id AND g.tenant_id <> u.tenant_id;

ALTER TABLE users ADD CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE guardians
    ADD CONSTRAINT guardians_user_of_the_same_tenant
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);
