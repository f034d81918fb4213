#!/usr/bin/env python3
"""The floor under a journal transaction: SQLite alone, as the node's journal is laid out (docs/benchmarks.md).

Usage: sqlite_alone.py ROWS_PER_TRANSACTION PERSISTENCE_IDS literal|params [DATABASE]

Builds the journal table and its unique (persistence_id, sequence_number) index in a new file, in WAL mode with
synchronous=FULL, then times 2,000 transactions (after 300 to warm up). Each is BEGIN IMMEDIATE, one INSERT of
ROWS_PER_TRANSACTION 150-byte events, each for a persistence id picked at random out of PERSISTENCE_IDS, and COMMIT.
'literal' inserts them as one multi-row INSERT of hex literals (what linq2db's bulk copy sends); 'params' binds them.
"""
import os
import random
import sqlite3
import sys
import time

per_tx, ids, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
path = sys.argv[4] if len(sys.argv) > 4 else '/tmp/actorgrid-sqlite-alone.db'
for f in (path, path + '-wal', path + '-shm'):
    if os.path.exists(f):
        os.remove(f)

db = sqlite3.connect(path, isolation_level=None)
db.execute('PRAGMA journal_mode=WAL')
db.execute('PRAGMA synchronous=FULL')
db.execute('''CREATE TABLE journal (ordering INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL,
  deleted Bit NOT NULL, persistence_id NVarChar(255) NOT NULL, sequence_number INTEGER NOT NULL,
  message VarBinary NOT NULL, manifest NVarChar(500), identifier INTEGER, writer_uuid NVarChar(128))''')
db.execute('CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number)')
columns = 'created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid'
sequence = [0] * ids
payload = os.urandom(150)


def transaction():
    rows = []
    for _ in range(per_tx):
        p = random.randrange(ids)
        sequence[p] += 1
        rows.append((int(time.time() * 1000), 0, f'kv-partition-{p}', sequence[p], payload, 'kv.put.v1', 42, 'writer'))
    db.execute('BEGIN IMMEDIATE')
    if mode == 'literal':
        values = ','.join(f"({r[0]},0,'{r[2]}',{r[3]},X'{r[4].hex()}','{r[5]}',{r[6]},'{r[7]}')" for r in rows)
        db.execute(f'INSERT INTO journal ({columns}) VALUES {values}')
    else:
        db.executemany(f'INSERT INTO journal ({columns}) VALUES (?,?,?,?,?,?,?,?)', rows)
    db.execute('COMMIT')


for _ in range(300):
    transaction()
n = 2000
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(n):
    transaction()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(f'{per_tx} rows per transaction over {ids} ids ({mode}): {wall / n * 1000:.3f} ms per transaction, '
      f'{cpu / n * 1000:.3f} ms of CPU, {wall / n / per_tx * 1e6:.1f} µs per row')
