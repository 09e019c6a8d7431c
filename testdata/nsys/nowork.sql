-- The string ids of the API calls that never launch GPU work and that gate
-- skips unread (part of noWorkAPI in parse/calls.go: cuKernelGetName and
-- cuKernelGetAttribute beside every launch, cuGetProcAddress, cuLibrary*,
-- cudaStreamIsCapturing), as the temp table nowork(id): the trims drop
-- their rows, about half of a PyTorch capture's API calls. Read by
-- hf-trim.sh, hfn-trim.sh and nonvtx-trim.sh (sqlite3's .read).
CREATE TEMP TABLE nowork AS
  SELECT id FROM StringIds WHERE value GLOB 'cuKernelGet*' OR value GLOB 'cuKernelSet*'
    OR value GLOB 'cuGetProcAddress*' OR value GLOB 'cuLibrary*' OR value GLOB 'cudaStreamIsCapturing*';
