/// What the drift watch counts, sent to every replica with its config: the reference profile's
/// bins without their reference counts.
///
/// Each watched field has slots, and each accepted record adds 1 to exactly one slot per field:
/// - `numeric` (int and float fields; the model's score): bin i holds the values with i edges
///   at or below them (`np.searchsorted(edges, v, side="right")`), then one slot for missing
///   values (an optional field absent or null, or NaN): `edges.count + 2` slots.
/// - `textLength`: the same over the value's length in UTF-8 bytes.
/// - `categorical` (strings; bools as "false"/"true"; the predicted label): one slot per value
///   (matched byte for byte), then "other", then missing: `values.count + 2` slots.
///
/// The input fields' slots come first (counted by featurize), then the predictions' (`label`,
/// then `score`, counted by aggregate).
public struct DriftPlan: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case numeric = 0, categorical = 1, textLength = 2

        /// The name the profile and the README use.
        public var name: String {
            switch self {
            case .numeric: "numeric"
            case .categorical: "categorical"
            case .textLength: "text_length"
            }
        }
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var kind: Kind
        /// Bin edges, strictly increasing and finite (numeric, textLength).
        public var edges: [Double]
        /// The values with a slot of their own (categorical).
        public var values: [String]

        public init(name: String, kind: Kind, edges: [Double] = [], values: [String] = []) {
            self.name = name
            self.kind = kind
            self.edges = edges
            self.values = values
        }

        public var slotCount: Int { kind == .categorical ? values.count + 2 : edges.count + 2 }
        /// The slot of a missing value (the last).
        public var missingSlot: Int { slotCount - 1 }
        /// The slot of a categorical value outside `values`.
        public var otherSlot: Int { values.count }

        /// The slot of a numeric value (NaN: missing).
        @inlinable
        public func slot(of value: Double) -> Int {
            guard !value.isNaN else { return edges.count + 1 }
            // Branch-free binary search for the number of edges <= value.
            var low = 0, count = edges.count
            edges.withUnsafeBufferPointer { e in
                while count > 0 {
                    let half = count / 2
                    let go = e[low + half] <= value
                    low = go ? low + half + 1 : low
                    count = go ? count - half - 1 : half
                }
            }
            return low
        }
    }

    /// Input fields, counted by featurize.
    public var fields: [Field]
    /// The predictions (`label`, `score`), counted by aggregate.
    public var predictions: [Field]

    public init(fields: [Field], predictions: [Field]) {
        self.fields = fields
        self.predictions = predictions
    }

    public var inputSlotCount: Int { fields.reduce(0) { $0 + $1.slotCount } }
    public var predictionSlotCount: Int { predictions.reduce(0) { $0 + $1.slotCount } }
    public var slotCount: Int { inputSlotCount + predictionSlotCount }

    /// Wire layout: u32 fields, u32 predictions, then each field: string name, u8 kind, u32 n,
    /// n × f64 edges or n strings.
    public func encode(into out: FrameBuffer) {
        out.append(UInt32(fields.count))
        out.append(UInt32(predictions.count))
        for f in fields + predictions {
            out.append(string: f.name)
            out.append(f.kind.rawValue)
            if f.kind == .categorical {
                out.append(UInt32(f.values.count))
                for v in f.values { out.append(string: v) }
            } else {
                out.append(UInt32(f.edges.count))
                for e in f.edges { out.append(e) }
            }
        }
    }

    public static func decode(_ r: inout ByteReader) throws(FrameError) -> DriftPlan {
        // Each field takes at least 9 bytes (an empty name, a kind, a count).
        let fieldCount = try r.readCount("drift.fields", elementSize: 9)
        let predictionCount = try r.readCount("drift.predictions", elementSize: 9)
        var all: [Field] = []
        for _ in 0..<(fieldCount + predictionCount) {
            let name = try r.string("drift.name")
            guard let kind = Kind(rawValue: try r.read(UInt8.self, "drift.kind")) else {
                throw .invalid(field: "drift.kind", reason: "unknown kind")
            }
            var field = Field(name: name, kind: kind)
            if kind == .categorical {
                let n = try r.readCount("drift.values", elementSize: 4)
                for _ in 0..<n { field.values.append(try r.string("drift.value")) }
            } else {
                let n = try r.readCount("drift.edges", elementSize: 8)
                for _ in 0..<n { field.edges.append(try r.readDouble("drift.edge")) }
                for (a, b) in zip(field.edges, field.edges.dropFirst()) where !(a < b) {
                    throw .invalid(field: "drift.edges", reason: "edges of \(name) are not increasing")
                }
                guard field.edges.allSatisfy(\.isFinite) else {
                    throw .invalid(field: "drift.edges", reason: "edges of \(name) are not finite")
                }
            }
            all.append(field)
        }
        let plan = DriftPlan(fields: Array(all.prefix(fieldCount)), predictions: Array(all.dropFirst(fieldCount)))
        guard plan.slotCount <= DriftCounts.maxSlots else {
            throw .invalid(field: "drift", reason: "\(plan.slotCount) slots > \(DriftCounts.maxSlots)")
        }
        return plan
    }
}

extension DriftPlan.Field {
    /// Counts `rows` Float64 values (8-byte aligned, read unaligned) into their bins: the number
    /// of edges at or below each value (`DriftPlan.Field.slot(of:)`), NaN in `missingSlot`.
    ///
    /// No value is placed one by one: with the edges increasing, the values at or above edge j
    /// are those of bins j and up, so bin j holds (at or above edge j) − (at or above edge j+1).
    /// Each of those counts is a sum of compares over the column, a plain loop LLVM vectorizes
    /// (eight values per instruction with AVX-512); NaN compares false everywhere and is what
    /// the non-NaN count leaves out. (Swift's SIMD comparisons of floating-point vectors compiled
    /// to a loop over the lanes here, and placing each value costs a dependent store: perf.)
    /// - Parameter mayHoldNaN: false when no value can be NaN (a float column read from JSON or
    ///   CSV without missing values: neither spells NaN), which saves the pass that counts them.
    public static func bin(_ values: UnsafeRawPointer, rows: Int, edges: UnsafeBufferPointer<Double>,
                           into counts: UnsafeMutablePointer<UInt32>, missingSlot: Int, mayHoldNaN: Bool = true) {
        // Wrapping arithmetic only: a trapping `row * 8` keeps LLVM from vectorizing the loops.
        var numbers = rows
        var row = 0
        if mayHoldNaN {
            numbers = 0
            while row < rows {
                let x = values.loadUnaligned(fromByteOffset: row &<< 3, as: Double.self)
                numbers &+= x == x ? 1 : 0
                row &+= 1
            }
        }
        var below = numbers  // values at or above the previous edge (all numbers before the first)
        var j = 0
        while j < edges.count {
            let edge = edges[j]
            var above = 0
            row = 0
            while row < rows {
                above &+= values.loadUnaligned(fromByteOffset: row &<< 3, as: Double.self) >= edge ? 1 : 0
                row &+= 1
            }
            counts[j] &+= UInt32(truncatingIfNeeded: below &- above)
            below = above
            j &+= 1
        }
        counts[edges.count] &+= UInt32(truncatingIfNeeded: below)
        counts[missingSlot] &+= UInt32(truncatingIfNeeded: rows - numbers)
    }
}
