-- Load enum fields
SELECT _tppgye.oid, enumlenumtd
ORDER BY oid, enumsortorder