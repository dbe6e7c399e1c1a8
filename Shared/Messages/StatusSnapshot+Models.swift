extension StatusSnapshot {
    /// The model versions and a rollout in progress: what `pipeline ps` says on its `versions:`
    /// line and `ps --json` under `models`, as values, so that `pipeline top` can say it too.
    public struct Models: Sendable, Equatable {
        /// One version the replicas hold, its role ("primary", "canary", "shadow", "loading",
        /// "previous", "retiring") and the records it scored (committed).
        public struct Version: Sendable, Equatable {
            public var id: String
            public var role: String
            public var records: UInt64

            public init(id: String, role: String, records: UInt64) {
                self.id = id
                self.role = role
                self.records = records
            }
        }

        /// The rollout step the run is in, with the new version's id.
        public enum Rollout: Sendable, Equatable {
            case steady
            /// The replicas are loading `version`, to roll it in as `mode` ("cutover", "canary", "shadow").
            case loading(version: String, mode: String)
            /// `version` scores `basisPoints` / 100 % of the batches.
            case canary(version: String, basisPoints: UInt32)
            /// `version` scores every batch too; its results are compared, not written.
            case shadow(version: String)

            /// The version being loaded, canaried or shadowed.
            public var candidate: String? {
                switch self {
                case .steady: nil
                case .loading(let v, _), .canary(let v, _), .shadow(let v): v
                }
            }
        }

        /// The versions the replicas hold, the primary first (empty: not known).
        public var versions: [Version] = []
        public var rollout = Rollout.steady
        /// The current (or last) shadow and its figures so far, from committed batches only.
        public var shadow: (version: String, stats: ShadowStats)?

        public init() {}

        /// The version batches are scored by (outside a canary's share).
        public var primary: Version? { versions.first }

        /// The records `id` scored, 0 when it holds none.
        public func records(of id: String) -> UInt64 { versions.first { $0.id == id }?.records ?? 0 }

        public static func == (a: Models, b: Models) -> Bool {
            a.versions == b.versions && a.rollout == b.rollout && a.shadow?.version == b.shadow?.version
                && a.shadow?.stats == b.shadow?.stats
        }

        func encode(into out: FrameBuffer) {
            out.append(UInt32(versions.count))
            for v in versions {
                out.append(string: v.id)
                out.append(string: v.role)
                out.append(v.records)
            }
            switch rollout {
            case .steady: out.append(UInt8(0))
            case .loading(let v, let mode):
                out.append(UInt8(1))
                out.append(string: v)
                out.append(string: mode)
            case .canary(let v, let bp):
                out.append(UInt8(2))
                out.append(string: v)
                out.append(bp)
            case .shadow(let v):
                out.append(UInt8(3))
                out.append(string: v)
            }
            out.append(UInt8(shadow == nil ? 0 : 1))
            if let shadow {
                out.append(string: shadow.version)
                shadow.stats.encode(into: out)
            }
        }

        static func decode(_ r: inout ByteReader) throws(FrameError) -> Models {
            var m = Models()
            // Each version takes at least its two string lengths and its count.
            let n = try r.readCount("status.models.count", elementSize: 16)
            for _ in 0..<n {
                m.versions.append(Version(id: try r.string("status.models.id"), role: try r.string("status.models.role"),
                                          records: try r.read(UInt64.self, "status.models.records")))
            }
            switch try r.read(UInt8.self, "status.models.rollout") {
            case 0: m.rollout = .steady
            case 1: m.rollout = .loading(version: try r.string("status.models.loading"), mode: try r.string("status.models.mode"))
            case 2:
                let v = try r.string("status.models.canary")
                let bp = try r.read(UInt32.self, "status.models.basisPoints")
                guard bp <= 10_000 else { throw .invalid(field: "status.models.basisPoints", reason: "\(bp) is over 100 %") }
                m.rollout = .canary(version: v, basisPoints: bp)
            case 3: m.rollout = .shadow(version: try r.string("status.models.shadow"))
            case let tag: throw .invalid(field: "status.models.rollout", reason: "unknown step \(tag)")
            }
            switch try r.read(UInt8.self, "status.models.hasShadow") {
            case 0: break
            case 1: m.shadow = (try r.string("status.models.shadowVersion"), try ShadowStats.decode(&r))
            case let flag: throw .invalid(field: "status.models.hasShadow", reason: "\(flag)")
            }
            return m
        }
    }
}
