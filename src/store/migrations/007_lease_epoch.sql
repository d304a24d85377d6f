-- Fencing token for the ingest leases: a monotonic epoch, raised each time the lease passes to
-- another holder and kept while the same holder renews (or takes back its own expired lease, as
-- nobody else wrote in between). Every bar write of the ingest writer checks, in its transaction, that
-- the lease row still carries its holder and epoch, so a writer that lost its lease (paused, or
-- cut off from the database) cannot overwrite the newer writer's rows when it comes back.
ALTER TABLE ingest_leases ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 1;
