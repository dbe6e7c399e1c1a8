/// Decides which buffer every value lives in.
///
/// Values are grouped into classes that share one buffer: an elementwise step whose input dies
/// at that step writes its output over the input (in place). The input's class is the caller's
/// input buffer (read-only: nothing is ever written in place over it), the output's class the
/// caller's output buffer, and every other class gets a workspace slot, reused once the class's
/// last reader has run (greedy interval allocation in step order).
struct BufferAssignment {
    private var parent: [Int]
    private var slotOfClass: [Int: Int] = [:]
    private var classWidths: [Int: Int] = [:]
    private var slotClasses: [[Int]] = [[], []]
    private let inputClass: Int
    private let outputClass: Int

    init(nodes: [LoweredNode], valueCount: Int, input: Int, output: Int) {
        parent = Array(0..<valueCount)
        var lastRead = [Int](repeating: -1, count: valueCount)
        for (index, node) in nodes.enumerated() { for v in node.inputs { lastRead[v] = index } }
        var classLast = lastRead
        var classDef: [Int: Int] = [:]
        for (index, node) in nodes.enumerated() {
            if Step.canRunInPlace(node.op), let first = node.inputs.first {
                let c = Self.find(&parent, first)
                if c != Self.find(&parent, input), classLast[c] == index {
                    parent[node.output] = c
                    classLast[c] = max(index, lastRead[node.output])
                    continue
                }
            }
            classDef[node.output] = index
            classLast[node.output] = max(index, lastRead[node.output])
        }
        inputClass = Self.find(&parent, input)
        outputClass = Self.find(&parent, output)

        // Greedy: classes in definition order take a slot whose classes are all dead by then.
        var slotLast: [Int] = [-1, -1]
        for (c, def) in classDef.sorted(by: { $0.value < $1.value }) where c != inputClass && c != outputClass {
            let free = (2..<slotLast.count).first { slotLast[$0] < def }
            let slot = free ?? slotLast.count
            if free == nil {
                slotLast.append(-1)
                slotClasses.append([])
            }
            slotLast[slot] = classLast[c]
            slotOfClass[c] = slot
            slotClasses[slot].append(c)
        }
    }

    private static func find(_ parent: inout [Int], _ v: Int) -> Int {
        var r = v
        while parent[r] != r { r = parent[r] }
        var x = v
        while parent[x] != r {
            let next = parent[x]
            parent[x] = r
            x = next
        }
        return r
    }

    func slot(_ value: Int) -> Int {
        var r = value
        while parent[r] != r { r = parent[r] }
        if r == inputClass { return Step.inputSlot }
        if r == outputClass { return Step.outputSlot }
        // Every class a step writes was either pinned above or given a slot in init.
        guard let slot = slotOfClass[r] else { preconditionFailure("value \(value) has no buffer") }
        return slot
    }

    /// Floats per batch item each slot must hold: the widest class assigned to it.
    func slotWidths(_ width: (Int) -> Int) -> [Int] {
        slotClasses.map { classes in classes.map(width).max() ?? 0 }
    }
}
