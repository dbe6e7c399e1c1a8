"""What both Python baselines share: reading the config, starting four stages connected by
queues, feeding them 1000 records per message and writing their output in input order.

    baseline_driver.main(name, stages)

`stages(config, queues)` returns the four `multiprocessing.Process`es, stage k reading
`queues[k]` and writing `queues[k + 1]`; each passes `(seq, ...)` messages on and ends with None;
the last one's messages are `(seq, bytes)`. Prints "records seconds" on stdout.
"""
import multiprocessing as mp
import os
import sys
import threading
import time
import tomllib

CHUNK = 1000


def main(name, stages):
    config_path, input_path, output_path = sys.argv[1:4]
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    model = config["model"]["path"]
    if not os.path.isabs(model):
        config["model"]["path"] = os.path.join(os.path.dirname(os.path.abspath(config_path)), model)
    queues = [mp.Queue(maxsize=8) for _ in range(5)]
    processes = stages(config, queues)
    start = time.perf_counter()
    for p in processes:
        p.start()

    def watch():
        # A stage that dies (a missing module, a crash) would leave the others and this process
        # waiting on their queues forever: end the run with its exit code instead.
        while True:
            for p in processes:
                if p.exitcode not in (None, 0):
                    print(f"{name}: stage {p.name} exited with {p.exitcode}", file=sys.stderr, flush=True)
                    for q in processes:
                        q.kill()
                    os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    records = 0
    pending = {}
    next_seq = 0

    def drain(block):
        nonlocal next_seq
        while True:
            try:
                item = queues[4].get(block=block, timeout=None if block else 0)
            except Exception:
                return False
            if item is None:
                return True
            pending[item[0]] = item[1]
            while next_seq in pending:
                out.write(pending.pop(next_seq))
                next_seq += 1
            block = False

    with open(input_path, "rb") as src, open(output_path, "wb") as out:
        seq = 0
        chunk = []
        while block := src.readlines(1 << 20):
            for line in block:
                if line.strip():
                    chunk.append(line)
                if len(chunk) == CHUNK:
                    queues[0].put((seq, chunk))
                    records += len(chunk)
                    seq += 1
                    chunk = []
                    drain(False)
        if chunk:
            queues[0].put((seq, chunk))
            records += len(chunk)
        queues[0].put(None)
        while not drain(True):
            pass
    for p in processes:
        p.join()
    print(records, time.perf_counter() - start)
