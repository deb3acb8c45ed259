-- Where each dispatcher's process id means something: a pid is only checked
-- against the processes of the same boot and pid namespace (container). A
-- dispatcher written from elsewhere is judged by its heartbeat alone.
ALTER TABLE dispatchers ADD COLUMN pid_namespace TEXT;

-- Keys given a webhook URL before signing secrets existed get a secret in
-- the same transaction, from Rust (see store/migrate.rs): SQL cannot make
-- one in the `whsec_` form.
