/// The shell script a stream pod's container runs (POSIX `sh`): the user's source command's
/// output through `pipeline up` into the sink command, over two FIFOs in the run directory's
/// volume. Not a shell pipeline (`source | pipeline up | sink`) because the pod's stop must
/// reach `pipeline up` alone: on SIGTERM it stops reading, writes every record it has read, and
/// exits; the sink then reads to the end and exits too. A shell in a pipeline, as the
/// container's first process, would ignore the signal and all three would be killed after the
/// grace period, the records in flight with them.
enum StreamScript {
    /// The environment variables holding the user's commands.
    static let sourceVariable = "SOURCE_COMMAND"
    static let sinkVariable = "SINK_COMMAND"

    /// - Parameters:
    ///   - up: `pipeline up`'s argument vector without `--input` and `--output` (the FIFOs).
    ///   - io: a directory the script may own: it is emptied and holds the two FIFOs.
    /// - Returns: the script; its exit status is `pipeline up`'s when not 0, else the sink's.
    static func text(up: [String], io: String) -> String {
        let command = (up + ["--input", "\"$io/in\"", "--output", "\"$io/out\""]).map { word in
            word.hasPrefix("\"$io/") ? word : quote(word)
        }.joined(separator: " ")
        return """
            # $SOURCE_COMMAND -> FIFO -> pipeline up -> FIFO -> $SINK_COMMAND; SIGTERM goes to pipeline up alone.
            set -u
            io=\(quote(io))
            rm -rf "$io" && mkdir -m 700 "$io" && mkfifo -m 600 "$io/in" "$io/out" || exit 9
            sh -c "$\(sourceVariable)" > "$io/in" &
            source=$!
            sh -c "$\(sinkVariable)" < "$io/out" &
            sink=$!
            \(command) &
            up=$!
            trap 'kill -TERM "$up" 2>/dev/null' TERM INT
            while :; do
              wait "$up"
              status=$?
              kill -0 "$up" 2>/dev/null || break
            done
            trap - TERM INT
            # The input is done with; a source or sink still opening its FIFO (pipeline up failed
            # before opening it) is let through: the source to a closed pipe, the sink to its end.
            kill -TERM "$source" 2>/dev/null
            exec 3<>"$io/in"; exec 3>&-
            exec 3<>"$io/out"; exec 3>&-
            wait "$sink"
            sink_status=$?
            wait "$source"
            if [ "$status" -ne 0 ]; then exit "$status"; fi
            exit "$sink_status"

            """
    }

    /// `word` as one shell word: as is when it holds only safe characters, else single-quoted.
    static func quote(_ word: String) -> String {
        let safe = !word.isEmpty && word.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "_./:=,+-@%".unicodeScalars.contains(c)
        }
        return safe ? word : "'" + word.replacingAll("'", with: "'\\''") + "'"
    }
}

extension String {
    /// Every `target` replaced by `replacement` (no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
