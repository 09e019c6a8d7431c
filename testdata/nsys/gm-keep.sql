-- Keep of GPU_METRICS only the metrics gate reads (GPC clock, SMs active,
-- tensor active, DRAM read and write bandwidth, PCIe RX and TX) and only
-- the samples inside the temp table win(lo, hi) the caller made; read by
-- gm-trim.sh and hf-trim.sh (sqlite3's .read). TARGET_INFO_GPU_METRICS
-- stays whole, so that the parser still meets the names it does not use.
CREATE TEMP TABLE keep AS
  SELECT typeId, metricId FROM TARGET_INFO_GPU_METRICS
  WHERE metricName LIKE 'GPC Clock Frequency%'
     OR metricName LIKE 'SMs Active%'
     OR metricName LIKE 'Tensor Active%'
     OR metricName LIKE 'DRAM Read Bandwidth%'
     OR metricName LIKE 'DRAM Write Bandwidth%'
     OR metricName LIKE 'PCIe RX Throughput%'
     OR metricName LIKE 'PCIe TX Throughput%';
CREATE TABLE gm AS
  SELECT g.* FROM GPU_METRICS g, win
  WHERE g.timestamp BETWEEN win.lo AND win.hi
    AND (g.typeId, g.metricId) IN (SELECT typeId, metricId FROM keep)
  ORDER BY g.rowid;
DROP TABLE GPU_METRICS;
ALTER TABLE gm RENAME TO GPU_METRICS;
