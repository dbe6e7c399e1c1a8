/// Help texts for `--help`.
enum Help {
    static let main = """
        pipeline: score a stream of records with an ONNX model, one process per stage replica.

        usage: pipeline <command> [options]

        commands:
          up       start every stage, stream stdin through them to stdout, stop at end of input
                   (or --input/--output files; -d runs it in the background)
          scale    change a running pipeline's replica counts (pipeline scale infer=4)
          ps       list a running pipeline's replicas
          ls       list the running pipelines
          top      live view of a running pipeline: rates, busy %, queue waits per stage
          logs     show the replicas' logs and the supervisor's events, by time (-f follows)
          down     drain and stop a running pipeline
          check    validate a config file and its model without starting anything
          profile  write a drift reference profile of training records (for [drift])
          drift    a running pipeline's drift windows: each watched field against the reference
          rollout  swap a running pipeline's model at an exact input line; canary, shadow, roll back
          export   write Kubernetes manifests from the config (export kubernetes)
          bench    measure throughput, kernels, latency and footprint; write BENCHMARKS.md

        common options:
          -f, --file FILE    config file (default compose/pipeline.toml)
          --run-dir DIR      run directory (default $XDG_RUNTIME_DIR/pipeline/<name>
                             or /tmp/pipeline-<uid>/<name>)

        Without -f or --run-dir, where there is no compose/pipeline.toml, scale, ps, logs and
        down take the only running pipeline (see `pipeline ls`).

        `pipeline <command> --help` describes each command.
        """

    static let command: [String: String] = [
        "bench": """
            usage: pipeline bench [--workload W ...] [--records N] [--rounds R] [--out DIR]
                                  [--smoke] [--no-python] [--long] [--no-kernels] [--no-extras]
                                  [--no-autoscale] [--write-data DIR]

            Generates each workload's records (deterministically), then runs, alternately and
            --rounds times each: the four stages fused in one process, `pipeline up` with a few
            replica configurations, and two Python pipelines: the strongest natural one
            (Benchmarks/python/vectorized_baseline.py, one vectorized call per batch) and a
            generic one (python_baseline.py); compares the inference engine with onnxruntime at
            batch 256; runs `up --autoscale` from 1/1/1/1 against the best replica configuration
            on a longer stream (8-12 s), and on a stream in phases (fast long texts, a quiet
            phase, fast wide records); measures latency with one record every 10 ms, time to
            first output, idle memory, and cost versus input size. Prints a table and writes
            BENCHMARKS.md, docs/benchmark.svg and docs/autoscale.svg to DIR (default: the
            repository). Run it from the repository with a release build.

              --workload W   tabular-mlp, tabular-trees, text-linear or all (default all)
              --records N    records per run (default: tabular-mlp 1000000, tabular-trees
                             200000, text-linear 30000)
              --rounds R     runs of each configuration (default 3)
              --out DIR      where to write BENCHMARKS.md and docs/benchmark.svg (default: the
                             repository; with --smoke, nowhere unless given)
              --smoke        a tiny, quick run (CI): 2000 records, one round, no files written
              --no-python    skip the comparisons that need Python
              --long         add 10M records to the cost-versus-size runs
              --no-kernels   skip the kernel comparison with onnxruntime at batch 256
              --no-extras    skip latency, start-up, idle memory, metrics cost and cost versus
                             input size
              --no-autoscale skip the autoscale runs (against the best fixed configuration,
                             and the phased stream)
              --write-data DIR   only write each workload's config (W.toml) and records
                                 (W.jsonl) to DIR, to run or profile them by hand
            """,
        "up": """
            usage: pipeline up [-f FILE] [--run-dir DIR] [--scale STAGE=N ...] [--errors FILE]
                               [--stats FILE] [--events FILE] [--metrics HOST:PORT]
                               [--progress | --quiet] [--input FILE [--split I/N]]
                               [--output FILE] [-d] [--autoscale]

            Starts the ingest, featurize, infer and aggregate replicas, reads records from stdin
            (JSON lines or CSV, as the config says), writes one scored record per accepted input
            record to stdout in input order, and exits once the input is done and every replica
            has stopped. Rejected records are reported on stderr (or FILE) as one JSON line each.

              --input FILE         read the records from FILE instead of stdin (a FIFO is
                                   read once a writer opens it, until the last one closes it)
              --split I/N          with --input (a regular file): score only the I-th of N byte
                                   ranges of it (0 ≤ I < N), cut where records start; the N
                                   outputs concatenated are one run's over the whole file, and
                                   rejected records keep the whole file's line numbers (for
                                   Kubernetes Indexed Jobs: --split $(JOB_COMPLETION_INDEX)/N)
              --output FILE        write the scored records to FILE (created, or truncated)
                                   instead of stdout
              -d, --detach         run in the background (needs --input and --output): return
                                   once every stage is ready, printing the pipeline's name, pid
                                   and run directory; its stderr goes to
                                   <run dir>/logs/pipeline.log. `pipeline ps`, `logs` and
                                   `down` work on it. If it fails before it is ready, its error
                                   and exit code are up's.
              --scale STAGE=N      start N replicas of STAGE (overrides [stage.STAGE] replicas)
              --errors FILE        write rejected-record lines to FILE instead of stderr
              --stats FILE         at the end, write the run's statistics (records, seconds, CPU
                                   time and peak memory per stage) to FILE as JSON
              --events FILE        also write the event log (one JSON line per decision:
                                   replicas started, ready, exited, restarted; scaling; the end)
                                   to FILE; it always goes to <run dir>/logs/events.log
              --metrics HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics and a
                                   health check on /healthz (200 once every stage has a ready
                                   replica, else 503); overrides [metrics] listen. Port 0 picks
                                   a free port; the address is printed on stderr and shown by
                                   `pipeline ps`. Use 127.0.0.1 (this machine only) unless you
                                   mean to expose it; there is no authentication.
              --progress           show the progress line on stderr even when it is not a
                                   terminal (by default it is shown only on a terminal)
              -q, --quiet          no progress line
              --autoscale          size the stages to the load within a core budget (the
                                   [autoscale] table's settings, or its defaults); see README
                                   "Autoscaling"

            Timeouts and credits can be tuned with PIPELINE_* environment variables (README,
            "Guarantees under faults"); a value that cannot be used is refused (exit code 2).
            """,
        "scale": """
            usage: pipeline scale [-f FILE] [--run-dir DIR] STAGE=N [STAGE=N ...]

            Changes the replica count of stages of a running pipeline, live. New replicas join
            once ready; removed ones finish what they hold, flush, and exit. Waits until done.
            """,
        "ps": """
            usage: pipeline ps [-f FILE] [--run-dir DIR] [--json]

            Lists every replica: stage, index, pid, state, uptime, batches and rows processed,
            busy %, queued frames and memory; then each stage's ready and desired counts, the
            run's totals and, when it serves metrics, their address.
            """,
        "top": """
            usage: pipeline top [-f FILE] [--run-dir DIR] [--once] [--interval SECONDS]

            A live view of a running pipeline, like `docker stats`, redrawn every interval. The
            header: run directory, uptime, model; records read (and how much of stdin, when it
            is a file), written and rejected; records written per second over the last 5 s;
            batches in flight; latency (a batch read to its output written, p50 and p99 over
            the run). Then one row per stage: ready/desired replicas, records per second, busy %
            (time spent computing; 100 = one replica busy all the time, so up to 100 per
            replica), how long batches waited for the stage (p50, p99), restarts, and the
            replicas' memory. Stage figures cover the last 5 s. ASCII only, fits 80x24; a
            narrower terminal cuts lines.

            Keys: q or Ctrl-C quits, Ctrl-Z suspends, Ctrl-L redraws. The terminal is restored
            on every way out (keys, SIGINT, SIGTERM, SIGHUP). When the pipeline ends, top prints
            "pipeline: the run ended" and exits 0.

            When stdout is not a terminal (a pipe, a file) or TERM=dumb, top behaves as with
            --once. No pipeline running: one line on stderr, exit 8 (as `pipeline ps`).

              --once              print one frame as plain text and exit
              --interval SECONDS  time between frames (default 1; 0.1 to 3600)
            """,
        "ls": """
            usage: pipeline ls [--json]

            Lists the pipelines running in run directories under $XDG_RUNTIME_DIR/pipeline and
            /tmp/pipeline-<uid>: name, supervisor pid, uptime, ready replicas per stage
            (ready/desired where they differ), config file and run directory. A pipeline
            started with --run-dir elsewhere is not listed.
            """,
        "logs": """
            usage: pipeline logs [-f FILE] [--run-dir DIR] [--follow | -f] [--tail N]
                                 [-t | --timestamps] [TARGET ...]

            Prints the replicas' logs (their stderr) and the supervisor's events (replicas
            started, ready, exited, restarted; scaling; the run's start and end), merged in the
            order of their times, each line prefixed with where it comes from: `infer.2 | ` for
            a replica, `pipeline | ` for the supervisor (an event is shown as its name, then its
            other fields as JSON; a detached run's own log, <run dir>/logs/pipeline.log, comes
            under `pipeline` too). Works while the pipeline runs and after it has stopped.

            TARGET (several may be given; none: everything):
              STAGE            every replica of STAGE (ingest, featurize, infer, aggregate),
                               and the supervisor's events about the stage
              STAGE.N          replica N of STAGE (infer.2), and the events about it
              pipeline         the supervisor: all its events, and its own log when detached
              events           the event log alone, as written (JSON lines, no prefix)

              --follow         keep printing lines as they are written (replicas started
                               later included) until the run ends, or Ctrl-C
              -f               the same as --follow when nothing follows it, or an option, or
                               a TARGET; otherwise `-f FILE` is the config file
              --tail N         only the last N lines of each log (each replica's, the event
                               log, the supervisor's), then what follows; `all` for every line
              -t, --timestamps show each line's time (UTC)
            """,
        "down": """
            usage: pipeline down [-f FILE] [--run-dir DIR]

            Stops a running pipeline: it stops reading input, finishes and writes every batch
            already read, stops the replicas and exits. Waits until it has.
            """,
        "check": """
            usage: pipeline check [-f FILE] [--data SAMPLE]

            Validates the config file and its model (schema vs features vs model input width,
            model outputs vs labels) without starting anything, and prints the model's inputs,
            outputs and operator counts.

              --data SAMPLE   also score the records in SAMPLE (the config's input format) with
                              the model as written (float32) and in `[model] precision`, and
                              print how often the label is the same and the largest and mean
                              score difference: the accuracy cost of int8 or bf16, measured
                              before a rollout.
            """,
        "profile": """
            usage: pipeline profile [-f FILE] [--input FILE] [--output FILE] [--bins N] [--top N]
                                    [--fields a,b] [--no-predictions]

            `pipeline profile < training.jsonl > reference.json` runs training records through ingest, featurize and infer as `up` does, and writes
            the reference profile `[drift] reference` names: per input field, the share of
            records in each bin (numbers: bins at the training values' quantiles, plus missing;
            strings: the most frequent values, other, missing; bools; text fields: their length
            in bytes), and the same for the model's predicted label and score. The records are
            read twice (a pipe is kept in a temporary file in $TMPDIR); memory stays bounded
            (quantiles from a sample of 100,000 values per field). See README, "Watching for drift".

              --input FILE    read the records from FILE (default stdin)
              --output FILE   write the profile to FILE (default stdout)
              --bins N        bins per numeric field (default 10; 2 to 100)
              --top N         values kept per string field (default 20; the rest are "other")
              --fields a,b    the input fields to profile (default: every field a [[feature]] reads)
              --no-predictions  profile the input fields only
            """,
        "drift": """
            usage: pipeline drift [-f FILE] [--run-dir DIR] [--json]

            Prints a running pipeline's drift watch ([drift] in its config): the last windows
            (fields down, windows across: PSI for numbers, text length and the score, Jensen-
            Shannon distance for strings, bools and the label, with their warn and alert
            levels), and which fields drifted so far. --json prints every kept window.
            """,
        "export": """
            usage: pipeline export kubernetes [-f FILE] [--out DIR] [--image IMAGE] [--name NAME]
                                              [--splits N] [--input PATH] [--parts DIR] [--data-claim CLAIM]
                                              [--stream --source CMD --sink CMD [--replicas N]]
                                              [--model image|volume] [--model-path PATH] [--model-claim CLAIM]
                                              [--cpu CORES | --extra-cpu CORES] [--memory SIZE | --extra-memory SIZE]
                                              [--metrics-port PORT] [--uid UID]

            Writes Kubernetes manifests that run the config's pipeline: a ConfigMap holding the
            config as the pods read it (`[model] path` and `[drift] reference` rewritten to where
            they are in the pod; the reference itself in the ConfigMap too), and either an Indexed
            Job whose N pods each run `pipeline up --input PATH --split I/N` over one part of an
            input file and write part I to a volume, or (--stream) a StatefulSet whose pods each
            run a source command into `pipeline up` and its output into a sink command, with a
            headless Service. The config and its model are checked as `pipeline check` does, and
            the model's weight cache is built once in a temporary directory to size the memory.
            Pods run as a non-root user with a read-only root file system, no privilege
            escalation and no capabilities; the run directory is a memory-backed emptyDir; probes
            on /healthz and Prometheus scrape annotations on the metrics port. See README,
            "Running on a cluster".

              --out DIR          one file per object in DIR (made if missing): configmap.yaml,
                                 and job.yaml or service.yaml and statefulset.yaml (an earlier
                                 export's other files are removed); default: one multi-document
                                 YAML on stdout
              --image IMAGE      the container image, with `pipeline` on its PATH
                                 (default pipeline:VERSION)
              --name NAME        the objects' name (default: the config's [pipeline] name)

            A Job over a file (the default):
              --splits N         N pods (completions), pod I scoring the I-th of N parts
                                 (default 1)
              --input PATH       the input file in the pod (default /data/input.FORMAT)
              --parts DIR        where pod I writes part-I.FORMAT, part-I.errors.jsonl,
                                 part-I.stats.json and part-I.events.jsonl; it must exist
                                 (default /data/parts)
              --data-claim CLAIM the PersistentVolumeClaim mounted at /data (default NAME-data)

            A StatefulSet over a stream:
              --stream           pods that run --source | pipeline up | --sink
              --source CMD       shell command writing records to stdout; $POD_INDEX is the
                                 pod's ordinal (a partition, say)
              --sink CMD         shell command reading the scored records on stdin
              --replicas N       pods (default 1)

            Where the model lives:
              --model image      in the image, at --model-path (the default)
              --model volume     on a PersistentVolumeClaim mounted read-only at /models
              --model-path PATH  the model file in the pod (default /models/FILE, FILE the
                                 name of the config's model file)
              --model-claim CLAIM  the claim (default NAME-model)

            Each pod's size (requests = limits), computed from the replica counts, or [autoscale]
            cores, and the measured memory figures (README); or set:
              --cpu CORES        each pod's CPU (2, 0.5 or 500m); with [autoscale] and no
                                 `cores` in it, also the autoscaler's budget
              --extra-cpu CORES  added to the computed CPU (the stream's commands)
              --memory SIZE      each pod's memory (512Mi, 2Gi)
              --extra-memory SIZE  added to the computed memory (the stream's commands)
              --metrics-port PORT  the port /metrics and /healthz are served on in the pod
                                 (default 9464)
              --uid UID          the user and group the pods run as (default 65532)
            """,
        "rollout": """
            usage: pipeline rollout [-f FILE] [--run-dir DIR]
                                    (NEW_CONFIG_OR_MODEL [--canary P | --shadow] | --promote | --abort)

            Rolls a new model version into a running pipeline without stopping it. NEW is a
            config (.toml: its [[feature]], [model] and [output] are used; its [input] must be the
            running config's) or an ONNX model (the running config with only [model] path
            changed). It is checked as `pipeline check` does before anything changes; a bad one
            is refused and the stream goes on untouched.

            Without an option: cut-over. Every record before input line N is scored by the old
            version, every record from N on by the new one; it waits for the switch and prints N.
            --canary P   the new version scores P % of the batches (chosen by batch number, so a
                         replay scores a batch with the same version) until --promote or --abort.
            --shadow     the new version scores every batch too; its results are compared with
                         the live version's (label disagreement, largest probability difference:
                         `pipeline ps`, /metrics, events) and not written.
            --promote    the canary's or shadow's version scores every record from the next batch on.
            --abort      back to the live version alone from the next batch.

            A version is named by [model] version, else by its file's sha256 prefix; the output
            field "model_version" writes it. If replicas crash on the new version's batches more
            than restart.max times, or cannot load it, the pipeline rolls back to the previous
            version at a batch boundary, says so, and goes on. See README, "Rolling out a new model".
            """,
    ]
}
