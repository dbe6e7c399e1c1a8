import ControlCore
import Config
import Glibc
import Messages
import PipelineSource
import PipelineSupervisor
import Runtime

/// `pipeline up`.
enum UpCommand {
    static func run(_ options: UpOptions) throws(PipelineError) -> ExitCode {
        // Started by `up -d`: our starter waits on descriptor 3 to hear where we run and when we are ready.
        let starter = options.detachedChild ? try DetachedStarter.adopt() : nil
        // Like an option, a knob set in the environment is refused when unusable, before anything is read.
        let tunables: Tunables
        do {
            tunables = try Tunables.fromEnvironment()
        } catch {
            throw PipelineError(.usage, error.description)
        }
        let file = try ConfigFile.load(options.target.configPath)
        var config = file.config
        for (name, n) in options.scales {
            let stage = try StageKind.parse(name)
            var spec = config.stage(stage)
            spec.replicas = n
            config.stages[stage] = spec
        }
        let binaries = try StageBinaries()
        if let path = options.inputPath { try redirectInput(path) }
        var split: (split: InputSplit, range: InputSplit.Range)?
        if let s = options.split, let path = options.inputPath { split = (s, try findSplit(s, of: path, format: config.input.format)) }

        let runDir = RunDirectory(path: options.target.runDirectory.map(ConfigFile.absolutePath)
                                  ?? RunDirectory.defaultPath(name: config.pipeline.name))
        do {
            // Before anything is made: a run directory whose sockets cannot exist is refused
            // without leaving it behind. Replica numbers grow with every restart: room for ten digits.
            let longest = StageKind.allCases.map(\.rawValue).max { $0.utf8.count < $1.utf8.count }!
            try runDir.checkSocketPaths(longestNode: longest, maxReplica: 9_999_999_999)
        } catch {
            throw PipelineError(.environment, "\(error)")
        }
        do {
            try runDir.prepare()
            _ = try runDir.lock()
        } catch {
            if case .alreadyRunning = error { throw PipelineError(.alreadyRunning, error.description) }
            throw PipelineError(.environment, error.description)
        }
        runDir.removeStale()
        if let starter { try starter.ranIn(runDir, name: config.pipeline.name) }
        // For `pipeline ls`, and for `ps`, `logs` and `down` run from other directories.
        try? Sys.writeFile(runDir.configRecordPath, file.path + "\n")
        // The model is checked once the run directory is ours: its weights are prepared there
        // once, for every infer replica to map. That cache is as large as the model and the run
        // directory is often a tmpfs (RAM): it lives as long as the run.
        defer { runDir.removeWeightCaches() }
        let report = try Preflight.check(config, cacheDirectory: runDir.path)
        // The model's classes, when the config leaves them to it.
        config.output = try file.checked(against: report).output
        let driftProfile = try DriftReference.load(config, outputWidth: report.outputWidth)
        config.driftPlan = driftProfile?.plan

        let cookie: String
        do {
            cookie = try Sys.randomBytes(16).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            try Sys.writeFile(runDir.cookiePath, cookie)
        } catch {
            throw PipelineError(.environment, "cannot write the run cookie: \(error)")
        }

        if let path = options.run(tunables).eventsPath {
            // Opened again (and emptied) by the event log; here, to name the flag if it cannot be.
            do {
                Sys.close(try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644))
            } catch {
                throw PipelineError(.usage, "cannot open --events file \(options.eventsPath ?? path): \(error)")
            }
        }
        var errorsFD: Int32 = 2
        if let path = options.errorsPath {
            do {
                errorsFD = try Sys.open(ConfigFile.absolutePath(path), O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            } catch {
                throw PipelineError(.usage, "cannot open --errors file \(path): \(error)")
            }
        }

        // Created (or truncated) only now that the run will start.
        if let path = options.outputPath { try redirectOutput(path) }

        // A closed reader (EPIPE) and a file-size limit (EFBIG, `ulimit -f`) become write errors
        // the run reports, not signals that kill it.
        Sys.ignoreSignal(SIGPIPE)
        Sys.ignoreSignal(SIGXFSZ)
        let signalFD: Int32
        do {
            signalFD = try SignalPipe.install([SIGINT, SIGTERM, SIGHUP, SIGCHLD])
        } catch {
            throw PipelineError(.internalError, "cannot install signal handlers: \(error)")
        }
        Log.prefix = "pipeline"
        // Which build of the stages an installed pipeline starts (said in `ps` and the event log too).
        if binaries.level != nil { Log.info("stage binaries: \(binaries.summary)") }
        var metricsServer: HTTPServer?
        if let address = options.metricsAddress ?? config.metrics.listen {
            do {
                metricsServer = try HTTPServer(address: address)
            } catch {
                // The shape was checked where the address was written; what is left is the kernel's word.
                if case .cannotListen = error { throw PipelineError(.environment, "metrics: \(error)") }
                throw PipelineError(options.metricsAddress == nil ? .config : .usage, "metrics: \(error)")
            }
            Log.info("metrics on http://\(metricsServer!.boundAddress)/metrics (health: /healthz)")
        }
        var runOptions = options.run(tunables)
        runOptions.split = split
        let supervisor: Supervisor
        do {
            supervisor = try Supervisor(config: config, configPath: file.path, configText: file.text, runDir: runDir,
                                        options: runOptions, binaries: binaries, cookie: cookie, signalFD: signalFD,
                                        errorsFD: errorsFD, csvHeader: try report.csvHeader(config),
                                        metricsServer: metricsServer, driftProfile: driftProfile)
        } catch let e as UnixSocket.PathTooLong {
            throw PipelineError(.environment, e.description)
        } catch {
            throw PipelineError(.environment, "cannot start: \(error)")
        }
        if let starter { supervisor.onReady = starter.ready }
        return supervisor.run()
    }

    /// `--input FILE` becomes stdin. A FIFO is opened without waiting for a writer (O_NONBLOCK:
    /// the source reads only what poll says is there): its reading starts when one comes, and
    /// the input ends when the last writer closes it.
    static func redirectInput(_ path: String) throws(PipelineError) {
        let fd: Int32
        do {
            fd = try Sys.open(ConfigFile.absolutePath(path), O_RDONLY | O_NONBLOCK)
        } catch {
            throw PipelineError(.io, "cannot open --input \(path): \(error.reason)")
        }
        defer { Sys.close(fd) }
        if let st = try? Sys.fileStatus(fd), st.st_mode & S_IFMT == S_IFDIR {
            throw PipelineError(.io, "cannot read --input \(path): it is a directory")
        }
        do {
            try Sys.duplicate(fd, onto: 0)
        } catch {
            throw PipelineError(.io, "cannot use --input \(path): \(error.reason)")
        }
    }

    /// Where split `split` of the `--input` file (now stdin) lies; stdin is moved to its start.
    static func findSplit(_ split: InputSplit, of path: String, format: InputFormat) throws(PipelineError) -> InputSplit.Range {
        guard let size = Sys.regularFileSize(0) else {
            throw PipelineError(.usage, "pipeline up: --split needs --input to be a regular file (a byte range of it is read); \(path) is not")
        }
        do {
            let range = try split.range(in: 0, size: size, format: format)
            try Sys.seek(0, Int64(range.start), SEEK_SET)
            return range
        } catch {
            throw PipelineError(.io, "cannot read --input \(path) to find split \(split): \(error.reason)")
        }
    }

    /// `--output FILE`, created or truncated, becomes stdout.
    static func redirectOutput(_ path: String) throws(PipelineError) {
        do {
            let fd = try Sys.open(ConfigFile.absolutePath(path), O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            defer { Sys.close(fd) }
            try Sys.duplicate(fd, onto: 1)
        } catch {
            throw PipelineError(.io, "cannot open --output \(path): \(error.reason)")
        }
    }
}

extension UpOptions {
    /// What the supervisor needs of the command line, paths made absolute, and of the environment.
    func run(_ tunables: Tunables) -> RunOptions {
        var r = RunOptions()
        r.tunables = tunables
        r.scales = scales
        r.errorsName = errorsPath ?? "stderr"
        r.inputName = inputPath ?? "stdin"
        r.eventsPath = eventsPath.map(ConfigFile.absolutePath)
        r.statsPath = statsPath.map(ConfigFile.absolutePath)
        r.progress = progress
        r.autoscale = autoscale
        return r
    }
}
