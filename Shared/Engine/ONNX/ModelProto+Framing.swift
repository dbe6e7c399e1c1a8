/// Telling a file that is not an ONNX model (a text file, a pickle, an empty or truncated file)
/// from a model damaged inside: the first is said in one plain sentence, the second keeps the
/// decoder's precise message and byte offset.
extension ModelProto {
    /// The top-level fields of ModelProto (onnx.proto): their wire types and names.
    private static let topLevelFields: [Int: (wire: WireType, name: String)] = [
        1: (.varint, "ir_version"), 2: (.lengthDelimited, "producer_name"), 3: (.lengthDelimited, "producer_version"),
        4: (.lengthDelimited, "domain"), 5: (.varint, "model_version"), 6: (.lengthDelimited, "doc_string"),
        7: (.lengthDelimited, "graph"), 8: (.lengthDelimited, "opset_import"), 14: (.lengthDelimited, "metadata_props"),
        20: (.lengthDelimited, "training_info"), 25: (.lengthDelimited, "functions"),
    ]

    /// Walks the top-level fields of `bytes` without decoding them: every key must be valid, the
    /// fields ONNX defines must have their wire types, every length must fit in the file, and
    /// there must be a graph. Unknown field numbers are skipped, as protobuf requires.
    ///
    /// - Throws: `ModelError` of kind `.notAModel`, saying what the bytes look like instead
    ///   (empty, text, a pickle, an archive) or, failing that, where the framing broke.
    static func checkFraming(_ bytes: UnsafeRawBufferPointer) throws(ModelError) {
        guard !bytes.isEmpty else { throw ModelError(.notAModel, "the file is empty") }
        var reader = ProtoReader(bytes)
        var sawGraph = false
        do throws(ModelError) {
            while let key = try reader.readKey() {
                let known = topLevelFields[key.number]
                if let known, key.wireType != known.wire {
                    throw reader.malformed("field \(key.number) (\(known.name)) has wire type \(key.wireType.rawValue), "
                                           + "where ONNX has \(known.wire.rawValue)")
                }
                if key.wireType == .lengthDelimited, let known {
                    var probe = reader
                    let length = try probe.readVarint()
                    if length > UInt64(probe.remaining) {
                        // Text that happens to open like a field is still text.
                        throw ModelError(.notAModel, ForeignContent.describe(bytes)
                                         ?? "it ends at byte \(bytes.count), in the middle of its \(known.name), which needs "
                                         + "\(length) bytes from byte \(probe.position): a truncated file?", offset: probe.position)
                    }
                }
                try reader.skip(key.wireType)
                if key.number == 7 { sawGraph = true }
            }
        } catch {
            guard error.kind != .notAModel else { throw error }
            let place = error.offset.map { " at byte \($0)" } ?? ""
            throw ModelError(.notAModel, ForeignContent.describe(bytes) ?? "its protobuf encoding breaks\(place): \(error.message)",
                             offset: error.offset)
        }
        guard sawGraph else {
            throw ModelError(.notAModel, ForeignContent.describe(bytes) ?? "it has no graph")
        }
    }
}

/// What the bytes of a file that is not an ONNX model look like, when that is recognisable.
enum ForeignContent {
    /// A short description with what to do about it, or nil when the bytes look like nothing known.
    static func describe(_ bytes: UnsafeRawBufferPointer) -> String? {
        let head = Array(bytes.prefix(256))
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) {
            return "it is a Python pickle, as joblib.dump and pickle.dump write: export the model to ONNX, "
                + "e.g. with tools/export_sklearn.py"
        }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return "it is a zip archive, as torch.save writes: export the model to ONNX, e.g. with torch.onnx.export"
        }
        if head.starts(with: [0x1F, 0x8B]) { return "it is gzip-compressed: decompress it first" }
        if let text = leadingText(head) { return "it starts with text: \"\(text)\"" }
        return nil
    }

    /// The first line of `head`, up to 40 characters, when `head` is text (UTF-8 without
    /// control characters other than tab, newline and carriage return); nil otherwise.
    static func leadingText(_ head: [UInt8]) -> String? {
        var text: String?
        // A character cut by the end of the window is still text.
        for cut in 0...min(3, max(0, head.count - 1)) where text == nil {
            text = String(validating: head.dropLast(cut), as: UTF8.self)
        }
        guard let text, !text.unicodeScalars.contains(where: isControl) else { return nil }
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.contains { !$0.isWhitespace } })
        else { return nil }
        var shown = ""
        for character in line.prefix(40) {
            switch character {
            case "\\", "\"": shown += "\\" + String(character)
            case "\t": shown += " "
            default: shown.append(character)
            }
        }
        return line.count > 40 ? shown + "…" : shown
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || scalar.value == 0x7F
    }
}
