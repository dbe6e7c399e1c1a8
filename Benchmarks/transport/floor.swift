// The floor of one hop between two processes, as the pipeline must make it: a sender copies each
// frame (its own output, just written) into shared memory; the receiver copies it out into its own
// memory (it validates a private copy: a peer cannot change what was checked) and reads it once;
// credits go back over a socket. Nothing else: no framing, no decoding, no work. Prints both
// processes' CPU per byte, for each frame size given.
//
//   swiftc -O -o /tmp/floor Benchmarks/transport/floor.swift && /tmp/floor [--mb TOTAL] [FRAME_BYTES ...]
//
// Each size moves TOTAL MiB (default 2048) of frames; without sizes, tabular-mlp's five hops.
//
// (The tabular-mlp workload's frames at batch 256: source → ingest, ingest → featurize,
// featurize → infer, infer → aggregate, aggregate → sink.)
import Glibc

func cpuSeconds(_ who: __rusage_who) -> Double {
    var u = rusage()
    getrusage(who.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

/// Both processes' CPU per byte of frames of `frame` bytes.
func hop(frame: Int, totalBytes: Int, slots: Int = 8) -> Double {
    let stride = (frame + 63) & ~63
    let ring = mmap(nil, stride * slots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)!
    memset(ring, 0, stride * slots)
    var sv: [Int32] = [0, 0]
    precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv) == 0)
    let frames = totalBytes / frame
    let own = UnsafeMutableRawPointer.allocate(byteCount: stride, alignment: 64)
    memset(own, 3, frame)
    let childrenBefore = cpuSeconds(RUSAGE_CHILDREN)
    let pid = fork()
    if pid == 0 {
        var sum = 0
        var k = 0
        for _ in 0..<frames {
            _ = read(sv[1], &k, 8)
            memcpy(own, ring + (k % slots) * stride, frame)
            for j in Swift.stride(from: 0, to: frame - 7, by: 8) { sum &+= own.load(fromByteOffset: j, as: Int.self) }
            _ = write(sv[1], &k, 8)
        }
        _exit(sum == 42 ? 1 : 0)
    }
    let start = cpuSeconds(RUSAGE_SELF)
    var inFlight = 0
    var k = 0
    for i in 0..<frames {
        if inFlight == slots { _ = read(sv[0], &k, 8); inFlight -= 1 }
        for j in Swift.stride(from: 0, to: frame, by: 64) { own.storeBytes(of: UInt8(truncatingIfNeeded: i &+ j), toByteOffset: j, as: UInt8.self) }
        memcpy(ring + (i % slots) * stride, own, frame)
        var n = i
        _ = write(sv[0], &n, 8)
        inFlight += 1
    }
    while inFlight > 0 { _ = read(sv[0], &k, 8); inFlight -= 1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    guard status == 0 else { fatalError("the receiver failed (wait status \(status))") }
    let sender = cpuSeconds(RUSAGE_SELF) - start, receiver = cpuSeconds(RUSAGE_CHILDREN) - childrenBefore
    let bytes = Double(frames * frame)
    print("frame \(frame) B: sender \(ns(sender, bytes)) ns/B, receiver \(ns(receiver, bytes)) ns/B, both \(ns(sender + receiver, bytes)) ns/B")
    munmap(ring, stride * slots)
    own.deallocate()
    close(sv[0])
    close(sv[1])
    return (sender + receiver) * 1e9 / bytes
}

func ns(_ seconds: Double, _ bytes: Double) -> String { three(seconds * 1e9 / bytes) }

/// Three decimals.
func three(_ x: Double) -> String { "\((x * 1000).rounded() / 1000)" }

var arguments = Array(CommandLine.arguments.dropFirst())
var totalBytes = 2 << 30
if arguments.first == "--mb", arguments.count > 1, let mb = Int(arguments[1]), mb > 0 {
    totalBytes = mb << 20
    arguments.removeFirst(2)
}
let sizes = arguments.compactMap { Int($0) }
if !sizes.isEmpty {
    for size in sizes { _ = hop(frame: size, totalBytes: totalBytes) }
} else {
    // tabular-mlp at batch 256: each hop's frame, and its bytes per record (`up --stats`,
    // `transport`): the raw records, ingest's columns, the features, the scores, the output text.
    let hops = [("source → ingest", 230_000, 899.0), ("ingest → featurize", 133_000, 521.0), ("featurize → infer", 67_500, 264.0),
                ("infer → aggregate", 12_300, 48.0), ("aggregate → sink", 39_400, 154.0)]
    var total = 0.0
    for (name, frame, perRecord) in hops {
        let nsPerByte = hop(frame: frame, totalBytes: totalBytes)
        print("  \(name): \(Int(perRecord)) B per record → \(three(nsPerByte * perRecord / 1000)) µs")
        total += nsPerByte * perRecord / 1000
    }
    print("tabular-mlp: the five hand-offs alone cost \(three(total)) µs of CPU per record")
}
