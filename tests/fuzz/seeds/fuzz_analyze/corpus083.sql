SELECT conname
           FROM  pg_catalog.pg_constraint r
           WHERE r.conrelid = 16385 AND r.contype = 'p'
           ORDER BY 1