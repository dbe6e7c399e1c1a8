/// How a feature matrix is stored.
public enum FeatureLayout: UInt8, Sendable {
    /// rows × dims Float32, row-major.
    case dense = 0
    /// Compressed sparse rows: values and column indices of the non-zeros, and row starts.
    case csr = 1
}

/// featurize → infer: the model input for a batch, read in place by the kernels.
///
/// Wire layout: the envelope (with passthrough columns), u32 rows, u32 dims, u8 layout, 3 × u8 0,
/// u32 nnz, the drift counts, then 64-byte aligned: dense rows×dims f32, or CSR values nnz f32, rowStart
/// (rows+1) u32, columns nnz u32.
public struct FeatureBatchView {
    public let envelope: EnvelopeView
    public let rows: Int
    public let dims: Int
    public let layout: FeatureLayout
    public let drift: DriftCounts
    /// Dense: rows × dims. CSR: the nnz non-zero values.
    public let values: UnsafeBufferPointer<Float>
    /// CSR only: rows + 1 offsets into `values`/`columns`.
    public let rowStart: UnsafeBufferPointer<UInt32>
    /// CSR only: the column of each non-zero.
    public let columns: UnsafeBufferPointer<UInt32>

    /// Writes a dense batch.
    public static func encodeDense(into out: FrameBuffer, sequence: UInt64, envelope: EnvelopeView,
                                   passthrough: [ColumnView], rows: Int, dims: Int,
                                   values: UnsafeBufferPointer<Float>, drift: DriftCounts, flags: FrameFlags = []) {
        precondition(values.count == rows * dims)
        out.frame(FrameHeader(kind: .features, flags: flags, rowCount: UInt32(rows), sequence: sequence)) { out in
            envelope.encode(into: out, passthrough: passthrough)
            writeShape(out, rows: rows, dims: dims, layout: .dense, nnz: rows * dims, drift: drift)
            out.pad(to: FrameHeader.alignment)
            out.append(bytes: UnsafeRawBufferPointer(values))
        }
    }

    /// Writes a CSR batch.
    public static func encodeCSR(into out: FrameBuffer, sequence: UInt64, envelope: EnvelopeView,
                                 passthrough: [ColumnView], rows: Int, dims: Int,
                                 values: UnsafeBufferPointer<Float>, rowStart: UnsafeBufferPointer<UInt32>,
                                 columns: UnsafeBufferPointer<UInt32>, drift: DriftCounts, flags: FrameFlags = []) {
        precondition(rowStart.count == rows + 1 && values.count == columns.count
                     && Int(rowStart[rows]) == values.count)
        out.frame(FrameHeader(kind: .features, flags: flags, rowCount: UInt32(rows), sequence: sequence)) { out in
            envelope.encode(into: out, passthrough: passthrough)
            writeShape(out, rows: rows, dims: dims, layout: .csr, nnz: values.count, drift: drift)
            out.pad(to: FrameHeader.alignment)
            out.append(bytes: UnsafeRawBufferPointer(values))
            out.pad(to: FrameHeader.alignment)
            out.append(bytes: UnsafeRawBufferPointer(rowStart))
            out.pad(to: FrameHeader.alignment)
            out.append(bytes: UnsafeRawBufferPointer(columns))
        }
    }

    private static func writeShape(_ out: FrameBuffer, rows: Int, dims: Int, layout: FeatureLayout, nnz: Int,
                                   drift: DriftCounts) {
        out.append(UInt32(rows))
        out.append(UInt32(dims))
        out.append(layout.rawValue)
        out.append(UInt8(0))
        out.append(UInt16(0))
        out.append(UInt32(nnz))
        drift.encode(into: out)
    }

    public static func decode(_ frame: Frame) throws(FrameError) -> FeatureBatchView {
        guard frame.header.kind == .features else { throw .unexpected(kind: frame.header.kind, context: "where features belong") }
        var r = ByteReader(payload: frame.payload)
        let envelope = try EnvelopeView.decode(&r)
        let rows = Int(try r.read(UInt32.self, "features.rows"))
        let dims = Int(try r.read(UInt32.self, "features.dims"))
        guard let layout = FeatureLayout(rawValue: try r.read(UInt8.self, "features.layout")) else {
            throw .invalid(field: "features.layout", reason: "unknown layout")
        }
        _ = try r.read(UInt8.self, "features.reserved")
        _ = try r.read(UInt16.self, "features.reserved")
        let nnz = Int(try r.read(UInt32.self, "features.nnz"))
        let drift = try DriftCounts.decode(&r)
        guard rows == Int(frame.header.rowCount), rows + envelope.rejectCount == Int(envelope.recordCount) else {
            throw .invalid(field: "features.rows", reason: "row count disagrees with the header or envelope")
        }
        for c in envelope.passthrough where c.count != rows {
            throw .invalid(field: "features.passthrough", reason: "\(counted(c.count, "value")) for \(counted(rows, "row"))")
        }
        let empty32 = UnsafeBufferPointer<UInt32>(start: nil, count: 0)
        switch layout {
        case .dense:
            // rows * dims must fit the payload: check by division, never by a multiplication that can overflow.
            guard dims == 0 || rows <= r.remaining / 4 / dims, nnz == rows * dims else {
                throw .truncated(field: "features.values")
            }
            let values = try r.array(Float.self, count: rows * dims, alignment: FrameHeader.alignment, "features.values")
            return FeatureBatchView(envelope: envelope, rows: rows, dims: dims, layout: layout, drift: drift,
                                    values: values, rowStart: empty32, columns: empty32)
        case .csr:
            let values = try r.array(Float.self, count: nnz, alignment: FrameHeader.alignment, "features.values")
            let rowStart = try r.array(UInt32.self, count: rows + 1, alignment: FrameHeader.alignment, "features.rowStart")
            let columns = try r.array(UInt32.self, count: nnz, alignment: FrameHeader.alignment, "features.columns")
            var previous: UInt32 = 0
            for s in rowStart {
                guard s >= previous, Int(s) <= nnz else { throw .invalid(field: "features.rowStart", reason: "not monotonic or past nnz") }
                previous = s
            }
            guard rowStart.first == 0, Int(previous) == nnz else {
                throw .invalid(field: "features.rowStart", reason: "must start at 0 and end at nnz")
            }
            for c in columns where Int(c) >= dims {
                throw .invalid(field: "features.columns", reason: "column \(c) outside \(dims) dims")
            }
            return FeatureBatchView(envelope: envelope, rows: rows, dims: dims, layout: layout, drift: drift,
                                    values: values, rowStart: rowStart, columns: columns)
        }
    }
}
